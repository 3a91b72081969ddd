/**
 * File meta: the `{"custom"?, "hashes", "length"}` entries of targets, snapshot and timestamp
 * metadata (spec §4.1). Hashes are base64 of raw digests, keyed by algorithm; unknown algorithms
 * are kept (Go keeps them in its map) but never checked.
 *
 * @example
 *   const meta = fileMetaFor(bytes);            // sha256 + sha512, as notary writes
 *   checkHashes(bytes, 'snapshot', meta.hashes); // throws on mismatch
 */
import { fromBase64, sha256, sha512, toBase64, toHex } from '../canonical/index.ts';
import { DeserializationError } from '../errors/index.ts';
import { ChecksumMismatchError, MissingMetaError } from './errors.ts';
import { FieldReader } from './json.ts';

export type Hashes = ReadonlyMap<string, Uint8Array>;

export interface FileMeta {
  readonly length: number;
  readonly hashes: Hashes;
  /** Parsed `custom` JSON, undefined when absent or null. */
  readonly custom?: unknown;
}

const DIGEST_SIZE: Readonly<Record<string, number>> = { sha256: 32, sha512: 64 };

/** Decode standard padded base64 as Go's `[]byte` fields do. @throws DeserializationError */
export function decodeBase64Field(value: unknown, path: string): Uint8Array {
  if (value === null || value === undefined) return new Uint8Array(0);
  if (typeof value !== 'string') throw new DeserializationError(`${path}: expected base64 string`);
  try {
    return fromBase64(value);
  } catch (err) {
    throw new DeserializationError(`${path}: invalid base64`, { cause: err });
  }
}


function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Parse one file meta object. @throws DeserializationError */
export function parseFileMeta(value: unknown, path: string): FileMeta {
  const r = new FieldReader(value, path);
  const hashes = new Map<string, Uint8Array>();
  for (const [alg, v] of r.entries('hashes')) hashes.set(alg, decodeBase64Field(v, `${path}.hashes.${alg}`));
  const custom = r.raw('custom');
  return custom === undefined ? { length: r.int('length'), hashes } : { length: r.int('length'), hashes, custom };
}

/** Parse a `meta`/`targets` map of file metas. @throws DeserializationError */
export function parseFiles(r: FieldReader, name: string): ReadonlyMap<string, FileMeta> {
  const files = new Map<string, FileMeta>();
  for (const [k, v] of r.entries(name)) {
    // Go's zero FileMeta for a null entry
    files.set(k, v === null ? { length: 0, hashes: new Map() } : parseFileMeta(v, `${r.path}.${name}.${k}`));
  }
  return files;
}

/** The generic JSON value notary would emit for this meta (only the fields Go knows). */
export function fileMetaToJSON(meta: FileMeta): Record<string, unknown> {
  const hashes: Record<string, string> = {};
  for (const [alg, digest] of meta.hashes) hashes[alg] = toBase64(digest);
  const out: Record<string, unknown> = { hashes, length: meta.length };
  if (meta.custom !== undefined) out['custom'] = meta.custom;
  return out;
}

/** Length plus sha256 and sha512 of `bytes`, as notary always writes (NotaryDefaultHashes). */
export function fileMetaFor(bytes: Uint8Array): FileMeta {
  return { length: bytes.length, hashes: new Map([['sha256', sha256(bytes)], ['sha512', sha512(bytes)]]) };
}

/**
 * notary's CheckHashes: every supported algorithm listed must match; at least one must be listed.
 * @throws ChecksumMismatchError, MissingMetaError
 */
export function checkHashes(bytes: Uint8Array, role: string, hashes: Hashes | undefined): void {
  let checked = 0;
  for (const alg of ['sha256', 'sha512'] as const) {
    const want = hashes?.get(alg);
    if (want === undefined) continue;
    const got = alg === 'sha256' ? sha256(bytes) : sha512(bytes);
    if (!equalBytes(got, want)) throw new ChecksumMismatchError(alg, role, toHex(want));
    checked++;
  }
  if (checked === 0) throw new MissingMetaError(role);
}

/** True when `checkHashes` would pass. */
export function hashesMatch(bytes: Uint8Array, hashes: Hashes | undefined): boolean {
  try {
    checkHashes(bytes, '', hashes);
    return true;
  } catch {
    return false;
  }
}

/**
 * notary's CheckValidHashStructures: supported digests have the right size and at least one
 * supported algorithm is present. Returns Go's error text, or null when valid.
 */
export function hashStructureProblem(hashes: Hashes | undefined): string | null {
  let count = 0;
  for (const [alg, digest] of hashes ?? []) {
    const size = DIGEST_SIZE[alg];
    if (size === undefined) continue;
    if (digest.length !== size) return `${alg} checksum invalid`;
    count++;
  }
  return count === 0 ? 'at least one supported hash needed' : null;
}

