/**
 * The grammar of what appears in registry URLs: repository names, tags and digests (OCI
 * Distribution Spec v1.1, "Pulling manifests"; OCI Image Spec, "Digests").
 *
 * - A repository name is `/`-separated components, each `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`,
 *   shorter than 256 characters in total. A component can never start with `_`, so the trust
 *   API's `/v2/<gun>/_trust/…` and the storage layout's `_layers`/`_manifests` never collide with
 *   a repository; `hasTrustComponent` lets the router hand such paths back untouched.
 * - A tag is `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
 * - A digest is `algorithm:encoded`; only the registered `sha256` (64 lowercase hex) and `sha512`
 *   (128 lowercase hex) are accepted, the two node:crypto can verify while streaming.
 *
 * Nothing here touches storage; the branded `Digest` type is created only by `parseDigest`.
 *
 * Example:
 *   const d = parseDigest('sha256:' + 'a'.repeat(64)); // Digest, or null when malformed
 *   isValidRepositoryName('library/ubuntu'); // true
 */
import { createHash, type Hash } from 'node:crypto';

export type Digest = string & { readonly __brand: 'Digest' };
export type DigestAlgorithm = 'sha256' | 'sha512';

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** Looser than `DIGEST`: anything shaped like `alg:hex` (for telling "bad digest" from "a tag"). */
const DIGEST_SHAPE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Maximum length of a repository name (spec: "less than 256 characters"). */
export const MAX_NAME_LENGTH = 255;

export function isValidRepositoryName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return false;
  return name.split('/').every((c) => COMPONENT.test(c));
}

/** True when a path component of `name` is `_trust` (the trust API's namespace, ARCHITECTURE.md). */
export function hasTrustComponent(name: string): boolean {
  return name.split('/').includes('_trust');
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** A supported, well-formed digest, or null. */
export function parseDigest(s: string): Digest | null {
  return DIGEST.test(s) ? (s as Digest) : null;
}

/** True when `s` has the `algorithm:encoded` shape, supported or not. */
export function looksLikeDigest(s: string): boolean {
  return s.includes(':') && DIGEST_SHAPE.test(s);
}

export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.startsWith('sha512:') ? 'sha512' : 'sha256';
}

export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

export function isDigestAlgorithm(s: string): s is DigestAlgorithm {
  return s === 'sha256' || s === 'sha512';
}

export function newHash(alg: DigestAlgorithm): Hash {
  return createHash(alg);
}

/** The digest of bytes held in memory (manifests only; blobs are hashed while streaming). */
export function digestOf(bytes: Uint8Array, alg: DigestAlgorithm = 'sha256'): Digest {
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}` as Digest;
}

/** The digest a finished streaming hash stands for. */
export function digestFromHash(alg: DigestAlgorithm, hash: Hash): Digest {
  return `${alg}:${hash.digest('hex')}` as Digest;
}

/** A manifest reference from a URL: a tag or a digest, or why it is neither. */
export type Reference =
  | { readonly kind: 'tag'; readonly tag: string }
  | { readonly kind: 'digest'; readonly digest: Digest }
  | { readonly kind: 'invalid'; readonly reason: 'digest' | 'tag' };

export function parseReference(s: string): Reference {
  if (looksLikeDigest(s)) {
    const digest = parseDigest(s);
    return digest === null ? { kind: 'invalid', reason: 'digest' } : { kind: 'digest', digest };
  }
  return isValidTag(s) ? { kind: 'tag', tag: s } : { kind: 'invalid', reason: 'tag' };
}
