/**
 * Signature verification for metadata signatures (spec §2.3), with notary's verifier rules:
 *
 * | method                | key types          | check |
 * |-----------------------|--------------------|-------|
 * | `ecdsa`               | ecdsa, ecdsa-x509  | SHA-256, raw r‖s of exactly 2·⌈bits/8⌉ bytes |
 * | `rsapss`              | rsa, rsa-x509      | PSS SHA-256 / MGF1-SHA-256 / salt 32; modulus ≥ 2048 bits; sig = modulus length |
 * | `rsapkcs1v15`         | rsa, rsa-x509      | PKCS#1 v1.5 SHA-256; same size rules |
 * | `pycrypto-pkcs#1 pss` | rsa (PEM public)   | as rsapss, key read from a PEM block |
 * | `eddsa`               | ed25519            | pure Ed25519, 32-byte key, 64-byte sig |
 *
 * x509 keys verify with the public key of the first PEM block's certificate; certificate
 * validity is not looked at here (root validation does that, src/tuf). The method is compared
 * case-insensitively, as notary lower-cases it when parsing.
 */
import { constants, verify } from 'node:crypto';
import type { TufKey } from './types.ts';
import { bytesToText, pemDecode } from './pem.ts';
import { ed25519PublicKey, ed25519Spki, parseSpki, type PublicKeyInfo } from './public-key.ts';
import { certificateKeyInfo, parseCertificate } from './x509-parse.ts';

const MIN_RSA_BITS = 2048;

/**
 * Parsed public keys, so verifying many signatures with the same key parses its SPKI or
 * certificate once: per TufKey object (TufKeys are immutable), and by content (key type and
 * bytes) for the same key arriving again in other metadata, as a server sees a repository's
 * keys on every publish. `null` caches "cannot verify". The content cache keeps the most
 * recently used CONTENT_CACHE_SIZE keys.
 */
const keyCache = new WeakMap<TufKey, PublicKeyInfo | null>();
const contentCache = new Map<string, PublicKeyInfo | null>();
const CONTENT_CACHE_SIZE = 1024;

function cachedKeyInfo(key: TufKey, resolve: () => PublicKeyInfo | null): PublicKeyInfo | null {
  if (keyCache.has(key)) return keyCache.get(key) ?? null;
  const content = `${key.keytype}\0${Buffer.from(key.public.buffer, key.public.byteOffset, key.public.byteLength).toString('latin1')}`;
  let info = contentCache.get(content);
  if (info === undefined) {
    try {
      info = resolve();
    } catch {
      info = null;
    }
  } else contentCache.delete(content); // re-inserted below as the most recent
  contentCache.set(content, info);
  if (contentCache.size > CONTENT_CACHE_SIZE) contentCache.delete(contentCache.keys().next().value!);
  keyCache.set(key, info);
  return info;
}

/**
 * Verify `sig` over `msg` (the canonical bytes of `signed`). Never throws: anything malformed,
 * unsupported or mismatched is `false`.
 */
export function verifySignature(key: TufKey, method: string, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    switch (method.toLowerCase()) {
      case 'ecdsa':
        return verifyEcdsa(key, msg, sig);
      case 'rsapss':
        return verifyRsa(rsaKeyInfo(key), msg, sig, true);
      case 'rsapkcs1v15':
        return verifyRsa(rsaKeyInfo(key), msg, sig, false);
      case 'pycrypto-pkcs#1 pss':
        return verifyPyCrypto(key, msg, sig);
      case 'eddsa':
        return verifyEd25519(key, msg, sig);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** The key of the certificate in the first PEM block (Go: `pem.Decode` + `ParseCertificate`). */
function firstBlockCertificateKey(pemBytes: Uint8Array): PublicKeyInfo | null {
  const [block] = pemDecode(bytesToText(pemBytes));
  if (block === null) return null;
  return certificateKeyInfo(parseCertificate(block.bytes));
}

function verifyEcdsa(key: TufKey, msg: Uint8Array, sig: Uint8Array): boolean {
  if (key.keytype !== 'ecdsa-x509' && key.keytype !== 'ecdsa') return false;
  const info = cachedKeyInfo(key, () =>
    key.keytype === 'ecdsa-x509' ? firstBlockCertificateKey(key.public) : parseSpki(key.public),
  );
  if (info === null || info.kind !== 'ecdsa') return false;
  if (sig.length !== 2 * Math.ceil(info.curveBits / 8)) return false;
  return verify('sha256', msg, { key: info.key, dsaEncoding: 'ieee-p1363' }, sig);
}

function rsaKeyInfo(key: TufKey): PublicKeyInfo | null {
  if (key.keytype !== 'rsa-x509' && key.keytype !== 'rsa') return null;
  return cachedKeyInfo(key, () => (key.keytype === 'rsa-x509' ? firstBlockCertificateKey(key.public) : parseSpki(key.public)));
}

function verifyRsa(info: PublicKeyInfo | null, msg: Uint8Array, sig: Uint8Array, pss: boolean): boolean {
  if (info === null || info.kind !== 'rsa') return false;
  if (info.modulusBits < MIN_RSA_BITS || sig.length < MIN_RSA_BITS / 8) return false;
  if (sig.length !== Math.ceil(info.modulusBits / 8)) return false;
  const options = pss ? { key: info.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : info.key;
  return verify('sha256', msg, options, sig);
}

/** notary's legacy verifier: `rsa` keys only, the public bytes being a PEM block holding an SPKI. */
function verifyPyCrypto(key: TufKey, msg: Uint8Array, sig: Uint8Array): boolean {
  if (key.keytype !== 'rsa') return false;
  const [block] = pemDecode(bytesToText(key.public));
  if (block === null) return false;
  return verifyRsa(parseSpki(block.bytes), msg, sig, true);
}

function verifyEd25519(key: TufKey, msg: Uint8Array, sig: Uint8Array): boolean {
  if (key.keytype !== 'ed25519' || key.public.length !== 32 || sig.length !== 64) return false;
  const info = cachedKeyInfo(key, () => ({ kind: 'ed25519', raw: key.public, spki: ed25519Spki(key.public), key: ed25519PublicKey(key.public) }));
  if (info === null || info.kind !== 'ed25519') return false;
  return verify(null, msg, info.key, sig);
}
