/**
 * Moving key files in and out of a FileKeyStore, as the CLIs do it (spec §11 `key import`/`key export`,
 * §12.2 `docker trust key load`).
 *
 * - `importKeys` (notary's `trustmanager.ImportKeys`): each PEM block is stored at its `path:` header
 *   (a legacy `tuf_keys/<gun>/<id>` path gives the GUN); without one, at the key's id, which needs the
 *   key to be unencrypted. Missing `role:`/`gun:` come from the fallbacks (role default `delegation`);
 *   only targets/snapshot/timestamp keep a GUN and they must have one. Unencrypted keys are encrypted
 *   with a new passphrase from the retriever. Consecutive blocks with the same path share one file.
 *   Blocks that do not qualify are skipped; an error is raised only when nothing was imported.
 * - `exportKeys` (notary's `key export`): the stored blocks, unchanged except for a `path:` header.
 * - `loadKeyFile` (docker's `key load`): refuses a file readable or writable by group/others, decrypts an
 *   encrypted key without `path:` with alias "encrypted" (docker's retriever maps it to the repository
 *   passphrase), then imports it with role = the name (a `role:` header in the file wins).
 *
 * Deliberate differences, all on the safe side: blocks that are not private keys are skipped instead
 * of being copied; `path:` values leaving the private directory are refused; several GUNs can be
 * exported at once (notary exports only the first); an encrypted file that `docker trust key load`
 * decrypts is really stored (docker 28 reports success but writes nothing).
 */
import { readFile, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { canonicalKeyId, pemDecode, pemDecodeAll } from '../crypto/index.ts';
import type { PemBlock, PrivateKey } from '../crypto/index.ts';
import { DeserializationError, PassphraseError, StateError } from '../errors/index.ts';
import { decryptKeyFile } from './client-file-store.ts';
import type { FileKeyStore } from './client-file-store.ts';
import { locationPath } from './client-file-io.ts';
import type { PassphraseRetriever } from './client-types.ts';
import { NON_ROOT_KEYS_SUBDIR } from './client-migrate.ts';
import {
  decodePrivateKeyBlock,
  encodePem,
  encodePemBlock,
  encodePrivateKeyPem,
  ENCRYPTED_PKCS8_TYPE,
  headerText,
  headerValue,
  pemText,
  PKCS8_TYPE,
  readPrivateKeyAttributes,
  roleKeepsGun,
} from './key-file.ts';
import { isLegacyKeyType } from './key-file-legacy.ts';

/** notary's fallback role for imported keys without a `role:` header. */
export const DEFAULT_IMPORT_ROLE = 'delegation';
const INVALID_BLOCK = 'invalid key pem block';

export interface ImportOptions {
  /** Role for blocks without a `role:` header (`-r`); default `delegation`. */
  readonly role?: string;
  /** GUN for blocks without a `gun:` header (`-g`). */
  readonly gun?: string;
  /** Retriever for the passphrases of unencrypted keys (default: the store's). */
  readonly retriever?: PassphraseRetriever;
}

export interface ImportResult {
  /** Locations written (`<id>` normally), in order. */
  readonly imported: string[];
  /** One reason per skipped block. */
  readonly skipped: string[];
}

/**
 * Import every PEM block of `data`.
 * @throws DeserializationError `failed to import all keys: …` when blocks were skipped and none imported
 * @throws PassphraseError when the retriever gives up on a new passphrase (files of earlier paths stay)
 */
export async function importKeys(store: FileKeyStore, data: string | Uint8Array, options: ImportOptions = {}): Promise<ImportResult> {
  const retriever = options.retriever ?? store.retriever;
  const imported: string[] = [];
  const skipped: string[] = [];
  let writeTo = '';
  let toWrite = '';
  const flush = async (): Promise<void> => {
    if (toWrite === '') return;
    await store.writeKeyFile(writeTo, toWrite);
    imported.push(writeTo);
    toWrite = '';
  };

  for (const block of pemDecodeAll(pemText(data))) {
    const headers: Record<string, string> = { ...block.headers };
    applyLegacyPath(headers);
    if (!headers['gun'] && options.gun) headers['gun'] = headerText(options.gun);
    if (!headers['role']) headers['role'] = headerText(options.role || DEFAULT_IMPORT_ROLE);
    const location = checkValidity(store, block, headers);
    if (location === null) {
      skipped.push(INVALID_BLOCK);
      continue;
    }
    delete headers['path'];
    let text = encodePemBlock(block.type, headers, block.bytes);
    const plain = tryDecode({ ...block, headers }, '');
    if (plain !== null) {
      const role = headerValue(headers['role'] ?? '');
      const passphrase = await retriever({ keyName: location, alias: role, createNew: true, attempt: 0 });
      text = encodePrivateKeyPem(plain.key, { role, gun: headerValue(headers['gun'] ?? ''), passphrase });
    }
    if (location !== writeTo) {
      await flush();
      writeTo = location;
    }
    toWrite += text;
  }
  await flush();
  if (imported.length === 0 && skipped.length > 0) {
    throw new DeserializationError(`failed to import all keys: ${skipped.join(', ')}`);
  }
  return { imported, skipped };
}

/** A `path:` with directories (an export by an older client): GUN from `tuf_keys/<gun>/…`, path = base name. */
function applyLegacyPath(headers: Record<string, string>): void {
  const raw = headers['path'];
  if (raw === undefined || raw === '' || raw === posix.basename(raw)) return;
  const dir = posix.dirname(raw);
  if (dir.startsWith(NON_ROOT_KEYS_SUBDIR)) {
    const gun = dir.slice(NON_ROOT_KEYS_SUBDIR.length).replace(/^\/+|\/+$/g, '');
    if (gun !== '') headers['gun'] = gun;
  }
  headers['path'] = posix.basename(raw);
}

/** notary's `checkValidity`: the location to store the block at, or null to skip it. */
function checkValidity(store: FileKeyStore, block: PemBlock, headers: Record<string, string>): string | null {
  if (!isPrivateKeyType(block.type)) return null;
  if (roleKeepsGun(headerValue(headers['role'] ?? ''))) {
    if (!headers['gun']) return null; // a targets/snapshot/timestamp key must say which GUN it is for
  } else delete headers['gun'];
  let location = headers['path'] ?? '';
  if (location === '') {
    const plain = tryDecode({ ...block, headers }, '');
    if (plain === null) return null; // encrypted and no path: the id is unknown
    location = plain.id;
  }
  return locationPath(store.privateDir, headerValue(location)) === null ? null : headerValue(location);
}

function isPrivateKeyType(type: string): boolean {
  return type === ENCRYPTED_PKCS8_TYPE || type === PKCS8_TYPE || isLegacyKeyType(type);
}

/** The key in an unencrypted block with its canonical id, or null (encrypted, or not a key). */
function tryDecode(block: PemBlock, passphrase: string): { key: PrivateKey; id: string } | null {
  try {
    const { key } = decodePrivateKeyBlock(block, passphrase);
    return { key, id: canonicalKeyId(key.publicKey) };
  } catch {
    return null;
  }
}

export interface ExportFilter {
  /** Export only these key ids (`--key`). */
  readonly keyIds?: readonly string[];
  /** Export only keys whose first block has one of these `gun:` headers (`--gun`). */
  readonly guns?: readonly string[];
}

/**
 * notary's `key export`: every matching file's PEM blocks, each with `path: <location>` added
 * (no decryption). Without a filter, all keys.
 * @throws TypeError when both key ids and GUNs are given
 */
export async function exportKeys(store: FileKeyStore, filter: ExportFilter = {}): Promise<string> {
  const keyIds = filter.keyIds ?? [];
  const guns = filter.guns ?? [];
  if (keyIds.length > 0 && guns.length > 0) {
    throw new TypeError('Only the --gun or --key flag may be provided, not a mix of the two flags');
  }
  const locations = await store.listLocations();
  let out = '';
  if (guns.length > 0) {
    const sorted = [...locations].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const gun of guns) {
      for (const location of sorted) {
        const bytes = await store.readKeyFile(location);
        if (bytes === null) continue;
        const [block] = pemDecode(pemText(bytes));
        if (block !== null && headerValue(block.headers['gun'] ?? '') === gun) out += exportBlocks(bytes, location);
      }
    }
    return out;
  }
  const wanted = new Set(keyIds);
  for (const location of locations) {
    if (wanted.size > 0 && !wanted.has(posix.basename(location))) continue;
    const bytes = await store.readKeyFile(location);
    if (bytes !== null) out += exportBlocks(bytes, location);
  }
  return out;
}

function exportBlocks(bytes: Uint8Array, location: string): string {
  return pemDecodeAll(pemText(bytes))
    .map((b) => encodePem({ ...b, headers: { ...b.headers, path: headerText(location) } }))
    .join('');
}

/** docker's rule for signer/key names. */
const KEY_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export interface LoadKeyOptions {
  /** `--name` (default `signer`). */
  readonly name?: string;
  /** Retriever for decrypting the file and for the new passphrase (default: the store's). */
  readonly retriever?: PassphraseRetriever;
}

/**
 * docker's `trust key load FILE`. Error messages are docker's, as printed after `Loading key from "FILE"...`.
 * @returns the import result (the canonical key id is `imported[0]`)
 * @throws RangeError for a bad name; StateError for a file others may read or write;
 *   DeserializationError when the file is not a private key; PassphraseError when it cannot be decrypted
 */
export async function loadKeyFile(store: FileKeyStore, file: string, options: LoadKeyOptions = {}): Promise<ImportResult> {
  const name = options.name ?? 'signer';
  const retriever = options.retriever ?? store.retriever;
  if (name !== '' && !KEY_NAME.test(name)) {
    throw new RangeError(`key name "${name}" must start with lowercase alphanumeric characters and can include "-" or "_" after the first character`);
  }
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) {
    throw new StateError(`refusing to load key from ${file}: private key file ${file} must not be readable or writable by others`);
  }
  const bytes = new Uint8Array(await readFile(file));
  const prefix = `error importing key from ${file}: `;
  try {
    readPrivateKeyAttributes(bytes);
  } catch (err) {
    throw new DeserializationError(`${prefix}provided file ${file} is not a supported private key - to add a signer's public key use docker trust signer add`, { cause: err });
  }
  let data: string | Uint8Array = bytes;
  const [block] = pemDecode(pemText(bytes));
  if (block !== null && (Object.hasOwn(block.headers, 'DEK-Info') || block.type === ENCRYPTED_PKCS8_TYPE) && !Object.hasOwn(block.headers, 'path')) {
    let decoded;
    try {
      decoded = await decryptKeyFile(bytes, { keyName: '', alias: 'encrypted', retriever, maxAttempts: store.maxPassphraseAttempts });
    } catch (err) {
      if (err instanceof PassphraseError) {
        throw new PassphraseError(`${prefix}cannot load key from provided file ${file}: could not decrypt key`, { cause: err });
      }
      throw err;
    }
    data = encodePrivateKeyPem(decoded.key, { role: decoded.role, gun: decoded.gun, passphrase: '' });
  }
  try {
    return await importKeys(store, data, { role: name, gun: '', retriever });
  } catch (err) {
    if (err instanceof DeserializationError) throw new DeserializationError(prefix + err.message, { cause: err });
    throw err;
  }
}
