/**
 * The filesystem backend's on-disk layout, in one place (distribution's `storage/paths.go`).
 *
 *   <root>/blobs/<alg>/<hex[0:2]>/<hex>                         blob bytes, renamed in once verified
 *   <root>/uploads/<id>/data                                    bytes of an upload session so far
 *   <root>/uploads/<id>/info.json                               {"repo","startedAt"}
 *   <root>/repositories/<name>/_layers/<alg>/<hex>              empty file: <name> may serve the blob
 *   <root>/repositories/<name>/_manifests/revisions/<alg>/<hex> {"mediaType","size","subject"?}
 *   <root>/repositories/<name>/_manifests/tags/<tag>            the tag's digest, as text
 *   <root>/repositories/<name>/_referrers/<alg>/<hex>/<alg>/<hex>
 *                                                               referrer descriptor JSON, by subject
 *   <root>/tmp/<random>                                         staging for atomic replace-by-rename
 *
 * Repository components never start with `_` (names.ts), so `_layers` and friends cannot clash
 * with a nested repository. Everything lives on one filesystem so `rename` is atomic.
 */
import { join } from 'node:path';
import { digestAlgorithm, digestHex, type Digest } from '../names.ts';

export class FsPaths {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }
  get blobsDir(): string {
    return join(this.root, 'blobs');
  }
  get uploadsDir(): string {
    return join(this.root, 'uploads');
  }
  get reposDir(): string {
    return join(this.root, 'repositories');
  }
  get tmpDir(): string {
    return join(this.root, 'tmp');
  }
  blob(d: Digest): string {
    const hex = digestHex(d);
    return join(this.root, 'blobs', digestAlgorithm(d), hex.slice(0, 2), hex);
  }
  uploadDir(id: string): string {
    return join(this.root, 'uploads', id);
  }
  uploadData(id: string): string {
    return join(this.root, 'uploads', id, 'data');
  }
  uploadInfo(id: string): string {
    return join(this.root, 'uploads', id, 'info.json');
  }
  repo(name: string): string {
    return join(this.root, 'repositories', ...name.split('/'));
  }
  layersDir(name: string): string {
    return join(this.repo(name), '_layers');
  }
  layerLink(name: string, d: Digest): string {
    return join(this.repo(name), '_layers', digestAlgorithm(d), digestHex(d));
  }
  revisionsDir(name: string): string {
    return join(this.repo(name), '_manifests', 'revisions');
  }
  revision(name: string, d: Digest): string {
    return join(this.repo(name), '_manifests', 'revisions', digestAlgorithm(d), digestHex(d));
  }
  tagsDir(name: string): string {
    return join(this.repo(name), '_manifests', 'tags');
  }
  tag(name: string, tag: string): string {
    return join(this.repo(name), '_manifests', 'tags', tag);
  }
  referrersOf(name: string, subject: Digest): string {
    return join(this.repo(name), '_referrers', digestAlgorithm(subject), digestHex(subject));
  }
  referrer(name: string, subject: Digest, d: Digest): string {
    return join(this.referrersOf(name, subject), digestAlgorithm(d), digestHex(d));
  }
}
