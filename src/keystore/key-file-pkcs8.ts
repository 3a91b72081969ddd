/**
 * notary's PKCS#8 dialect for private key files (spec §9.2, quirk §13 item 14).
 *
 * The inner structure is `SEQUENCE { INTEGER version, SEQUENCE OF OID algorithms, OCTET STRING key }`:
 * - ECDSA: version 1, algorithms {id-ecPublicKey, <named curve>}, key = SEC1 `ECPrivateKey` DER;
 * - RSA: version 0, algorithms {rsaEncryption} (no NULL parameter), key = PKCS#1 DER;
 * - Ed25519: version 0, algorithms {1.3.6.1.4.1.11591.15.1} (GnuPG's OID), key = the 96 raw bytes.
 * Standard PKCS#8 from other tools (version 0, NULL parameters, curve-less SEC1) is read too, as
 * Go's `x509.ParsePKCS8PrivateKey` reads it; standard Ed25519 (1.3.101.112) is refused like notary
 * refuses it ("unsupported key type").
 *
 * Encryption is PBES2 with PBKDF2 parameters `{salt (8 bytes), iterationCount 2048}` and AES-256-CBC
 * with a 16-byte IV. No key length and no PRF are written; when reading, any PRF element is ignored and
 * HMAC-SHA1 is always used, and the PKCS#7 padding is not checked (trailing bytes after the inner
 * SEQUENCE are ignored), as notary does.
 *
 * Not here: PEM armour and headers (key-file.ts), legacy `EC/RSA/ED25519 PRIVATE KEY` blocks
 * (key-file-legacy.ts).
 *
 * @example
 *   const der = encryptPkcs8(encodePkcs8(key), 'correct horse');
 *   const same = decodePkcs8(decryptPkcs8(der, 'correct horse'));
 */
import { createCipheriv, createDecipheriv, createPrivateKey, pbkdf2Sync, randomBytes } from 'node:crypto';
import { privateKeyFromRaw } from '../crypto/index.ts';
import type { PrivateKey } from '../crypto/index.ts';
import {
  children,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeUnsignedInteger,
  expectTag,
  parseDer,
  readInteger,
  readNode,
  readOid,
  Tag,
  type DerNode,
} from '../crypto/der.ts';
import { DeserializationError, PassphraseError } from '../errors/index.ts';

/** The message notary gives for a passphrase that does not open a key. */
export const WRONG_PASSPHRASE_MESSAGE = 'password invalid, operation has failed.';

export const PKCS8_OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519GnuPG: '1.3.6.1.4.1.11591.15.1',
  ed25519: '1.3.101.112',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

const CURVES: ReadonlySet<string> = new Set([
  '1.3.132.0.33', // P-224
  '1.2.840.10045.3.1.7', // P-256
  '1.3.132.0.34', // P-384
  '1.3.132.0.35', // P-521
]);

/** notary's PBKDF2 iteration count for new files. */
export const PBKDF2_ITERATIONS = 2048;
/** Highest iteration count accepted when reading: bounds the work a hostile file can demand. */
const MAX_PBKDF2_ITERATIONS = 1_000_000;

/** The inner (unencrypted) DER of `key` in notary's dialect. */
export function encodePkcs8(key: PrivateKey): Uint8Array {
  switch (key.keytype) {
    case 'ecdsa':
      return encodeSequence(
        encodeUnsignedInteger(1n),
        encodeSequence(encodeOid(PKCS8_OID.ecPublicKey), encodeOid(sec1Curve(key.raw))),
        encodeOctetString(key.raw),
      );
    case 'rsa':
      return encodeSequence(encodeUnsignedInteger(0n), encodeSequence(encodeOid(PKCS8_OID.rsaEncryption)), encodeOctetString(key.raw));
    case 'ed25519':
      return encodeSequence(encodeUnsignedInteger(0n), encodeSequence(encodeOid(PKCS8_OID.ed25519GnuPG)), encodeOctetString(key.raw));
    default:
      throw new TypeError(`cannot encode a private key of type ${String(key.keytype)}`);
  }
}

/**
 * Parse an unencrypted PKCS#8 DER (notary's dialect or the standard form).
 * @throws DeserializationError when it is not a private key notary can use
 */
export function decodePkcs8(der: Uint8Array): PrivateKey {
  let version: DerNode | undefined;
  let algs: DerNode[];
  let keyBytes: Uint8Array;
  try {
    const [outer] = readNode(der, 0); // trailing bytes (padding) are ignored, as Go's asn1.Unmarshal does
    [version, ...algs] = children(expectTag(outer, Tag.Sequence, 'PrivateKeyInfo'));
    readInteger(expectTag(version, Tag.Integer, 'version'));
    const [algNode, keyNode] = algs;
    algs = children(expectTag(algNode, Tag.Sequence, 'privateKeyAlgorithm'));
    keyBytes = expectTag(keyNode, Tag.OctetString, 'privateKey').content;
  } catch (err) {
    throw new DeserializationError('could not decrypt private key', { cause: err });
  }
  const [oidNode, params] = algs;
  const algorithm = oidNode?.tag === Tag.Oid ? safeOid(oidNode) : '';
  switch (algorithm) {
    case PKCS8_OID.ed25519GnuPG:
      return privateKeyFromRaw('ed25519', keyBytes);
    case PKCS8_OID.rsaEncryption:
      return privateKeyFromRaw('rsa', keyBytes);
    case PKCS8_OID.ecPublicKey:
      return ecKeyFromPkcs8(params, keyBytes);
    default:
      throw new DeserializationError('unsupported key type');
  }
}

/** ECDSA: the curve comes from the algorithm parameters, else from the SEC1 structure (Go's rule). */
function ecKeyFromPkcs8(params: DerNode | undefined, sec1: Uint8Array): PrivateKey {
  let curve = params?.tag === Tag.Oid ? safeOid(params) : '';
  if (curve === '') {
    try {
      curve = sec1Curve(sec1);
    } catch (err) {
      throw new DeserializationError('x509: unknown elliptic curve', { cause: err });
    }
  }
  if (!CURVES.has(curve)) throw new DeserializationError('x509: unknown elliptic curve');
  const standard = encodeSequence(encodeUnsignedInteger(0n), encodeSequence(encodeOid(PKCS8_OID.ecPublicKey), encodeOid(curve)), encodeOctetString(sec1));
  let normalized: Uint8Array;
  try {
    const ko = createPrivateKey({ key: Buffer.from(standard), format: 'der', type: 'pkcs8' });
    normalized = new Uint8Array(ko.export({ format: 'der', type: 'sec1' }));
  } catch (err) {
    throw new DeserializationError('x509: failed to parse EC private key embedded in PKCS#8', { cause: err });
  }
  return privateKeyFromRaw('ecdsa', normalized);
}

/** The named-curve OID inside a SEC1 `ECPrivateKey` (`[0] EXPLICIT OID`). */
function sec1Curve(sec1: Uint8Array): string {
  const fields = children(expectTag(parseDer(sec1), Tag.Sequence, 'ECPrivateKey'));
  const tagged = fields.find((f) => f.tag === 0xa0);
  if (tagged === undefined) throw new Error('ECPrivateKey has no named curve');
  return readOid(expectTag(parseDer(tagged.content), Tag.Oid, 'namedCurve'));
}

function safeOid(node: DerNode): string {
  try {
    return readOid(node);
  } catch {
    return '';
  }
}

/** Test seams: fixed salt and IV make the output deterministic. */
export interface Pkcs8EncryptOptions {
  readonly salt?: Uint8Array;
  readonly iv?: Uint8Array;
}

/** Encrypt an inner PKCS#8 DER into notary's `EncryptedPrivateKeyInfo`. */
export function encryptPkcs8(inner: Uint8Array, passphrase: string, options: Pkcs8EncryptOptions = {}): Uint8Array {
  const salt = options.salt ?? randomBytes(8);
  const iv = options.iv ?? randomBytes(16);
  if (iv.length !== 16) throw new RangeError('AES-256-CBC needs a 16-byte IV');
  const key = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, PBKDF2_ITERATIONS, 32, 'sha1');
  const cipher = createCipheriv('aes-256-cbc', key, iv); // PKCS#7 padding, always at least one byte
  const encrypted = Buffer.concat([cipher.update(inner), cipher.final()]);
  return encodeSequence(
    encodeSequence(
      encodeOid(PKCS8_OID.pbes2),
      encodeSequence(
        encodeSequence(encodeOid(PKCS8_OID.pbkdf2), encodeSequence(encodeOctetString(salt), encodeUnsignedInteger(BigInt(PBKDF2_ITERATIONS)))),
        encodeSequence(encodeOid(PKCS8_OID.aes256Cbc), encodeOctetString(iv)),
      ),
    ),
    encodeOctetString(encrypted),
  );
}

interface Pbes2Parameters {
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly iv: Uint8Array;
  readonly encrypted: Uint8Array;
}

/**
 * Decrypt an `EncryptedPrivateKeyInfo` and parse the key inside.
 * @throws DeserializationError when the structure or algorithms are not notary's (these do not depend
 *   on the passphrase)
 * @throws PassphraseError when the passphrase does not open it
 */
export function decryptPkcs8(der: Uint8Array, passphrase: string): PrivateKey {
  const p = readPbes2(der);
  const key = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), p.salt, p.iterations, 32, 'sha1');
  const decipher = createDecipheriv('aes-256-cbc', key, p.iv);
  decipher.setAutoPadding(false); // notary does not check the padding
  const plain = Buffer.concat([decipher.update(p.encrypted), decipher.final()]);
  try {
    return decodePkcs8(new Uint8Array(plain));
  } catch (err) {
    throw new PassphraseError(WRONG_PASSPHRASE_MESSAGE, { cause: err });
  }
}

function readPbes2(der: Uint8Array): Pbes2Parameters {
  let fields: Pbes2Parameters & { readonly oids: readonly [string, string, string] };
  try {
    const [outer] = readNode(der, 0);
    const [algNode, dataNode] = children(expectTag(outer, Tag.Sequence, 'EncryptedPrivateKeyInfo'));
    const [pbes2Oid, pbes2Params] = children(expectTag(algNode, Tag.Sequence, 'encryptionAlgorithm'));
    const [kdf, scheme] = children(expectTag(pbes2Params, Tag.Sequence, 'PBES2-params'));
    const [kdfOid, kdfParams] = children(expectTag(kdf, Tag.Sequence, 'keyDerivationFunc'));
    // salt and iteration count; a keyLength or PRF after them is ignored (always HMAC-SHA1)
    const [salt, iter] = children(expectTag(kdfParams, Tag.Sequence, 'PBKDF2-params'));
    const [encOid, iv] = children(expectTag(scheme, Tag.Sequence, 'encryptionScheme'));
    fields = {
      oids: [
        readOid(expectTag(pbes2Oid, Tag.Oid, 'PBES2 OID')),
        readOid(expectTag(kdfOid, Tag.Oid, 'PBKDF2 OID')),
        readOid(expectTag(encOid, Tag.Oid, 'cipher OID')),
      ],
      salt: expectTag(salt, Tag.OctetString, 'salt').content,
      iterations: Number(readInteger(expectTag(iter, Tag.Integer, 'iterationCount'))),
      iv: expectTag(iv, Tag.OctetString, 'IV').content,
      encrypted: expectTag(dataNode, Tag.OctetString, 'encryptedData').content,
    };
  } catch (err) {
    throw new DeserializationError('pkcs8: only PKCS #5 v2.0 supported', { cause: err });
  }
  const [pbes2, kdf, cipher] = fields.oids;
  if (pbes2 !== PKCS8_OID.pbes2) throw new DeserializationError('pkcs8: only PBES2 supported');
  if (kdf !== PKCS8_OID.pbkdf2) throw new DeserializationError('pkcs8: only PBKDF2 supported');
  if (cipher !== PKCS8_OID.aes256Cbc) throw new DeserializationError('pkcs8: only AES-256-CBC supported');
  if (fields.iterations < 1 || fields.iterations > MAX_PBKDF2_ITERATIONS) {
    throw new DeserializationError(`pkcs8: PBKDF2 iteration count ${fields.iterations} out of range`);
  }
  if (fields.iv.length !== 16) throw new DeserializationError('pkcs8: AES-256-CBC IV must be 16 bytes');
  if (fields.encrypted.length === 0 || fields.encrypted.length % 16 !== 0) {
    throw new DeserializationError('pkcs8: encrypted data is not a whole number of AES blocks');
  }
  return fields;
}
