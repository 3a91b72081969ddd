/**
 * The self-signed root certificate notary's client makes at `init` and on root rotation
 * (spec §3.1), encoded as Go 1.19's `x509.CreateCertificate` encodes notary's template:
 * v3, random positive serial < 2^128, Subject = Issuer = CN=<gun>, NotBefore = now,
 * NotAfter = now + 3650 days, KeyUsage (critical) digitalSignature|keyEncipherment,
 * ExtKeyUsage codeSigning, BasicConstraints (critical) CA:FALSE, nothing else.
 *
 * ```ts
 * const pem = generateRootCertificate(rootKey, 'example.com/app', new Date());
 * const tufKey = certificateToTufKey(pem);   // the ecdsa-x509 root key for root.json
 * ```
 */
import { randomBytes, sign } from 'node:crypto';
import { CertificateError } from '../errors/index.ts';
import type { PrivateKey } from './types.ts';
import {
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeSet,
  encodeTlv,
  encodeUnsignedInteger,
  NULL_DER,
  Tag,
} from './der.ts';
import { pemEncode } from './pem.ts';
import { privateKeyObject } from './private-key.ts';
import { parseSpki } from './public-key.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** notary's root certificate lifetime: 10 × 365 days. */
export const ROOT_CERT_VALIDITY_DAYS = 3650;

/**
 * Make the PEM (one `CERTIFICATE` block, trailing newline) of a root certificate.
 * @throws CertificateError for ed25519 keys (notary cannot certify them) or an empty GUN
 */
export function generateRootCertificate(key: PrivateKey, gun: string, now: Date): string {
  if (key.keytype === 'ed25519') throw new CertificateError('root certificates need an ecdsa or rsa key');
  if (gun === '') throw new CertificateError('root certificate needs a GUN');
  const info = parseSpki(key.publicKey.public);
  let sigAlg: Uint8Array;
  let hash: string;
  if (info.kind === 'ecdsa') {
    // Go picks the digest by curve size.
    const [oid, h] =
      info.curveBits <= 256 ? ['1.2.840.10045.4.3.2', 'sha256'] : info.curveBits <= 384 ? ['1.2.840.10045.4.3.3', 'sha384'] : ['1.2.840.10045.4.3.4', 'sha512'];
    sigAlg = encodeSequence(encodeOid(oid));
    hash = h;
  } else if (info.kind === 'rsa') {
    sigAlg = encodeSequence(encodeOid('1.2.840.113549.1.1.11'), NULL_DER);
    hash = 'sha256';
  } else {
    throw new CertificateError(`cannot certify a ${info.kind} key`);
  }
  const name = encodeName(gun);
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + ROOT_CERT_VALIDITY_DAYS * DAY_MS);
  return signCertificate({ sigAlg, hash, issuer: name, subject: name, notBefore, notAfter, spki: key.publicKey.public, extensions: rootExtensions(), signer: key });
}

export interface CertificateFields {
  /** AlgorithmIdentifier DER of the signature, and the digest it implies. */
  readonly sigAlg: Uint8Array;
  readonly hash: string;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo DER of the certified key. */
  readonly spki: Uint8Array;
  readonly extensions: readonly Uint8Array[];
  readonly signer: PrivateKey;
}

/** Assemble a v3 TBSCertificate with a random serial, sign it, and return the PEM. */
export function signCertificate(f: CertificateFields): string {
  const tbs = encodeSequence(
    encodeExplicit(0, encodeUnsignedInteger(2n)),
    encodeUnsignedInteger(randomSerial()),
    f.sigAlg,
    f.issuer,
    encodeSequence(encodeTime(f.notBefore), encodeTime(f.notAfter)),
    f.subject,
    f.spki,
    encodeExplicit(3, encodeSequence(...f.extensions)),
  );
  const signature = sign(f.hash, tbs, privateKeyObject(f.signer));
  return pemEncode('CERTIFICATE', encodeSequence(tbs, f.sigAlg, encodeBitString(new Uint8Array(signature))));
}

/** Random serial in [1, 2^128). */
function randomSerial(): bigint {
  for (;;) {
    const v = BigInt('0x' + randomBytes(16).toString('hex'));
    if (v !== 0n) return v;
  }
}

/** CN only; PrintableString when every character allows it, else UTF8String (Go's choice). */
export function encodeName(cn: string): Uint8Array {
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(cn);
  const value = encodeTlv(printable ? Tag.PrintableString : Tag.Utf8String, new TextEncoder().encode(cn));
  return encodeSequence(encodeSet(encodeSequence(encodeOid('2.5.4.3'), value)));
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise, seconds precision, `Z`. */
export function encodeTime(t: Date): Uint8Array {
  const iso = t.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const year = t.getUTCFullYear();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  if (year >= 1950 && year < 2050) return encodeTlv(Tag.UtcTime, new TextEncoder().encode(digits.slice(2) + 'Z'));
  return encodeTlv(Tag.GeneralizedTime, new TextEncoder().encode(digits + 'Z'));
}

function rootExtensions(): Uint8Array[] {
  // KeyUsage: digitalSignature (bit 0) | keyEncipherment (bit 2) → 0xA0 with 5 unused bits.
  const keyUsage = encodeSequence(encodeOid('2.5.29.15'), encodeBoolean(true), encodeOctetString(encodeBitString(Uint8Array.of(0xa0), 5)));
  const extKeyUsage = encodeSequence(encodeOid('2.5.29.37'), encodeOctetString(encodeSequence(encodeOid('1.3.6.1.5.5.7.3.3'))));
  const basicConstraints = encodeSequence(encodeOid('2.5.29.19'), encodeBoolean(true), encodeOctetString(encodeSequence()));
  return [keyUsage, extKeyUsage, basicConstraints];
}
