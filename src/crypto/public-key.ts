/**
 * SubjectPublicKeyInfo parsing with the rules of Go 1.19's `x509.ParsePKIXPublicKey` (which
 * notary uses for `ecdsa`/`rsa` keys and for certificate keys): RSA needs NULL parameters,
 * ECDSA only the NIST curves P-224/256/384/521 with uncompressed points, Ed25519 no
 * parameters and 32 bytes. Anything else is "unknown" and cannot verify.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { children, expectTag, parseDer, readBitString, readInteger, readOid, Tag } from './der.ts';

export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
  p224: '1.3.132.0.33',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
} as const;

const CURVE_BITS: Readonly<Record<string, number>> = {
  [OID.p224]: 224,
  [OID.p256]: 256,
  [OID.p384]: 384,
  [OID.p521]: 521,
};

export type PublicKeyInfo =
  | { readonly kind: 'ecdsa'; readonly curveBits: number; readonly spki: Uint8Array; readonly key: KeyObject }
  | { readonly kind: 'rsa'; readonly modulusBits: number; readonly spki: Uint8Array; readonly key: KeyObject }
  | { readonly kind: 'ed25519'; readonly raw: Uint8Array; readonly spki: Uint8Array; readonly key: KeyObject }
  | { readonly kind: 'unknown'; readonly algorithm: string; readonly spki: Uint8Array };

/** Parse a DER SPKI as Go does. Throws a plain Error on anything Go would refuse. */
export function parseSpki(spki: Uint8Array): PublicKeyInfo {
  const [algId, bits, ...extra] = children(expectTag(parseDer(spki), Tag.Sequence, 'SubjectPublicKeyInfo'));
  if (extra.length > 0) throw new Error('SPKI: extra fields');
  const [oidNode, params, ...more] = children(expectTag(algId, Tag.Sequence, 'AlgorithmIdentifier'));
  if (more.length > 0) throw new Error('SPKI: extra algorithm fields');
  const algorithm = readOid(expectTag(oidNode, Tag.Oid, 'algorithm'));
  const [keyBytes, unused] = readBitString(expectTag(bits, Tag.BitString, 'subjectPublicKey'));
  switch (algorithm) {
    case OID.rsaEncryption: {
      if (params === undefined || params.tag !== Tag.Null || params.content.length !== 0) {
        throw new Error('x509: RSA key missing NULL parameters');
      }
      if (unused !== 0) throw new Error('SPKI: RSA key bit string has unused bits');
      const [n, e, ...rest] = children(expectTag(parseDer(keyBytes), Tag.Sequence, 'RSAPublicKey'));
      if (rest.length > 0) throw new Error('SPKI: trailing RSA fields');
      const modulus = readInteger(expectTag(n, Tag.Integer, 'modulus'));
      const exponent = readInteger(expectTag(e, Tag.Integer, 'exponent'));
      if (modulus <= 0n) throw new Error('x509: RSA modulus is not a positive number');
      if (exponent <= 0n) throw new Error('x509: RSA public exponent is not a positive number');
      if (exponent >= 1n << 63n) throw new Error('x509: invalid RSA public exponent');
      const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      return { kind: 'rsa', modulusBits: modulus.toString(2).length, spki, key };
    }
    case OID.ecPublicKey: {
      const curve = params !== undefined && params.tag === Tag.Oid ? readOid(params) : '';
      const curveBits = CURVE_BITS[curve];
      if (curveBits === undefined) throw new Error('x509: unsupported elliptic curve');
      const byteLen = Math.ceil(curveBits / 8);
      if (unused !== 0 || keyBytes.length !== 1 + 2 * byteLen || keyBytes[0] !== 0x04) {
        throw new Error('x509: failed to unmarshal elliptic curve point');
      }
      const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      return { kind: 'ecdsa', curveBits, spki, key };
    }
    case OID.ed25519: {
      if (params !== undefined) throw new Error('x509: Ed25519 key encoded with illegal parameters');
      if (unused !== 0 || keyBytes.length !== 32) throw new Error('x509: wrong Ed25519 public key size');
      const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      return { kind: 'ed25519', raw: keyBytes, spki, key };
    }
    default:
      return { kind: 'unknown', algorithm, spki };
  }
}

/** A raw 32-byte Ed25519 public key as a KeyObject. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error('ed25519 public key must be 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** The DER SPKI wrapping a raw 32-byte Ed25519 public key. */
export function ed25519Spki(raw: Uint8Array): Uint8Array {
  return Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, ...raw]);
}
