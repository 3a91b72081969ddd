/**
 * TUF public keys in notary's dialect (spec §2.1–2.2): the key JSON, TUF key IDs and
 * canonical key IDs.
 *
 * ```ts
 * const key = keyFromJSON(root.signed.keys[id]);
 * tufKeyId(key) === id;           // what root.json and signatures use
 * canonicalKeyId(key);            // what key files, `notary key list` and the signer use
 * ```
 */
import { canonicalize, fromBase64, getGoField, sha256Hex, toBase64 } from '../canonical/index.ts';
import { CertificateError, DeserializationError } from '../errors/index.ts';
import type { TufKey } from './types.ts';
import { bytesToText, pemDecode } from './pem.ts';
import { parseCertificate, type ParsedCertificate } from './x509-parse.ts';
import { ed25519Spki } from './public-key.ts';

export interface TufKeyJSON {
  keytype: string;
  keyval: { private: null; public: string };
}

/** The key's JSON form as it appears in metadata (canonical order is applied on encoding). */
export function keyToJSON(key: TufKey): TufKeyJSON {
  return { keytype: key.keytype, keyval: { private: null, public: toBase64(key.public) } };
}

/**
 * Parse a key object as notary's Go structs decode it: fields matched case-insensitively,
 * unknown fields ignored, `keyval.private` ignored (must be null or base64). A missing or null
 * `keytype` becomes "" (an unknown key, as in Go).
 * @throws DeserializationError when the shape is wrong or `public` is not valid base64; also when
 *   `public` is missing or null (Go would keep a nil key that can never verify)
 */
export function keyFromJSON(v: unknown): TufKey {
  if (!isRecord(v)) throw new DeserializationError('key: expected a JSON object');
  const keytype = getGoField(v, 'keytype') ?? '';
  if (typeof keytype !== 'string') throw new DeserializationError('key: "keytype" must be a string');
  const keyval = getGoField(v, 'keyval');
  if (!isRecord(keyval)) throw new DeserializationError('key: "keyval" must be an object');
  const pub = getGoField(keyval, 'public');
  if (typeof pub !== 'string') throw new DeserializationError('key: "keyval.public" must be a base64 string');
  const priv = getGoField(keyval, 'private');
  if (priv !== undefined && priv !== null) {
    if (typeof priv !== 'string') throw new DeserializationError('key: "keyval.private" must be null');
    fromBase64(priv);
  }
  return { keytype, public: fromBase64(pub) };
}

/** Lowercase hex SHA-256 of the canonical key JSON (private always null). */
export function tufKeyId(key: TufKey): string {
  return sha256Hex(canonicalize(keyToJSON(key)));
}

/**
 * For `ecdsa-x509`/`rsa-x509`: the TUF ID of the first certificate's public key as an
 * `ecdsa`/`rsa` key (notary's `CanonicalKeyID`); for every other type the TUF ID.
 * @throws CertificateError when an x509 key holds no parsable certificate
 */
export function canonicalKeyId(key: TufKey): string {
  if (key.keytype !== 'ecdsa-x509' && key.keytype !== 'rsa-x509') return tufKeyId(key);
  const cert = firstCertificate(key.public);
  if (cert === null) throw new CertificateError('no certificates found in PEM data');
  if (cert.publicKey.keytype === 'unknown') throw new CertificateError('x509: unsupported public key type');
  const spki = cert.publicKey.keytype === 'ed25519' ? ed25519Spki(cert.publicKey.public) : cert.publicKey.public;
  return tufKeyId({ keytype: key.keytype === 'ecdsa-x509' ? 'ecdsa' : 'rsa', public: spki });
}

/**
 * notary's `LoadCertFromPEM`: the first `CERTIFICATE` block without headers that parses;
 * other blocks are skipped. Null when there is none.
 */
export function firstCertificate(pemBytes: Uint8Array): ParsedCertificate | null {
  let rest = bytesToText(pemBytes);
  while (rest.length > 0) {
    const [block, next] = pemDecode(rest);
    if (block === null) return null;
    rest = next;
    if (block.type !== 'CERTIFICATE' || Object.keys(block.headers).length !== 0) continue;
    try {
      return parseCertificate(block.bytes);
    } catch {
      continue;
    }
  }
  return null;
}


function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
