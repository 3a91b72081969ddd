/**
 * X.509 certificate parsing for root and delegation keys (spec §3), following the checks of
 * Go 1.19's `x509.ParseCertificate` closely enough that what notary accepts is accepted here and
 * what it refuses is refused: strict DER, supported string types in names, UTCTime /
 * GeneralizedTime in their canonical forms, matching inner/outer signature algorithms, no
 * duplicate extensions, and the public key rules of `public-key.ts`.
 *
 * Not here: validity policy (x509-verify.ts) and building certificates (x509-build.ts).
 */
import { decodeUtf8GoStyle } from '../canonical/index.ts';
import { CertificateError } from '../errors/index.ts';
import type { TufKey } from './types.ts';
import { pemDecodeAll, pemEncode } from './pem.ts';
import { ed25519Spki, parseSpki, type PublicKeyInfo } from './public-key.ts';
import {
  children,
  expectTag,
  parseDer,
  readBitString,
  readBoolean,
  readInteger,
  readOid,
  Tag,
  type DerNode,
} from './der.ts';
import { signatureAlgorithmFromAI } from './signature-algorithms.ts';

/** A parsed certificate. Field names follow Go's `x509.Certificate` where there is one. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  /** This certificate alone, PEM-encoded as Go's `pem.EncodeToMemory` writes it. */
  readonly pem: string;
  /** Go semantics: 1, 2 or 3. */
  readonly version: number;
  readonly serialNumber: bigint;
  /** Last CN attribute of the subject ("" when none). */
  readonly commonName: string;
  readonly rawSubject: Uint8Array;
  readonly rawIssuer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Go's name of the signature algorithm (`ECDSA-SHA256`, `SHA256-RSA`, `SHA1-RSA`, …, or `0` for unknown). */
  readonly signatureAlgorithm: string;
  readonly rawTbs: Uint8Array;
  readonly signatureValue: Uint8Array;
  /** `ecdsa` / `rsa` (DER SPKI), `ed25519` (raw 32 bytes) or `unknown` (DER SPKI). */
  readonly publicKey: TufKey;
  /** RSA modulus size in bits, else null. */
  readonly rsaModulusBits: number | null;
  readonly basicConstraintsValid: boolean;
  readonly isCA: boolean;
  /** -1 when absent. */
  readonly maxPathLen: number;
  /** Go's KeyUsage bit set (bit i = ASN.1 bit i, keyCertSign = 1<<5); 0 when absent. */
  readonly keyUsage: number;
  /** Names (`serverAuth`, `codeSigning`, `any`, …) or dotted OIDs; null when the extension is absent. */
  readonly extKeyUsage: string[] | null;
  readonly subjectKeyId: Uint8Array | null;
  readonly authorityKeyId: Uint8Array | null;
  /** A critical extension Go does not handle is present (Go's `UnhandledCriticalExtensions`). */
  readonly hasUnhandledCriticalExtension: boolean;
}

export const KeyUsageBit = { DigitalSignature: 1, KeyEncipherment: 4, CertSign: 32 } as const;

const EKU_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.37.0': 'any',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.5': 'ipsecEndSystem',
  '1.3.6.1.5.5.7.3.6': 'ipsecTunnel',
  '1.3.6.1.5.5.7.3.7': 'ipsecUser',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'ocspSigning',
  '1.3.6.1.4.1.311.10.3.3': 'microsoftServerGatedCrypto',
  '2.16.840.1.113730.4.1': 'netscapeServerGatedCrypto',
  '1.3.6.1.4.1.311.2.1.22': 'microsoftCommercialCodeSigning',
  '1.3.6.1.4.1.311.61.1.1': 'microsoftKernelCodeSigning',
};

/** Extensions Go's parser understands; any other one marked critical fails verification. */
const HANDLED_EXTENSIONS = new Set([
  '2.5.29.14', '2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.30', '2.5.29.31', '2.5.29.32', '2.5.29.35',
  '2.5.29.37', '1.3.6.1.5.5.7.1.1',
]);

const keyInfo = new WeakMap<ParsedCertificate, PublicKeyInfo>();

/** The parsed public key (with its KeyObject) of a certificate from this module. */
export function certificateKeyInfo(cert: ParsedCertificate): PublicKeyInfo {
  const info = keyInfo.get(cert);
  if (info !== undefined) return info;
  const parsed = parseSpki(cert.publicKey.keytype === 'ed25519' ? ed25519Spki(cert.publicKey.public) : cert.publicKey.public);
  keyInfo.set(cert, parsed);
  return parsed;
}


/**
 * Parse one DER certificate.
 * @throws CertificateError when Go's parser would refuse it
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  try {
    return parseCertificateUnchecked(der);
  } catch (err) {
    if (err instanceof CertificateError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new CertificateError(`x509: malformed certificate: ${reason}`, { cause: err });
  }
}

/**
 * Every certificate of a PEM bundle, in order (notary's `LoadCertBundleFromPEM`): each block
 * must be a `CERTIFICATE` that parses, and there must be at least one.
 * @throws CertificateError on other block types, unparsable certificates or no certificate
 */
export function parseCertificateChain(pem: string): ParsedCertificate[] {
  const blocks = pemDecodeAll(pem);
  const out: ParsedCertificate[] = [];
  for (const block of blocks) {
    if (block.type !== 'CERTIFICATE') throw new CertificateError(`invalid pem block type: ${block.type}`);
    out.push(parseCertificate(block.bytes));
  }
  if (out.length === 0) throw new CertificateError('no valid certificates found');
  return out;
}

function parseCertificateUnchecked(der: Uint8Array): ParsedCertificate {
  const [tbsNode, outerAlg, sigNode] = children(expectTag(parseDer(der), Tag.Sequence, 'certificate'));
  const tbs = children(expectTag(tbsNode, Tag.Sequence, 'tbsCertificate'));
  let i = 0;
  let version = 1;
  if (tbs[0]?.tag === 0xa0) {
    const [v, ...rest] = children(tbs[0]);
    if (rest.length > 0) throw new Error('malformed version');
    const n = readInteger(expectTag(v, Tag.Integer, 'version'));
    if (n < 0n || n > 2n) throw new Error('x509: invalid version');
    version = Number(n) + 1;
    i++;
  }
  const serialNumber = readInteger(expectTag(tbs[i++], Tag.Integer, 'serialNumber'));
  const innerAlg = expectTag(tbs[i++], Tag.Sequence, 'signature');
  const issuer = expectTag(tbs[i++], Tag.Sequence, 'issuer');
  const validity = children(expectTag(tbs[i++], Tag.Sequence, 'validity'));
  const subject = expectTag(tbs[i++], Tag.Sequence, 'subject');
  const spkiNode = expectTag(tbs[i++], Tag.Sequence, 'subjectPublicKeyInfo');
  // As Go: unique IDs and extensions are only looked at for v2/v3 (extensions for v3), and
  // anything else left in the TBS is ignored.
  let extensions: DerNode[] = [];
  if (version > 1) {
    if (tbs[i]?.tag === 0x81) i++;
    if (tbs[i]?.tag === 0x82) i++;
    if (version === 3 && tbs[i]?.tag === 0xa3) {
      const [seq] = children(tbs[i]!);
      extensions = children(expectTag(seq, Tag.Sequence, 'extensions'));
    }
  }

  expectTag(outerAlg, Tag.Sequence, 'signatureAlgorithm');
  if (!bytesEqual(innerAlg.full, outerAlg!.full)) {
    throw new Error("x509: inner and outer signature algorithm identifiers don't match");
  }
  const [signatureValue] = readBitString(expectTag(sigNode, Tag.BitString, 'signatureValue'));
  if (validity.length < 2) throw new Error('x509: malformed validity');
  const notBefore = parseTime(validity[0]!);
  const notAfter = parseTime(validity[1]!);
  const commonName = parseName(subject);
  parseName(issuer);

  const info = parseSpki(spkiNode.full);
  const publicKey: TufKey =
    info.kind === 'ed25519' ? { keytype: 'ed25519', public: info.raw } : { keytype: info.kind, public: info.spki };

  const ext = parseExtensions(extensions);
  const cert: ParsedCertificate = {
    der,
    pem: pemEncode('CERTIFICATE', der),
    version,
    serialNumber,
    commonName,
    rawSubject: subject.full,
    rawIssuer: issuer.full,
    notBefore,
    notAfter,
    signatureAlgorithm: signatureAlgorithmFromAI(innerAlg),
    rawTbs: tbsNode!.full,
    signatureValue,
    publicKey,
    rsaModulusBits: info.kind === 'rsa' ? info.modulusBits : null,
    ...ext,
  };
  keyInfo.set(cert, info);
  return cert;
}

type ExtensionFields = Pick<
  ParsedCertificate,
  | 'basicConstraintsValid'
  | 'isCA'
  | 'maxPathLen'
  | 'keyUsage'
  | 'extKeyUsage'
  | 'subjectKeyId'
  | 'authorityKeyId'
  | 'hasUnhandledCriticalExtension'
>;

function parseExtensions(exts: DerNode[]): ExtensionFields {
  const out = {
    basicConstraintsValid: false,
    isCA: false,
    maxPathLen: -1,
    keyUsage: 0,
    extKeyUsage: null as string[] | null,
    subjectKeyId: null as Uint8Array | null,
    authorityKeyId: null as Uint8Array | null,
    hasUnhandledCriticalExtension: false,
  };
  const seen = new Set<string>();
  for (const e of exts) {
    const parts = children(expectTag(e, Tag.Sequence, 'extension'));
    const oid = readOid(expectTag(parts[0], Tag.Oid, 'extnID'));
    let critical = false;
    let p = 1;
    if (parts[p]?.tag === Tag.Boolean) critical = readBoolean(parts[p++]!);
    const value = expectTag(parts[p++], Tag.OctetString, 'extnValue').content;
    if (p !== parts.length) throw new Error('malformed extension');
    if (seen.has(oid)) throw new Error('x509: certificate contains duplicate extensions');
    seen.add(oid);
    if (critical && !HANDLED_EXTENSIONS.has(oid)) out.hasUnhandledCriticalExtension = true;
    switch (oid) {
      case '2.5.29.15': {
        const [bits] = readBitString(expectTag(parseDer(value), Tag.BitString, 'keyUsage'));
        let usage = 0;
        for (let bit = 0; bit < 9; bit++) {
          const byte = bits[bit >> 3] ?? 0;
          if (byte & (0x80 >> (bit & 7))) usage |= 1 << bit;
        }
        out.keyUsage = usage;
        break;
      }
      case '2.5.29.19': {
        const bc = children(expectTag(parseDer(value), Tag.Sequence, 'basicConstraints'));
        let k = 0;
        if (bc[k]?.tag === Tag.Boolean) out.isCA = readBoolean(bc[k++]!);
        if (bc[k]?.tag === Tag.Integer) {
          const n = readInteger(bc[k++]!);
          if (n < 0n || n > 0x7fffffffn) throw new Error('x509: invalid basic constraints path length');
          out.maxPathLen = Number(n);
        }
        out.basicConstraintsValid = true;
        break;
      }
      case '2.5.29.37':
        out.extKeyUsage = children(expectTag(parseDer(value), Tag.Sequence, 'extKeyUsage')).map((n) => {
          const o = readOid(expectTag(n, Tag.Oid, 'keyPurposeId'));
          return EKU_NAMES[o] ?? o;
        });
        break;
      case '2.5.29.14':
        out.subjectKeyId = expectTag(parseDer(value), Tag.OctetString, 'subjectKeyIdentifier').content;
        break;
      case '2.5.29.35': {
        const aki = children(expectTag(parseDer(value), Tag.Sequence, 'authorityKeyIdentifier'));
        const kid = aki.find((n) => n.tag === 0x80);
        if (kid !== undefined) out.authorityKeyId = kid.content;
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** The subject's common name, validating every attribute value's string type as Go does. */
function parseName(name: DerNode): string {
  let cn = '';
  for (const rdn of children(name)) {
    for (const atv of children(expectTag(rdn, Tag.Set, 'RelativeDistinguishedName'))) {
      const [typeNode, valueNode, ...rest] = children(expectTag(atv, Tag.Sequence, 'AttributeTypeAndValue'));
      if (rest.length > 0 || valueNode === undefined) throw new Error('malformed attribute');
      const type = readOid(expectTag(typeNode, Tag.Oid, 'attribute type'));
      const value = decodeDirectoryString(valueNode);
      if (type === '2.5.4.3') cn = value;
    }
  }
  return cn;
}

function decodeDirectoryString(node: DerNode): string {
  const b = node.content;
  const latin1 = (): string => Buffer.from(b).toString('latin1');
  switch (node.tag) {
    case Tag.PrintableString:
      if (!/^[A-Za-z0-9 '()+,\-./:=?*&]*$/.test(latin1())) throw new Error('invalid PrintableString');
      return latin1();
    case Tag.Ia5String:
      if (b.some((c) => c >= 0x80)) throw new Error('invalid IA5String');
      return latin1();
    case Tag.NumericString:
      if (!/^[0-9 ]*$/.test(latin1())) throw new Error('invalid NumericString');
      return latin1();
    case Tag.T61String:
      return decodeUtf8GoStyle(b); // Go keeps the raw bytes as its string
    case Tag.Utf8String:
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
    case Tag.BmpString: {
      if (b.length % 2) throw new Error('invalid BMPString');
      let end = b.length;
      if (end >= 2 && b[end - 1] === 0 && b[end - 2] === 0) end -= 2;
      let s = '';
      for (let k = 0; k < end; k += 2) s += String.fromCharCode(((b[k] ?? 0) << 8) | (b[k + 1] ?? 0));
      return s;
    }
    default:
      throw new Error(`unsupported string type: ${node.tag}`);
  }
}

/** UTCTime / GeneralizedTime in the forms Go's cryptobyte accepts (canonical round trip). */
function parseTime(node: DerNode): Date {
  const s = Buffer.from(node.content).toString('latin1');
  // Groups: year, month, day, hour, minute, second?, fraction?, zone.
  let g: (string | undefined)[];
  if (node.tag === Tag.UtcTime) {
    const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(Z|[+-]\d{4})$/.exec(s);
    if (m === null) throw new Error('x509: malformed UTCTime');
    const yy = Number(m[1]);
    g = [String(yy >= 50 ? 1900 + yy : 2000 + yy), m[2], m[3], m[4], m[5], m[6], undefined, m[7]];
  } else if (node.tag === Tag.GeneralizedTime) {
    const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.\d*[1-9])?(Z|[+-]\d{4})$/.exec(s);
    if (m === null) throw new Error('x509: malformed GeneralizedTime');
    g = m.slice(1);
  } else {
    throw new Error('x509: malformed validity time');
  }
  const [year, month, day, hour, minute, second] = g.slice(0, 6).map((x) => (x === undefined ? 0 : Number(x))) as number[] as [
    number, number, number, number, number, number,
  ];
  const frac = g[6];
  const zone = g[7] ?? 'Z';
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new Error('x509: malformed time value');
  }
  let offsetMin = 0;
  if (zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(3, 5));
    if (zm > 59 || (zh === 0 && zm === 0)) throw new Error('x509: malformed time zone');
    offsetMin = (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm);
  }
  const ms = frac === undefined ? 0 : Math.floor(Number('0' + frac) * 1000);
  const t = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  t.setUTCFullYear(year, month - 1, day); // Date.UTC maps years 0–99 to 1900–1999
  return new Date(t.getTime() - offsetMin * 60000);
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}
