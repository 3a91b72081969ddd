/**
 * Upload sessions of the filesystem backend: bytes are appended to `uploads/<id>/data` while a
 * sha256 runs over them, and a verified upload is renamed into `blobs/` in one step.
 *
 * The running hash is a cache held in this process, keyed by session and valid for a known
 * offset; the data file is the truth. When the cache is missing (another process appended, the
 * process restarted, the digest is sha512) the file is hashed again at commit, streaming.
 *
 * Not safe for use by two processes on one session at once; within a process, appends and the
 * commit on one session are serialized (a concurrent one gets TOOMANYREQUESTS).
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { randomUUID, createHash, type Hash } from 'node:crypto';
import { registryError } from '../errors.ts';
import { digestAlgorithm, digestFromHash, type Digest, type DigestAlgorithm } from '../names.ts';
import { sharedPool } from './buffers.ts';
import { rangeNotSatisfiable } from './common.ts';
import type { FsPaths } from './fs-paths.ts';
import { fileStat, isNotFound, readIfExists, writeAtomic } from './fs-util.ts';
import type { AppendOptions, UploadSession } from './types.ts';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Hash states kept for sessions nobody finished (oldest dropped first; they are only a cache). */
const MAX_CACHED_HASHES = 4096;

interface HashState {
  /** The hash covers bytes [0, offset). */
  readonly offset: number;
  readonly hash: Hash;
}

/** Stores verified upload bytes as a blob; provided by the store. */
export type BlobCommitter = (dataFile: string, digest: Digest) => Promise<void>;

export class FsUploads {
  readonly #paths: FsPaths;
  readonly #sync: boolean;
  readonly #hashes = new Map<string, HashState>();
  readonly #busy = new Set<string>();
  /** Sessions with an append in progress → the size they had when it started. */
  readonly #appending = new Map<string, number>();

  constructor(paths: FsPaths, sync: boolean) {
    this.#paths = paths;
    this.#sync = sync;
  }

  async create(repo: string): Promise<UploadSession> {
    const id = randomUUID();
    const startedAt = new Date();
    await mkdir(this.#paths.uploadDir(id), { recursive: true });
    const fh = await open(this.#paths.uploadData(id), 'wx');
    await fh.close();
    await writeAtomic(this.#paths.tmpDir, this.#paths.uploadInfo(id), JSON.stringify({ repo, startedAt: startedAt.toISOString() }), false);
    this.#remember(id, { offset: 0, hash: createHash('sha256') });
    return { id, repo, size: 0, startedAt };
  }

  /** The session; while an append runs, its size is the size before that append (nothing partial shows). */
  async get(repo: string, id: string): Promise<UploadSession | null> {
    const s = await this.#read(id);
    if (s === null || s.repo !== repo) return null;
    const before = this.#appending.get(id);
    return before === undefined ? s : { ...s, size: before };
  }

  async list(): Promise<UploadSession[]> {
    let ids: string[];
    try {
      ids = await readdir(this.#paths.uploadsDir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const out: UploadSession[] = [];
    for (const id of ids) {
      const s = await this.#read(id);
      if (s !== null) out.push(s);
      // A directory without a readable info.json is a crash leftover: report it as ancient.
      else if (SESSION_ID.test(id)) out.push({ id, repo: '', size: 0, startedAt: new Date(0) });
    }
    return out;
  }

  async append(repo: string, id: string, offset: number, source: AsyncIterable<Uint8Array>, opts: AppendOptions = {}): Promise<number> {
    return this.#exclusive(id, async () => {
      const session = await this.get(repo, id);
      if (session === null) throw registryError('BLOB_UPLOAD_UNKNOWN');
      if (offset !== session.size) throw rangeNotSatisfiable(session.size);
      const cached = this.#hashes.get(id);
      this.#hashes.delete(id);
      const hash = cached !== undefined && cached.offset === offset ? cached.hash : offset === 0 ? createHash('sha256') : null;
      const before = hash?.copy() ?? null;
      const fh = await open(this.#paths.uploadData(id), 'r+');
      this.#appending.set(id, offset);
      try {
        const end = await writeAll(fh, offset, source, hash, opts, this.#sync);
        if (hash !== null) this.#remember(id, { offset: end, hash });
        return end;
      } catch (err) {
        await fh.truncate(offset);
        if (before !== null) this.#remember(id, { offset, hash: before });
        throw err;
      } finally {
        this.#appending.delete(id);
        await fh.close();
      }
    });
  }

  async commit(repo: string, id: string, digest: Digest, store: BlobCommitter): Promise<{ size: number }> {
    return this.#exclusive(id, async () => {
      const session = await this.get(repo, id);
      if (session === null) throw registryError('BLOB_UPLOAD_UNKNOWN');
      const data = this.#paths.uploadData(id);
      const alg = digestAlgorithm(digest);
      const cached = this.#hashes.get(id);
      this.#hashes.delete(id);
      const actual =
        alg === 'sha256' && cached !== undefined && cached.offset === session.size ? digestFromHash('sha256', cached.hash) : await hashFile(data, alg);
      if (actual !== digest) {
        await this.#remove(id);
        throw registryError('DIGEST_INVALID', 'provided digest did not match uploaded content', { detail: { digest, actual } });
      }
      if (this.#sync) {
        const fh = await open(data, 'r');
        try {
          await fh.datasync();
        } finally {
          await fh.close();
        }
      }
      await store(data, digest);
      await this.#remove(id);
      return { size: session.size };
    });
  }

  async cancel(repo: string, id: string): Promise<boolean> {
    if ((await this.get(repo, id)) === null) return false;
    return this.#exclusive(id, async () => {
      await this.#remove(id);
      return true;
    });
  }

  /** Remove a session whatever its repository (gc). */
  async purge(id: string): Promise<void> {
    if (!SESSION_ID.test(id) || this.#busy.has(id)) return;
    await this.#remove(id);
  }

  async #read(id: string): Promise<UploadSession | null> {
    if (!SESSION_ID.test(id)) return null;
    const info = await readIfExists(this.#paths.uploadInfo(id));
    const data = await fileStat(this.#paths.uploadData(id));
    if (info === null || data === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(info.toString('utf8'));
    } catch {
      return null;
    }
    const { repo, startedAt } = (parsed ?? {}) as { repo?: unknown; startedAt?: unknown };
    if (typeof repo !== 'string' || typeof startedAt !== 'string') return null;
    return { id, repo, size: data.size, startedAt: new Date(startedAt) };
  }

  async #remove(id: string): Promise<void> {
    this.#hashes.delete(id);
    await rm(this.#paths.uploadDir(id), { recursive: true, force: true });
  }

  #remember(id: string, state: HashState): void {
    this.#hashes.set(id, state);
    if (this.#hashes.size > MAX_CACHED_HASHES) {
      const oldest = this.#hashes.keys().next().value;
      if (oldest !== undefined) this.#hashes.delete(oldest);
    }
  }

  async #exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (this.#busy.has(id)) {
      throw registryError('TOOMANYREQUESTS', 'another request is using this upload session', { headers: { 'Retry-After': '1' } });
    }
    this.#busy.add(id);
    try {
      return await fn();
    } finally {
      this.#busy.delete(id);
    }
  }
}

/** Writes queued on one session before reading more of the body waits for the oldest. */
const MAX_PENDING_WRITES = 3;
/** Bytes between background flushes when the store flushes blobs before publishing them. */
const WRITEBACK_EVERY = 32 << 20;

async function writeFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(buf, done, length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Copy the source to `fh` at `offset`, hashing as it goes; returns the end offset. Bytes are
 * gathered into pooled 1 MiB buffers and written, in order, while the next ones are read, with
 * at most `MAX_PENDING_WRITES` writes queued. Nothing is left in flight when this settles, so the
 * caller may truncate safely after a failure.
 */
async function writeAll(fh: FileHandle, offset: number, source: AsyncIterable<Uint8Array>, hash: Hash | null, opts: AppendOptions, writeback: boolean): Promise<number> {
  let pos = offset;
  let received = 0;
  let buf = sharedPool.take();
  let fill = 0;
  const inflight: Promise<void>[] = [];
  // With `writeback`, a datasync runs in the background every WRITEBACK_EVERY bytes, so the one
  // at commit (which the client waits for) finds little left to flush.
  let sinceSync = 0;
  let syncing: Promise<void> | null = null;
  const flush = async (): Promise<void> => {
    if (fill === 0) return;
    const b = buf;
    const [len, at] = [fill, pos];
    // Each write starts after the previous one, so the file is always a prefix of the body
    // (a session resumed after a crash continues from valid bytes); reading goes on meanwhile.
    const p = (inflight.at(-1) ?? Promise.resolve()).then(() => writeFully(fh, b, len, at)).then(() => sharedPool.give(b));
    p.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    inflight.push(p);
    pos += fill;
    buf = sharedPool.take();
    fill = 0;
    sinceSync += len;
    if (writeback && sinceSync >= WRITEBACK_EVERY && syncing === null) {
      sinceSync = 0;
      syncing = p.then(() => fh.datasync()).finally(() => (syncing = null));
      syncing.catch(() => {});
    }
    if (inflight.length >= MAX_PENDING_WRITES) await inflight.shift();
  };
  try {
    for await (const chunk of source) {
      received += chunk.byteLength;
      if (opts.expectedLength !== undefined && received > opts.expectedLength) throw registryError('SIZE_INVALID', 'more bytes than Content-Length');
      if (opts.maxSize !== undefined && offset + received > opts.maxSize) throw registryError('SIZE_INVALID', 'upload exceeds the size limit', { status: 413 });
      hash?.update(chunk);
      opts.onChunk?.(chunk.byteLength);
      let off = 0;
      while (off < chunk.byteLength) {
        const n = Math.min(buf.length - fill, chunk.byteLength - off);
        buf.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === buf.length) await flush();
      }
    }
    await flush();
    await Promise.all(inflight);
    await syncing;
  } catch (err) {
    await Promise.allSettled(inflight);
    await (syncing as Promise<void> | null)?.catch(() => {});
    throw err;
  }
  sharedPool.give(buf);
  if (opts.expectedLength !== undefined && received !== opts.expectedLength) throw registryError('SIZE_INVALID', 'fewer bytes than Content-Length');
  return pos;
}

/** Hash a file by streaming it. */
export async function hashFile(file: string, alg: DigestAlgorithm): Promise<Digest> {
  const hash = createHash(alg);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return digestFromHash(alg, hash);
}
