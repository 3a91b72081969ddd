/**
 * `MemoryRegistryStore`: the reference implementation of `RegistryStore` (types.ts), kept as
 * plain maps so the contracts are easy to read. It holds blob bytes in memory, so it is for
 * tests and small experiments only; the filesystem store is the one that streams.
 */
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { registryError } from '../errors.ts';
import { digestAlgorithm, digestOf, type Digest } from '../names.ts';
import { asciiSort, rangeNotSatisfiable } from './common.ts';
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

interface MemRepo {
  readonly layers: Set<Digest>;
  readonly revisions: Map<Digest, { mediaType: string; size: number; subject?: Digest; createdAt: Date }>;
  readonly tags: Map<string, Digest>;
  /** subject → referrer digest → descriptor */
  readonly referrers: Map<Digest, Map<Digest, ReferrerDescriptor>>;
}

interface MemUpload {
  readonly repo: string;
  readonly startedAt: Date;
  chunks: Buffer[];
  size: number;
  busy: boolean;
}

export class MemoryRegistryStore implements RegistryStore {
  readonly #blobs = new Map<Digest, { bytes: Buffer; modifiedAt: Date }>();
  readonly #repos = new Map<string, MemRepo>();
  readonly #uploads = new Map<string, MemUpload>();

  #repo(name: string): MemRepo {
    let r = this.#repos.get(name);
    if (r === undefined) {
      r = { layers: new Set(), revisions: new Map(), tags: new Map(), referrers: new Map() };
      this.#repos.set(name, r);
    }
    return r;
  }

  async statBlob(digest: Digest): Promise<number | null> {
    return this.#blobs.get(digest)?.bytes.byteLength ?? null;
  }

  async openBlob(digest: Digest): Promise<OpenBlob | null> {
    const b = this.#blobs.get(digest);
    if (b === undefined) return null;
    const bytes = b.bytes;
    return {
      size: bytes.byteLength,
      stream: (start = 0, end = bytes.byteLength - 1) => Readable.from([bytes.subarray(start, end + 1)]),
      copyTo: (out, start = 0, end = bytes.byteLength - 1) =>
        new Promise<void>((resolve, reject) => out.write(bytes.subarray(start, end + 1), (err) => (err ? reject(err) : resolve()))),
      close: async () => {},
    };
  }

  async *listBlobs(): AsyncIterable<BlobEntry> {
    for (const [digest, b] of [...this.#blobs]) yield { digest, size: b.bytes.byteLength, modifiedAt: b.modifiedAt };
  }

  async deleteBlob(digest: Digest): Promise<boolean> {
    return this.#blobs.delete(digest);
  }

  async hasBlob(repo: string, digest: Digest): Promise<boolean> {
    const r = this.#repos.get(repo);
    return r !== undefined && (r.layers.has(digest) || r.revisions.has(digest)) && this.#blobs.has(digest);
  }

  async linkBlob(repo: string, digest: Digest): Promise<void> {
    if (!this.#blobs.has(digest)) throw registryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
    this.#repo(repo).layers.add(digest);
  }

  async unlinkBlob(repo: string, digest: Digest): Promise<boolean> {
    return this.#repos.get(repo)?.layers.delete(digest) ?? false;
  }

  async listBlobLinks(repo: string): Promise<Digest[]> {
    return [...(this.#repos.get(repo)?.layers ?? [])];
  }

  async createUpload(repo: string): Promise<UploadSession> {
    const id = randomUUID();
    const startedAt = new Date();
    this.#uploads.set(id, { repo, startedAt, chunks: [], size: 0, busy: false });
    return { id, repo, size: 0, startedAt };
  }

  async getUpload(repo: string, id: string): Promise<UploadSession | null> {
    const u = this.#uploads.get(id);
    return u === undefined || u.repo !== repo ? null : { id, repo, size: u.size, startedAt: u.startedAt };
  }

  async appendUpload(repo: string, id: string, offset: number, source: AsyncIterable<Uint8Array>, opts: AppendOptions = {}): Promise<number> {
    const u = this.#claim(repo, id);
    try {
      if (offset !== u.size) throw rangeNotSatisfiable(u.size);
      const got: Buffer[] = [];
      let n = 0;
      for await (const chunk of source) {
        n += chunk.byteLength;
        if (opts.expectedLength !== undefined && n > opts.expectedLength) throw registryError('SIZE_INVALID', 'more bytes than Content-Length');
        if (opts.maxSize !== undefined && offset + n > opts.maxSize) throw registryError('SIZE_INVALID', 'upload exceeds the size limit', { status: 413 });
        opts.onChunk?.(chunk.byteLength);
        got.push(Buffer.from(chunk));
      }
      if (opts.expectedLength !== undefined && n !== opts.expectedLength) throw registryError('SIZE_INVALID', 'fewer bytes than Content-Length');
      u.chunks.push(...got);
      u.size += n;
      return u.size;
    } finally {
      u.busy = false;
    }
  }

  async commitUpload(repo: string, id: string, digest: Digest): Promise<{ size: number }> {
    const u = this.#claim(repo, id);
    try {
      const bytes = Buffer.concat(u.chunks);
      const actual = digestOf(bytes, digestAlgorithm(digest));
      this.#uploads.delete(id);
      if (actual !== digest) throw registryError('DIGEST_INVALID', 'provided digest did not match uploaded content', { detail: { digest, actual } });
      if (!this.#blobs.has(digest)) this.#blobs.set(digest, { bytes, modifiedAt: new Date() });
      this.#repo(repo).layers.add(digest);
      return { size: bytes.byteLength };
    } finally {
      u.busy = false;
    }
  }

  async cancelUpload(repo: string, id: string): Promise<boolean> {
    const u = this.#uploads.get(id);
    if (u === undefined || u.repo !== repo) return false;
    if (u.busy) throw registryError('TOOMANYREQUESTS', 'another request is using this upload session');
    return this.#uploads.delete(id);
  }

  async listUploads(): Promise<UploadSession[]> {
    return [...this.#uploads].map(([id, u]) => ({ id, repo: u.repo, size: u.size, startedAt: u.startedAt }));
  }

  #claim(repo: string, id: string): MemUpload {
    const u = this.#uploads.get(id);
    if (u === undefined || u.repo !== repo) throw registryError('BLOB_UPLOAD_UNKNOWN');
    if (u.busy) throw registryError('TOOMANYREQUESTS', 'another request is using this upload session');
    u.busy = true;
    return u;
  }

  async putManifest(repo: string, m: PutManifestInput, tags: readonly string[]): Promise<void> {
    if (!this.#blobs.has(m.digest)) this.#blobs.set(m.digest, { bytes: Buffer.from(m.bytes), modifiedAt: new Date() });
    const r = this.#repo(repo);
    r.revisions.set(m.digest, {
      mediaType: m.mediaType,
      size: m.bytes.byteLength,
      ...(m.referrer === undefined ? {} : { subject: m.referrer.subject }),
      createdAt: new Date(),
    });
    if (m.referrer !== undefined) {
      let list = r.referrers.get(m.referrer.subject);
      if (list === undefined) r.referrers.set(m.referrer.subject, (list = new Map()));
      list.set(m.digest, m.referrer.descriptor);
    }
    for (const t of tags) r.tags.set(t, m.digest);
  }

  async getManifest(repo: string, digest: Digest): Promise<StoredManifest | null> {
    const rev = this.#repos.get(repo)?.revisions.get(digest);
    const blob = this.#blobs.get(digest);
    return rev === undefined || blob === undefined ? null : { digest, mediaType: rev.mediaType, bytes: blob.bytes };
  }

  async statManifest(repo: string, digest: Digest): Promise<ManifestInfo | null> {
    const rev = this.#repos.get(repo)?.revisions.get(digest);
    return rev === undefined ? null : { digest, ...rev };
  }

  async listManifests(repo: string): Promise<ManifestInfo[]> {
    return [...(this.#repos.get(repo)?.revisions ?? [])].map(([digest, rev]) => ({ digest, ...rev }));
  }

  async deleteManifest(repo: string, digest: Digest): Promise<boolean> {
    const r = this.#repos.get(repo);
    const rev = r?.revisions.get(digest);
    if (r === undefined || rev === undefined) return false;
    for (const [t, d] of [...r.tags]) if (d === digest) r.tags.delete(t);
    if (rev.subject !== undefined) r.referrers.get(rev.subject)?.delete(digest);
    return r.revisions.delete(digest);
  }

  async resolveTag(repo: string, tag: string): Promise<Digest | null> {
    return this.#repos.get(repo)?.tags.get(tag) ?? null;
  }

  async listTags(repo: string): Promise<string[] | null> {
    if (!(await this.repositoryExists(repo))) return null;
    return asciiSort([...(this.#repos.get(repo)?.tags.keys() ?? [])]);
  }

  async listTagTargets(repo: string): Promise<Map<string, Digest>> {
    return new Map(this.#repos.get(repo)?.tags ?? []);
  }

  async deleteTag(repo: string, tag: string): Promise<boolean> {
    return this.#repos.get(repo)?.tags.delete(tag) ?? false;
  }

  async listReferrers(repo: string, subject: Digest): Promise<ReferrerDescriptor[]> {
    const list = this.#repos.get(repo)?.referrers.get(subject);
    if (list === undefined) return [];
    return [...list.keys()].sort().map((d) => list.get(d) as ReferrerDescriptor);
  }

  async repositoryExists(repo: string): Promise<boolean> {
    return this.#repos.has(repo);
  }

  async listRepositories(): Promise<string[]> {
    return asciiSort([...this.#repos.keys()]);
  }
}
