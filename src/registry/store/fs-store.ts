/**
 * `FsRegistryStore`: the registry's filesystem backend under one root directory (layout in
 * fs-paths.ts). Every visible change is a single `rename` or file creation, ordered so that no
 * reader can see a reference to something not yet stored:
 *
 * - blob: bytes verified in `uploads/`, (flushed when `sync`), renamed into `blobs/`, then linked;
 * - manifest: bytes written as a blob, then the revision link, the referrers entry, then tags;
 * - delete: tags first, then the referrers entry, then the revision link.
 *
 * It does not delete blob bytes on DELETE; `gc` does that (distribution's model).
 *
 * Example:
 *   const store = new FsRegistryStore({ root: '/var/lib/vouch/registry' });
 *   const s = await store.createUpload('library/app');
 *   await store.appendUpload('library/app', s.id, 0, req);
 *   await store.commitUpload('library/app', s.id, digest);
 */
import { open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { StateError } from '../../errors/index.ts';
import { join } from 'node:path';
import { registryError } from '../errors.ts';
import { isDigestAlgorithm, parseDigest, type Digest } from '../names.ts';
import { copyFileRange } from './buffers.ts';
import { asciiSort } from './common.ts';
import { FsPaths } from './fs-paths.ts';
import { FsUploads } from './fs-uploads.ts';
import { exists, fileStat, isNotFound, listDir, listSubdirs, readIfExists, removeFile, renameInto, touch, writeAtomic } from './fs-util.ts';
import type {
  AppendOptions,
  BlobEntry,
  ManifestInfo,
  OpenBlob,
  PutManifestInput,
  ReferrerDescriptor,
  RegistryStore,
  StoredManifest,
  UploadSession,
} from './types.ts';

export interface FsRegistryStoreOptions {
  readonly root: string;
  /**
   * Flush blob and manifest bytes to disk before they become visible (default true), so that a
   * power loss cannot leave a visible blob with missing bytes. `false` keeps only the
   * crash-of-the-process guarantee.
   */
  readonly sync?: boolean;
}

interface RevisionRecord {
  readonly mediaType: string;
  readonly size: number;
  readonly subject?: string;
}

export class FsRegistryStore implements RegistryStore {
  readonly paths: FsPaths;
  readonly #sync: boolean;
  readonly #uploads: FsUploads;

  constructor(opts: FsRegistryStoreOptions) {
    this.paths = new FsPaths(opts.root);
    this.#sync = opts.sync ?? true;
    this.#uploads = new FsUploads(this.paths, this.#sync);
  }

  // --- blobs ---

  async statBlob(digest: Digest): Promise<number | null> {
    return (await fileStat(this.paths.blob(digest)))?.size ?? null;
  }

  async openBlob(digest: Digest): Promise<OpenBlob | null> {
    let fh: FileHandle;
    try {
      fh = await open(this.paths.blob(digest), 'r');
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    const { size } = await fh.stat();
    let used = false;
    const claim = (): void => {
      if (used) throw new StateError('an OpenBlob is read once');
      used = true;
    };
    return {
      size,
      stream: (start = 0, end = size - 1) => {
        claim();
        // autoClose: the stream closes the handle when it ends, fails or is destroyed.
        return fh.createReadStream({ start, end: Math.max(end, start - 1), highWaterMark: 1 << 20, autoClose: true });
      },
      copyTo: async (out, start = 0, end = size - 1) => {
        claim();
        try {
          await copyFileRange(fh, start, end, out);
        } finally {
          await fh.close();
        }
      },
      close: async () => {
        if (used) return;
        used = true;
        await fh.close();
      },
    };
  }

  async *listBlobs(): AsyncIterable<BlobEntry> {
    for (const alg of await listSubdirs(this.paths.blobsDir)) {
      if (!isDigestAlgorithm(alg)) continue;
      for (const prefix of await listSubdirs(join(this.paths.blobsDir, alg))) {
        for (const hex of await listDir(join(this.paths.blobsDir, alg, prefix))) {
          const digest = parseDigest(`${alg}:${hex}`);
          if (digest === null) continue;
          const st = await fileStat(this.paths.blob(digest));
          if (st !== null) yield { digest, size: st.size, modifiedAt: st.mtime };
        }
      }
    }
  }

  deleteBlob(digest: Digest): Promise<boolean> {
    return removeFile(this.paths.blob(digest));
  }

  // --- links ---

  async hasBlob(repo: string, digest: Digest): Promise<boolean> {
    const linked = (await exists(this.paths.layerLink(repo, digest))) || (await exists(this.paths.revision(repo, digest)));
    return linked && (await this.statBlob(digest)) !== null;
  }

  async linkBlob(repo: string, digest: Digest): Promise<void> {
    if ((await this.statBlob(digest)) === null) throw registryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
    await touch(this.paths.layerLink(repo, digest));
  }

  unlinkBlob(repo: string, digest: Digest): Promise<boolean> {
    return removeFile(this.paths.layerLink(repo, digest));
  }

  listBlobLinks(repo: string): Promise<Digest[]> {
    return listDigests(this.paths.layersDir(repo));
  }

  // --- uploads ---

  createUpload(repo: string): Promise<UploadSession> {
    return this.#uploads.create(repo);
  }

  getUpload(repo: string, id: string): Promise<UploadSession | null> {
    return this.#uploads.get(repo, id);
  }

  appendUpload(repo: string, id: string, offset: number, source: AsyncIterable<Uint8Array>, opts?: AppendOptions): Promise<number> {
    return this.#uploads.append(repo, id, offset, source, opts);
  }

  commitUpload(repo: string, id: string, digest: Digest): Promise<{ size: number }> {
    return this.#uploads.commit(repo, id, digest, async (data, d) => {
      const target = this.paths.blob(d);
      if ((await fileStat(target)) === null) await renameInto(data, target);
      await touch(this.paths.layerLink(repo, d));
    });
  }

  cancelUpload(repo: string, id: string): Promise<boolean> {
    return this.#uploads.cancel(repo, id);
  }

  listUploads(): Promise<UploadSession[]> {
    return this.#uploads.list();
  }

  /** Remove an upload session whatever its repository (gc of abandoned sessions). */
  purgeUpload(id: string): Promise<void> {
    return this.#uploads.purge(id);
  }

  /** Remove leftovers of interrupted atomic writes older than `before` (gc). */
  async purgeTmp(before: Date): Promise<number> {
    let n = 0;
    for (const name of await listDir(this.paths.tmpDir)) {
      const st = await fileStat(join(this.paths.tmpDir, name));
      if (st !== null && st.mtime < before) {
        await rm(join(this.paths.tmpDir, name), { force: true });
        n++;
      }
    }
    return n;
  }

  // --- manifests and tags ---

  async putManifest(repo: string, m: PutManifestInput, tags: readonly string[]): Promise<void> {
    const blob = this.paths.blob(m.digest);
    if ((await fileStat(blob)) === null) await writeAtomic(this.paths.tmpDir, blob, m.bytes, this.#sync);
    const record: RevisionRecord = { mediaType: m.mediaType, size: m.bytes.byteLength, ...(m.referrer === undefined ? {} : { subject: m.referrer.subject }) };
    await writeAtomic(this.paths.tmpDir, this.paths.revision(repo, m.digest), JSON.stringify(record), false);
    if (m.referrer !== undefined) {
      const file = this.paths.referrer(repo, m.referrer.subject, m.digest);
      await writeAtomic(this.paths.tmpDir, file, JSON.stringify(m.referrer.descriptor), false);
    }
    for (const tag of tags) await writeAtomic(this.paths.tmpDir, this.paths.tag(repo, tag), m.digest, false);
  }

  async getManifest(repo: string, digest: Digest): Promise<StoredManifest | null> {
    const info = await this.statManifest(repo, digest);
    if (info === null) return null;
    const bytes = await readIfExists(this.paths.blob(digest));
    return bytes === null ? null : { digest, mediaType: info.mediaType, bytes };
  }

  async statManifest(repo: string, digest: Digest): Promise<ManifestInfo | null> {
    const file = this.paths.revision(repo, digest);
    const raw = await readIfExists(file);
    if (raw === null) return null;
    const rec = parseRevision(raw);
    const st = await fileStat(file);
    if (rec === null || st === null) return null;
    const subject = rec.subject === undefined ? null : parseDigest(rec.subject);
    return { digest, mediaType: rec.mediaType, size: rec.size, ...(subject === null ? {} : { subject }), createdAt: st.mtime };
  }

  async listManifests(repo: string): Promise<ManifestInfo[]> {
    const out: ManifestInfo[] = [];
    for (const d of await listDigests(this.paths.revisionsDir(repo))) {
      const info = await this.statManifest(repo, d);
      if (info !== null) out.push(info);
    }
    return out;
  }

  async deleteManifest(repo: string, digest: Digest): Promise<boolean> {
    const info = await this.statManifest(repo, digest);
    if (info === null) return false;
    for (const [tag, target] of await this.listTagTargets(repo)) {
      if (target === digest) await removeFile(this.paths.tag(repo, tag));
    }
    if (info.subject !== undefined) await removeFile(this.paths.referrer(repo, info.subject, digest));
    return removeFile(this.paths.revision(repo, digest));
  }

  async resolveTag(repo: string, tag: string): Promise<Digest | null> {
    const raw = await readIfExists(this.paths.tag(repo, tag));
    return raw === null ? null : parseDigest(raw.toString('utf8').trim());
  }

  async listTags(repo: string): Promise<string[] | null> {
    if (!(await this.repositoryExists(repo))) return null;
    return asciiSort(await listDir(this.paths.tagsDir(repo)));
  }

  async listTagTargets(repo: string): Promise<Map<string, Digest>> {
    const out = new Map<string, Digest>();
    for (const tag of await listDir(this.paths.tagsDir(repo))) {
      const d = await this.resolveTag(repo, tag);
      if (d !== null) out.set(tag, d);
    }
    return out;
  }

  deleteTag(repo: string, tag: string): Promise<boolean> {
    return removeFile(this.paths.tag(repo, tag));
  }

  async listReferrers(repo: string, subject: Digest): Promise<ReferrerDescriptor[]> {
    const dir = this.paths.referrersOf(repo, subject);
    const out: ReferrerDescriptor[] = [];
    for (const d of await listDigests(dir)) {
      const raw = await readIfExists(this.paths.referrer(repo, subject, d));
      if (raw === null) continue;
      try {
        out.push(JSON.parse(raw.toString('utf8')) as ReferrerDescriptor);
      } catch {
        // an unreadable entry is skipped; gc rewrites nothing, the manifest stays listed by digest
      }
    }
    return out;
  }

  // --- repositories ---

  async repositoryExists(repo: string): Promise<boolean> {
    const dir = this.paths.repo(repo);
    return (await exists(join(dir, '_manifests'))) || (await exists(join(dir, '_layers')));
  }

  async listRepositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      const names = entries.filter((e) => e.isDirectory()).map((e) => e.name);
      if (prefix !== '' && (names.includes('_manifests') || names.includes('_layers'))) out.push(prefix);
      for (const n of names) if (!n.startsWith('_')) await walk(join(dir, n), prefix === '' ? n : `${prefix}/${n}`);
    };
    await walk(this.paths.reposDir, '');
    return asciiSort(out);
  }
}

/** Digests stored as `<dir>/<alg>/<hex>`. */
async function listDigests(dir: string): Promise<Digest[]> {
  const out: Digest[] = [];
  for (const alg of await listSubdirs(dir)) {
    for (const hex of await listDir(join(dir, alg))) {
      const d = parseDigest(`${alg}:${hex}`);
      if (d !== null) out.push(d);
    }
  }
  return out;
}

function parseRevision(raw: Buffer): RevisionRecord | null {
  try {
    const v = JSON.parse(raw.toString('utf8')) as Partial<RevisionRecord>;
    if (typeof v.mediaType !== 'string' || typeof v.size !== 'number') return null;
    return { mediaType: v.mediaType, size: v.size, ...(typeof v.subject === 'string' ? { subject: v.subject } : {}) };
  } catch {
    return null;
  }
}
