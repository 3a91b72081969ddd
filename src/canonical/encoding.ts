/**
 * Base64 and digests with Go's exact rules.
 *
 * Notary writes every byte string (`[]byte` in Go: public keys, hashes, signatures) as standard,
 * padded base64. Go's `base64.StdEncoding` is strict about the alphabet and the padding but
 * skips `\r` and `\n`, and (not being `.Strict()`) tolerates non-zero trailing bits.
 * Node's `Buffer.from(s, 'base64')` accepts almost anything, so input is validated first.
 */
import { createHash } from 'node:crypto';
import { DeserializationError } from '../errors/index.ts';

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding (Go's `base64.StdEncoding.EncodeToString`). */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/**
 * Decode standard padded base64 as Go's `base64.StdEncoding.DecodeString` does.
 * @throws DeserializationError on characters outside the alphabet, missing or misplaced padding
 */
export function fromBase64(s: string): Uint8Array {
  const cleaned = s.includes('\r') || s.includes('\n') ? s.replace(/[\r\n]/g, '') : s;
  if (!B64.test(cleaned)) {
    throw new DeserializationError(`invalid base64 data (length ${s.length})`);
  }
  return new Uint8Array(Buffer.from(cleaned, 'base64'));
}

export function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

export function sha512(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(b).digest());
}

/** Lowercase hex SHA-256 (key IDs, checksum URLs, changefeed records). */
export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
