/**
 * Issuing ordinary X.509 certificates: a self-signed CA and TLS server certificates signed by
 * it, for servers that must come up with no configuration (their own private CA). Root
 * certificates for TUF roots are made by x509-build.ts instead, exactly as notary makes them.
 *
 * ```ts
 * const caKey = generatePrivateKey('ecdsa');
 * const ca = issueCertificate({ commonName: 'vouch CA', key: caKey, ca: true, days: 3650 });
 * const key = generatePrivateKey('ecdsa');
 * const cert = issueCertificate({ commonName: 'localhost', key, issuer: { pem: ca, key: caKey }, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
 * ```
 */
import { isIP } from 'node:net';
import { CertificateError } from '../errors/index.ts';
import { encodeBitString, encodeBoolean, encodeOctetString, encodeOid, encodeSequence, encodeTlv } from './der.ts';
import { encodeName, signCertificate } from './x509-build.ts';
import { parseCertificateChain } from './x509-parse.ts';
import type { PrivateKey } from './types.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const ECDSA_SHA256 = encodeSequence(encodeOid('1.2.840.10045.4.3.2'));

export interface IssueOptions {
  readonly commonName: string;
  /** The key being certified (its public half goes in the certificate). ECDSA only. */
  readonly key: PrivateKey;
  /** Signer; absent → self-signed with `key`. */
  readonly issuer?: { readonly pem: string; readonly key: PrivateKey };
  readonly ca?: boolean;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly now?: Date;
  /** Lifetime in days (default 825, the longest browsers accept for server certificates). */
  readonly days?: number;
}

/** @returns the certificate as one PEM block. @throws CertificateError for non-ECDSA keys or bad IPs */
export function issueCertificate(o: IssueOptions): string {
  const signer = o.issuer?.key ?? o.key;
  if (o.key.keytype !== 'ecdsa' || signer.keytype !== 'ecdsa') throw new CertificateError('only ECDSA keys can be issued certificates here');
  const subject = encodeName(o.commonName);
  const issuerName = o.issuer === undefined ? subject : encodeName(issuerCommonName(o.issuer.pem));
  const notBefore = new Date(Math.floor((o.now ?? new Date()).getTime() / 1000) * 1000 - 60_000);
  const notAfter = new Date(notBefore.getTime() + (o.days ?? 825) * DAY_MS);
  const extensions: Uint8Array[] = [];
  const critical = encodeBoolean(true);
  if (o.ca === true) {
    // keyCertSign | cRLSign | digitalSignature; CA:TRUE
    extensions.push(encodeSequence(encodeOid('2.5.29.15'), critical, encodeOctetString(encodeBitString(Uint8Array.of(0x86), 1))));
    extensions.push(encodeSequence(encodeOid('2.5.29.19'), critical, encodeOctetString(encodeSequence(encodeBoolean(true)))));
  } else {
    // digitalSignature; serverAuth + clientAuth; CA:FALSE
    extensions.push(encodeSequence(encodeOid('2.5.29.15'), critical, encodeOctetString(encodeBitString(Uint8Array.of(0x80), 7))));
    extensions.push(
      encodeSequence(encodeOid('2.5.29.37'), encodeOctetString(encodeSequence(encodeOid('1.3.6.1.5.5.7.3.1'), encodeOid('1.3.6.1.5.5.7.3.2')))),
    );
    extensions.push(encodeSequence(encodeOid('2.5.29.19'), critical, encodeOctetString(encodeSequence())));
  }
  const sans = [
    ...(o.dnsNames ?? []).map((d) => encodeTlv(0x82, new TextEncoder().encode(d))),
    ...(o.ipAddresses ?? []).map((ip) => encodeTlv(0x87, ipBytes(ip))),
  ];
  if (sans.length > 0) extensions.push(encodeSequence(encodeOid('2.5.29.17'), encodeOctetString(encodeSequence(...sans))));
  return signCertificate({
    sigAlg: ECDSA_SHA256,
    hash: 'sha256',
    issuer: issuerName,
    subject,
    notBefore,
    notAfter,
    spki: o.key.publicKey.public,
    extensions,
    signer,
  });
}

function ipBytes(ip: string): Uint8Array {
  const v = isIP(ip);
  if (v === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (v === 6) {
    const [head = '', tail = ''] = ip.split('::');
    const parse = (s: string) => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
    const h = parse(head);
    const t = parse(tail);
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill(0), ...t] : h;
    return Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
  }
  throw new CertificateError(`not an IP address: ${ip}`);
}

function issuerCommonName(pem: string): string {
  const [cert] = parseCertificateChain(pem);
  if (cert === undefined) throw new CertificateError('issuer: no certificate in PEM');
  return cert.commonName;
}
