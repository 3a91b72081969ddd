/**
 * Certificate signature algorithms as Go 1.19's crypto/x509 names and checks them: mapping an
 * AlgorithmIdentifier to Go's name (`SHA256-RSA`, `ECDSA-SHA256`, …; `0` when unknown), and
 * `checkCertSignature`, the equivalent of Go's `checkSignature` with SHA-1 disallowed.
 */
import { verify, constants } from 'node:crypto';
import { children, readOid, Tag, readInteger, type DerNode } from './der.ts';
import type { PublicKeyInfo } from './public-key.ts';

interface AlgorithmDetails {
  readonly name: string;
  readonly keyKind: 'rsa' | 'rsapss' | 'ecdsa' | 'ed25519' | 'dsa';
  /** node:crypto digest name; null for Ed25519 (no pre-hash) and MD2. */
  readonly hash: 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | null;
}

const BY_OID: Readonly<Record<string, AlgorithmDetails>> = {
  '1.2.840.113549.1.1.2': { name: 'MD2-RSA', keyKind: 'rsa', hash: null },
  '1.2.840.113549.1.1.4': { name: 'MD5-RSA', keyKind: 'rsa', hash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'SHA1-RSA', keyKind: 'rsa', hash: 'sha1' },
  '1.3.14.3.2.29': { name: 'SHA1-RSA', keyKind: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'SHA256-RSA', keyKind: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'SHA384-RSA', keyKind: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'SHA512-RSA', keyKind: 'rsa', hash: 'sha512' },
  '1.2.840.10040.4.3': { name: 'DSA-SHA1', keyKind: 'dsa', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { name: 'DSA-SHA256', keyKind: 'dsa', hash: 'sha256' },
  '1.2.840.10045.4.1': { name: 'ECDSA-SHA1', keyKind: 'ecdsa', hash: 'sha1' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA-SHA256', keyKind: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA-SHA384', keyKind: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA-SHA512', keyKind: 'ecdsa', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', keyKind: 'ed25519', hash: null },
};

const PSS: Readonly<Record<string, AlgorithmDetails>> = {
  '2.16.840.1.101.3.4.2.1': { name: 'SHA256-RSAPSS', keyKind: 'rsapss', hash: 'sha256' },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA384-RSAPSS', keyKind: 'rsapss', hash: 'sha384' },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA512-RSAPSS', keyKind: 'rsapss', hash: 'sha512' },
};
const PSS_SALT: Readonly<Record<string, number>> = { sha256: 32, sha384: 48, sha512: 64 };
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const MGF1 = '1.2.840.113549.1.1.8';

const BY_NAME = new Map<string, AlgorithmDetails>(
  [...Object.values(BY_OID), ...Object.values(PSS)].map((d) => [d.name, d]),
);

/** Go's SignatureAlgorithm name for an AlgorithmIdentifier node; `0` when Go would not know it. */
export function signatureAlgorithmFromAI(ai: DerNode): string {
  try {
    const [oidNode, params] = children(ai);
    if (oidNode?.tag !== Tag.Oid) return '0';
    const oid = readOid(oidNode);
    if (oid === '1.3.101.112' && params !== undefined) return '0';
    if (oid !== RSASSA_PSS) return BY_OID[oid]?.name ?? '0';
    return pssName(params);
  } catch {
    return '0';
  }
}

/** RSASSA-PSS parameters: Go accepts only MGF1 with the message hash and salt = hash length. */
function pssName(params: DerNode | undefined): string {
  if (params === undefined || params.tag !== Tag.Sequence) return '0';
  const fields = new Map(children(params).map((n) => [n.tag, n]));
  const hashAI = fields.get(0xa0);
  const mgfAI = fields.get(0xa1);
  const saltNode = fields.get(0xa2);
  const trailerNode = fields.get(0xa3);
  if (hashAI === undefined || mgfAI === undefined || saltNode === undefined) return '0';
  const [hashSeq] = children(hashAI);
  const [hashOidNode, hashParams] = hashSeq === undefined ? [] : children(hashSeq);
  if (hashOidNode?.tag !== Tag.Oid || !isNullOrAbsent(hashParams)) return '0';
  const hashOid = readOid(hashOidNode);
  const [mgfSeq] = children(mgfAI);
  const [mgfOidNode, mgfHash] = mgfSeq === undefined ? [] : children(mgfSeq);
  if (mgfOidNode?.tag !== Tag.Oid || readOid(mgfOidNode) !== MGF1 || mgfHash?.tag !== Tag.Sequence) return '0';
  const [mgfHashOid, mgfHashParams] = children(mgfHash);
  if (mgfHashOid?.tag !== Tag.Oid || readOid(mgfHashOid) !== hashOid || !isNullOrAbsent(mgfHashParams)) return '0';
  const [salt] = children(saltNode);
  if (salt?.tag !== Tag.Integer) return '0';
  if (trailerNode !== undefined) {
    const [t] = children(trailerNode);
    if (t?.tag !== Tag.Integer || readInteger(t) !== 1n) return '0';
  }
  const details = PSS[hashOid];
  if (details === undefined || details.hash === null || readInteger(salt) !== BigInt(PSS_SALT[details.hash] ?? -1)) return '0';
  return details.name;
}

function isNullOrAbsent(n: DerNode | undefined): boolean {
  return n === undefined || (n.tag === Tag.Null && n.content.length === 0);
}

/** True for the algorithms notary refuses in certificates (spec §3.2). */
export function isSha1SignatureAlgorithm(name: string): boolean {
  return name === 'SHA1-RSA' || name === 'DSA-SHA1' || name === 'ECDSA-SHA1';
}

/**
 * Go's `checkSignature(algo, signed, signature, publicKey, allowSHA1=false)`: MD5 and SHA-1
 * are refused, the key type must fit the algorithm. Returns false instead of throwing.
 */
export function checkCertSignature(algorithm: string, signed: Uint8Array, signature: Uint8Array, key: PublicKeyInfo): boolean {
  const details = BY_NAME.get(algorithm);
  if (details === undefined) return false;
  if (details.hash === 'md5' || details.hash === 'sha1') return false;
  try {
    switch (details.keyKind) {
      case 'rsa':
      case 'rsapss': {
        if (key.kind !== 'rsa' || details.hash === null) return false;
        if (signature.length !== Math.ceil(key.modulusBits / 8)) return false;
        const pss = details.keyKind === 'rsapss';
        return verify(
          details.hash,
          signed,
          pss ? { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT[details.hash] ?? 0 } : key.key,
          signature,
        );
      }
      case 'ecdsa':
        if (key.kind !== 'ecdsa' || details.hash === null) return false;
        return verify(details.hash, signed, { key: key.key, dsaEncoding: 'der' }, signature);
      case 'ed25519':
        if (key.kind !== 'ed25519') return false;
        return verify(null, signed, key.key, signature);
      default:
        return false; // DSA is not supported by this implementation
    }
  } catch {
    return false;
  }
}
