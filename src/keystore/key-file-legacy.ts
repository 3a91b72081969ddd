/**
 * Legacy private key blocks that notary still reads (spec §9.2): `EC PRIVATE KEY` (SEC1),
 * `RSA PRIVATE KEY` (PKCS#1) and `ED25519 PRIVATE KEY` (the 96 raw bytes), optionally encrypted
 * with RFC 1423 `Proc-Type: 4,ENCRYPTED` / `DEK-Info: <cipher>,<hex IV>` headers, as Go's
 * `x509.DecryptPEMBlock` handles them: key = OpenSSL's EVP_BytesToKey(MD5, passphrase, IV[:8]),
 * CBC mode, padding checked. Writing these forms is deliberately not supported: notary only
 * writes PKCS#8.
 *
 * @example
 *   const key = parseLegacyPrivateKey(block, 'randompass'); // block from pemDecode
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { privateKeyFromRaw } from '../crypto/index.ts';
import type { PemBlock, PrivateKey } from '../crypto/index.ts';
import { DeserializationError, PassphraseError } from '../errors/index.ts';

export const LEGACY_KEY_TYPES = {
  'EC PRIVATE KEY': 'ecdsa',
  'RSA PRIVATE KEY': 'rsa',
  'ED25519 PRIVATE KEY': 'ed25519',
} as const;
export type LegacyKeyType = keyof typeof LEGACY_KEY_TYPES;

export function isLegacyKeyType(type: string): type is LegacyKeyType {
  return Object.hasOwn(LEGACY_KEY_TYPES, type);
}

/** Go's RFC 1423 cipher table: node cipher name, key size, block size. */
const RFC1423_CIPHERS: Readonly<Record<string, readonly [string, number, number]>> = {
  'DES-CBC': ['des-cbc', 8, 8],
  'DES-EDE3-CBC': ['des-ede3-cbc', 24, 8],
  'AES-128-CBC': ['aes-128-cbc', 16, 16],
  'AES-192-CBC': ['aes-192-cbc', 24, 16],
  'AES-256-CBC': ['aes-256-cbc', 32, 16],
};

/** Go's `x509.IsEncryptedPEMBlock`: a `DEK-Info` header is present. */
export function isRfc1423Encrypted(block: PemBlock): boolean {
  return Object.hasOwn(block.headers, 'DEK-Info');
}

/** OpenSSL's EVP_BytesToKey with MD5 and one iteration. */
function deriveKey(passphrase: Uint8Array, salt: Uint8Array, size: number): Buffer {
  const out = Buffer.alloc(size);
  let digest = Buffer.alloc(0);
  for (let i = 0; i < size; i += digest.length) {
    digest = createHash('md5').update(digest).update(passphrase).update(salt).digest();
    digest.copy(out, i);
  }
  return out;
}

/**
 * Decrypt an RFC 1423 encrypted block's bytes.
 * @throws DeserializationError for a malformed `DEK-Info` or an unavailable cipher
 * @throws PassphraseError when the padding shows the passphrase is wrong
 */
export function decryptRfc1423(block: PemBlock, passphrase: string): Uint8Array {
  const dek = block.headers['DEK-Info'];
  if (dek === undefined) throw new DeserializationError('x509: no DEK-Info header in block');
  const comma = dek.indexOf(',');
  if (comma < 0) throw new DeserializationError('x509: malformed DEK-Info header');
  const spec = RFC1423_CIPHERS[dek.slice(0, comma)];
  if (spec === undefined) throw new DeserializationError('x509: unknown encryption mode');
  const [name, keySize, blockSize] = spec;
  const hexIv = dek.slice(comma + 1);
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hexIv)) throw new DeserializationError('x509: malformed DEK-Info IV');
  const iv = Buffer.from(hexIv, 'hex');
  if (iv.length !== blockSize) throw new DeserializationError('x509: incorrect IV size');
  const data = block.bytes;
  if (data.length % blockSize !== 0) {
    throw new DeserializationError('x509: encrypted PEM data is not a multiple of the block size');
  }
  const key = deriveKey(Buffer.from(passphrase, 'utf8'), iv.subarray(0, 8), keySize);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv(name, key, iv);
    decipher.setAutoPadding(false);
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch (err) {
    throw new DeserializationError(`x509: cipher ${name} is not available`, { cause: err });
  }
  const last = plain[plain.length - 1] ?? 0;
  if (plain.length === 0 || last === 0 || last > blockSize || last > plain.length) {
    throw new PassphraseError('x509: decryption password incorrect');
  }
  for (let i = plain.length - last; i < plain.length; i++) {
    if (plain[i] !== last) throw new PassphraseError('x509: decryption password incorrect');
  }
  return new Uint8Array(plain.subarray(0, plain.length - last));
}

/**
 * notary's `parseLegacyPrivateKey`: decrypt when `DEK-Info` is present, then parse by block type.
 * For an unencrypted block the passphrase is ignored.
 * @throws PassphraseError when an encrypted block does not open with `passphrase`
 * @throws DeserializationError when the block is not a usable key of its type
 */
export function parseLegacyPrivateKey(block: PemBlock, passphrase: string): PrivateKey {
  if (!isLegacyKeyType(block.type)) throw new DeserializationError(`unsupported key type "${block.type}"`);
  const keytype = LEGACY_KEY_TYPES[block.type];
  const encrypted = isRfc1423Encrypted(block);
  let der: Uint8Array;
  try {
    der = encrypted ? decryptRfc1423(block, passphrase) : block.bytes;
  } catch (err) {
    if (err instanceof PassphraseError) throw new PassphraseError('could not decrypt private key', { cause: err });
    throw err;
  }
  try {
    return privateKeyFromRaw(keytype, der);
  } catch (err) {
    // Decrypting with a wrong passphrase can pass the padding check and yield garbage.
    if (encrypted) throw new PassphraseError('could not decrypt private key', { cause: err });
    throw new DeserializationError(`could not parse DER encoded ${keytype} private key`, { cause: err });
  }
}
