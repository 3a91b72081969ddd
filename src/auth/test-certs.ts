/**
 * Test support: a minimal X.509 v3 certificate builder (DER by hand, signed with node:crypto)
 * for throwaway token-signing PKIs. Only what token tests need: a CN-only name, a validity
 * window, basicConstraints (CA or not), ECDSA-SHA256 signatures by the issuer's key.
 *
 * Not for production use.
 */
import { X509Certificate, sign as cryptoSign, type KeyObject } from 'node:crypto';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    let v = n >> 7;
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function int(n: number): Buffer {
  const hex = n.toString(16);
  let b = Buffer.from(hex.length % 2 === 1 ? '0' + hex : hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

function name(cn: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

export interface CertSpec {
  readonly serial: number;
  readonly subject: string;
  readonly issuer: string;
  readonly publicKey: KeyObject;
  /** The issuer's private key (EC). */
  readonly signingKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca: boolean;
}

export function buildCertificate(spec: CertSpec): X509Certificate {
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  const basicConstraints = seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, spec.ca ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()));
  const extensions = [basicConstraints];
  if (spec.ca) {
    // keyUsage: keyCertSign | digitalSignature (bits 5 and 0)
    extensions.push(seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([0x02, 0x84])))));
  }
  const tbs = seq(
    tlv(0xa0, int(2)),
    int(spec.serial),
    ECDSA_SHA256,
    name(spec.issuer),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const sig = cryptoSign('sha256', tbs, spec.signingKey);
  return new X509Certificate(seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.from([0]), sig)));
}
