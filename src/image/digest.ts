/**
 * Digests of image content, and checking them while the bytes stream by.
 *
 * - `parseDigest`/`digestOf`/`digestHex` are the registry's grammar (sha256 and sha512), shared
 *   so a client never accepts a digest the registry would refuse;
 * - `verifyingStream(desc, what)`: a pass-through that hashes and counts; it fails as soon as
 *   more bytes arrive than the descriptor's size, and at the end when the count or the hash
 *   differ — so a consumer that finishes without an error has received exactly the content named
 *   by the digest; `{ hash: false }` only counts (the hash is then checked on the bytes as
 *   written, see hash-pool.ts);
 * - `hashFile(path, start, length)`: the digest of a byte range of a file, streamed.
 *
 * Not here: where the bytes go (src/image/oci-layout.ts, docker-archive.ts, registry-client.ts).
 *
 * @example
 *   await pipeline(res, verifyingStream(desc, `blob ${desc.digest}`), createWriteStream(tmp));
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { digestAlgorithm, digestHex, digestOf, parseDigest, type Digest } from '../registry/names.ts';
import { DigestMismatchError, SizeMismatchError } from './errors.ts';

export { digestAlgorithm, digestHex, digestOf, parseDigest, type Digest };

/** What content is named by: media type, digest, size (OCI descriptor). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  readonly urls?: readonly string[];
}

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** A digest or a thrown TypeError naming `what`. */
export function requireDigest(s: string, what: string): Digest {
  const d = parseDigest(s);
  if (d === null) throw new TypeError(`${what}: ${JSON.stringify(s)} is not a sha256 or sha512 digest`);
  return d;
}

/** A Transform that hashes and counts the bytes flowing through and checks them against `desc`. */
export class VerifyingStream extends Transform {
  readonly #desc: Pick<Descriptor, 'digest' | 'size'>;
  readonly #what: string;
  readonly #hash: Hash | undefined;
  #count = 0;

  constructor(desc: Pick<Descriptor, 'digest' | 'size'>, what: string, o: { hash?: boolean } = {}) {
    super();
    this.#desc = desc;
    this.#what = what;
    this.#hash = o.hash === false ? undefined : createHash(digestAlgorithm(desc.digest));
  }

  /** Bytes seen so far. */
  get count(): number {
    return this.#count;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#count += chunk.length;
    if (this.#count > this.#desc.size) {
      cb(new SizeMismatchError(this.#what, this.#desc.size, this.#count));
      return;
    }
    this.#hash?.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.#count !== this.#desc.size) {
      cb(new SizeMismatchError(this.#what, this.#desc.size, this.#count));
      return;
    }
    if (this.#hash === undefined) {
      cb();
      return;
    }
    const actual = `${digestAlgorithm(this.#desc.digest)}:${this.#hash.digest('hex')}`;
    if (actual !== this.#desc.digest) {
      cb(new DigestMismatchError(this.#what, this.#desc.digest, actual));
      return;
    }
    cb();
  }
}

export function verifyingStream(desc: Pick<Descriptor, 'digest' | 'size'>, what: string, o: { hash?: boolean } = {}): VerifyingStream {
  return new VerifyingStream(desc, what, o);
}

/** sha256 digest of `length` bytes of a file from `start`, streamed. */
export async function hashFile(path: string, start = 0, length?: number): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const opts = length === undefined ? { start, highWaterMark: 1 << 20 } : { start, end: start + length - 1, highWaterMark: 1 << 20 };
  if (length === 0) return { digest: digestOf(new Uint8Array(0)), size: 0 };
  for await (const chunk of createReadStream(path, opts)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}` as Digest, size };
}
