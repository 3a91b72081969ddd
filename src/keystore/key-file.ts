/**
 * notary's private and public key PEM files (spec §9.2), shared with the notary and docker CLIs.
 *
 * Writing: `ENCRYPTED PRIVATE KEY` (PBES2/PBKDF2-SHA1/AES-256-CBC over notary's PKCS#8 dialect) or,
 * for an empty passphrase, `PRIVATE KEY`; headers `gun:`/`role:` written the way Go's `pem.Encode`
 * writes them (`Proc-Type` first, the rest sorted, then a blank line). Reading: the first PEM block
 * only (Go's `pem.Decode`), PKCS#8 in both forms plus the legacy `EC/RSA/ED25519 PRIVATE KEY` blocks.
 * Public keys: `PUBLIC KEY` with a `role:` header, as `notary key generate -o` and
 * `docker trust key generate` write them.
 *
 * Not here: where files live and which passphrase to try (client-file-store.ts), passphrase
 * prompting (passphrase.ts).
 *
 * @example
 *   const pem = encodePrivateKeyPem(key, { role: 'targets', gun: 'example.com/app', passphrase: 'pw' });
 *   decodePrivateKeyPem(pem, 'pw').key.raw; // same bytes as key.raw
 */
import { tufKeyId, pemDecode } from '../crypto/index.ts';
import type { PemBlock, PrivateKey, TufKey } from '../crypto/index.ts';
import { ed25519Spki, parseSpki } from '../crypto/public-key.ts';
import { DeserializationError, PassphraseError } from '../errors/index.ts';
import { isLegacyKeyType, isRfc1423Encrypted, parseLegacyPrivateKey } from './key-file-legacy.ts';
import { decodePkcs8, decryptPkcs8, encodePkcs8, encryptPkcs8 } from './key-file-pkcs8.ts';
import type { Pkcs8EncryptOptions } from './key-file-pkcs8.ts';

export const ENCRYPTED_PKCS8_TYPE = 'ENCRYPTED PRIVATE KEY';
export const PKCS8_TYPE = 'PRIVATE KEY';
export const PUBLIC_KEY_TYPE = 'PUBLIC KEY';

/** Roles whose keys carry a `gun:` header (notary clears it for root, delegations and other names). */
const GUN_ROLES: ReadonlySet<string> = new Set(['targets', 'snapshot', 'timestamp']);

/** Whether a key of `role` is stored with its GUN (only targets, snapshot and timestamp keys are). */
export function roleKeepsGun(role: string): boolean {
  return GUN_ROLES.has(role);
}

/**
 * PEM text is handled as latin1 (one character per byte); a header value given as a JS string is
 * written as its UTF-8 bytes, as Go writes a string.
 */
export function headerText(value: string): string {
  return Buffer.from(value, 'utf8').toString('latin1');
}

/** The JS string of a header value read from latin1 PEM text (the inverse of `headerText`). */
export function headerValue(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

/** File bytes as the latin1 text the PEM functions take (every byte one character, as Go reads them). */
export function pemText(data: string | Uint8Array): string {
  return typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
}

/**
 * Go's `pem.Encode`: `Proc-Type` first, the other headers sorted by key (byte order), a blank line
 * after them, 64-column base64.
 * @throws TypeError when a header key contains a colon (Go refuses it too)
 */
export function encodePemBlock(type: string, headers: Readonly<Record<string, string>>, bytes: Uint8Array): string {
  const keys = Object.keys(headers);
  for (const k of keys) if (k.includes(':')) throw new TypeError('pem: cannot encode a header key that contains a colon');
  let out = `-----BEGIN ${type}-----\n`;
  if (keys.length > 0) {
    const ordered = keys.filter((k) => k !== 'Proc-Type').sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (keys.includes('Proc-Type')) ordered.unshift('Proc-Type');
    for (const k of ordered) out += `${k}: ${headers[k]}\n`;
    out += '\n';
  }
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return out + `-----END ${type}-----\n`;
}

/** `encodePemBlock` for a decoded block. */
export function encodePem(block: PemBlock): string {
  return encodePemBlock(block.type, block.headers, block.bytes);
}

export interface PrivateKeyPemOptions extends Pkcs8EncryptOptions {
  /** `role:` header; omitted when empty. */
  readonly role?: string;
  /** `gun:` header; omitted when empty. The caller decides whether the role keeps a GUN (`roleKeepsGun`). */
  readonly gun?: string;
  /** Empty ⇒ an unencrypted `PRIVATE KEY` block. */
  readonly passphrase: string;
}

/** notary's `ConvertPrivateKeyToPKCS8`: the key file text for `key`. */
export function encodePrivateKeyPem(key: PrivateKey, options: PrivateKeyPemOptions): string {
  const headers: Record<string, string> = {};
  if (options.role) headers['role'] = headerText(options.role);
  if (options.gun) headers['gun'] = headerText(options.gun);
  const inner = encodePkcs8(key);
  if (options.passphrase === '') return encodePemBlock(PKCS8_TYPE, headers, inner);
  return encodePemBlock(ENCRYPTED_PKCS8_TYPE, headers, encryptPkcs8(inner, options.passphrase, options));
}

export interface PrivateKeyAttributes {
  /** The block type, e.g. `ENCRYPTED PRIVATE KEY`. */
  readonly type: string;
  /** `role:` header ("" when absent), decoded from UTF-8. */
  readonly role: string;
  /** `gun:` header ("" when absent), decoded from UTF-8. */
  readonly gun: string;
  /** All headers as latin1 text (one character per byte). */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether a passphrase is needed to open it. */
  readonly encrypted: boolean;
}

function firstBlock(data: string | Uint8Array, emptyMessage: string): PemBlock {
  const [block] = pemDecode(pemText(data));
  if (block === null) throw new DeserializationError(emptyMessage);
  return block;
}

function attributesOf(block: PemBlock): PrivateKeyAttributes {
  const { type, headers } = block;
  const known = type === ENCRYPTED_PKCS8_TYPE || type === PKCS8_TYPE || isLegacyKeyType(type);
  if (!known) throw new DeserializationError('unknown key format');
  return {
    type,
    role: headerValue(headers['role'] ?? ''),
    gun: headerValue(headers['gun'] ?? ''),
    headers,
    encrypted: type === ENCRYPTED_PKCS8_TYPE || (isLegacyKeyType(type) && isRfc1423Encrypted(block)),
  };
}

/**
 * notary's `ExtractPrivateKeyAttributes`: role and GUN headers of the first block, no passphrase needed.
 * @throws DeserializationError when there is no PEM block or it is not a private key type notary reads
 */
export function readPrivateKeyAttributes(data: string | Uint8Array): PrivateKeyAttributes {
  return attributesOf(firstBlock(data, 'PEM block is empty'));
}

export interface DecodedPrivateKeyPem extends PrivateKeyAttributes {
  readonly key: PrivateKey;
}

/**
 * notary's `ParsePEMPrivateKey` on the first PEM block. Unencrypted blocks open with any passphrase;
 * encrypted ones need the right one (an empty passphrase never opens them).
 * @throws PassphraseError when the block is encrypted and `passphrase` does not open it
 * @throws DeserializationError when there is no block, the type is unknown or the content is not a key
 */
export function decodePrivateKeyPem(data: string | Uint8Array, passphrase: string): DecodedPrivateKeyPem {
  return decodePrivateKeyBlock(firstBlock(data, 'no valid private key found'), passphrase);
}

/** `decodePrivateKeyPem` for an already decoded block. */
export function decodePrivateKeyBlock(block: PemBlock, passphrase: string): DecodedPrivateKeyPem {
  const attributes = attributesOf(block);
  let key: PrivateKey;
  if (block.type === PKCS8_TYPE) key = decodePkcs8(block.bytes);
  else if (block.type === ENCRYPTED_PKCS8_TYPE) {
    if (passphrase === '') throw new PassphraseError('could not decrypt private key: a passphrase is needed');
    key = decryptPkcs8(block.bytes, passphrase);
  } else key = parseLegacyPrivateKey(block, passphrase);
  return { ...attributes, key };
}

/**
 * The `PUBLIC KEY` file of `notary key generate -o` / `docker trust key generate`: DER SPKI with a
 * `role:` header (omitted when `role` is empty).
 */
export function encodePublicKeyPem(key: TufKey, role: string): string {
  let spki: Uint8Array;
  if (key.keytype === 'ecdsa' || key.keytype === 'rsa') spki = key.public;
  else if (key.keytype === 'ed25519') spki = ed25519Spki(key.public);
  else throw new TypeError(`cannot write a ${key.keytype} key as a PUBLIC KEY block`);
  return encodePemBlock(PUBLIC_KEY_TYPE, role ? { role: headerText(role) } : {}, spki);
}

/**
 * notary's `ParsePEMPublicKey` for `PUBLIC KEY` blocks: ECDSA and RSA keys (Ed25519 is refused, as
 * notary refuses it). Certificates are read by the x509 functions of src/crypto instead.
 * @throws DeserializationError when the first block is not a usable `PUBLIC KEY`
 */
export function decodePublicKeyPem(data: string | Uint8Array): { key: TufKey; keyId: string; role: string } {
  const block = firstBlock(data, 'no valid public key found');
  if (block.type !== PUBLIC_KEY_TYPE) {
    throw new DeserializationError(`unsupported PEM block type "${block.type}", expected CERTIFICATE or PUBLIC KEY`);
  }
  let kind: string;
  try {
    kind = parseSpki(block.bytes).kind;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DeserializationError(`unable to parse pem encoded public key: ${reason}`, { cause: err });
  }
  if (kind !== 'ecdsa' && kind !== 'rsa') throw new DeserializationError('unknown public key format');
  const key: TufKey = { keytype: kind, public: block.bytes };
  return { key, keyId: tufKeyId(key), role: headerValue(block.headers['role'] ?? '') };
}
