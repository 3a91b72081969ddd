/**
 * The client's private keys under `<trust_dir>/private/` (spec §9.1–9.3), in the files the notary
 * and docker CLIs read and write: `<canonical key id>.key`, mode 0600, directory 0700, role and GUN
 * in the PEM headers. Opening a store migrates the pre-0.4 layout (client-migrate.ts).
 *
 * Reading a key first tries an empty passphrase, then asks the retriever with alias = the file's
 * `role:` header, at most `maxPassphraseAttempts` (3) times; a retriever that throws PassphraseError
 * stops it at once. Decrypted keys are cached in memory for the life of the store, as notary does.
 * Writes are atomic (temporary file + rename): a failure or a refused passphrase leaves files as they
 * were. The `key import/export`, `key passwd` and `docker trust key load` helpers are in
 * client-key-transfer.ts.
 *
 * Not safe for concurrent use by several processes on one trust dir beyond what atomic renames give
 * (as with notary); within a process, calls may interleave safely.
 *
 * @example
 *   const store = await FileKeyStore.open('~/.notary expanded', { retriever: createPassphraseRetriever() });
 *   const id = await store.add(generatePrivateKey('ecdsa'), { role: 'targets', gun: 'example.com/app' });
 *   const { key } = await store.get(id);
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { canonicalKeyId } from '../crypto/index.ts';
import type { PrivateKey } from '../crypto/index.ts';
import { KeyNotFoundError, PassphraseError } from '../errors/index.ts';
import { ensurePrivateDir, listKeyFiles, locationPath, writeFileAtomic } from './client-file-io.ts';
import { migrateLegacyKeyLayout } from './client-migrate.ts';
import type { ClientKeyStore, KeyInfo, PassphraseRetriever } from './client-types.ts';
import { decodePrivateKeyPem, encodePrivateKeyPem, readPrivateKeyAttributes, roleKeepsGun } from './key-file.ts';
import type { DecodedPrivateKeyPem } from './key-file.ts';
import { WRONG_PASSPHRASE_MESSAGE } from './key-file-pkcs8.ts';

export const PRIVATE_SUBDIR = 'private';
/** Wrong passphrases tried for one key before giving up. */
export const DEFAULT_MAX_PASSPHRASE_ATTEMPTS = 3;

export interface FileKeyStoreOptions {
  readonly retriever: PassphraseRetriever;
  /** Wrong passphrases accepted for one key before PassphraseError (default 3). */
  readonly maxPassphraseAttempts?: number;
}

export interface StoredKey {
  readonly key: PrivateKey;
  readonly role: string;
  readonly gun: string;
}

export class FileKeyStore implements ClientKeyStore {
  readonly trustDir: string;
  /** `<trust_dir>/private`, where the key files are. */
  readonly privateDir: string;
  readonly retriever: PassphraseRetriever;
  readonly maxPassphraseAttempts: number;
  readonly #cache = new Map<string, StoredKey>();

  private constructor(trustDir: string, options: FileKeyStoreOptions) {
    this.trustDir = trustDir;
    this.privateDir = join(trustDir, PRIVATE_SUBDIR);
    this.retriever = options.retriever;
    this.maxPassphraseAttempts = options.maxPassphraseAttempts ?? DEFAULT_MAX_PASSPHRASE_ATTEMPTS;
  }

  /**
   * Open (creating `private/` with mode 0700 when missing) and migrate a legacy layout.
   * @throws StorageError when a legacy key cannot be migrated
   */
  static async open(trustDir: string, options: FileKeyStoreOptions): Promise<FileKeyStore> {
    const store = new FileKeyStore(trustDir, options);
    await ensurePrivateDir(store.privateDir);
    await migrateLegacyKeyLayout(store.privateDir);
    return store;
  }

  /** Every readable key file, sorted by key id (a file whose header cannot be read is left out). */
  async list(): Promise<KeyInfo[]> {
    const found = new Map<string, KeyInfo>();
    for (const location of await listKeyFiles(this.privateDir)) {
      const info = await this.#readInfo(location);
      if (info !== null) found.set(info.keyId, info);
    }
    return [...found.values()].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
  }

  async has(keyId: string): Promise<boolean> {
    const path = this.#keyPath(keyId);
    if (path === null) return false;
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Role, GUN and file of a key, without decrypting it.
   * @throws KeyNotFoundError when there is no readable file for the id
   */
  async info(keyId: string): Promise<KeyInfo> {
    const info = this.#keyPath(keyId) === null ? null : await this.#readInfo(keyId);
    if (info === null) throw new KeyNotFoundError(`signing key not found: ${keyId}`);
    return info;
  }

  /**
   * @throws KeyNotFoundError when absent
   * @throws PassphraseError when no passphrase opens it (`password invalid, operation has failed.`
   *   after wrong passphrases; the retriever's own error when it gives up before any passphrase)
   * @throws DeserializationError when the file is not a key notary could read
   */
  async get(keyId: string): Promise<StoredKey> {
    const cached = this.#cache.get(keyId);
    if (cached !== undefined) return cached;
    const bytes = await this.#readKeyBytes(keyId);
    const { role } = readPrivateKeyAttributes(bytes);
    const decoded = await decryptKeyFile(bytes, { keyName: keyId, alias: role, retriever: this.retriever, maxAttempts: this.maxPassphraseAttempts });
    const stored: StoredKey = { key: decoded.key, role: decoded.role, gun: decoded.gun };
    this.#cache.set(keyId, stored);
    return stored;
  }

  /**
   * Encrypt `key` with a new passphrase from the retriever (createNew, alias = role) and write
   * `<canonical id>.key`. The GUN is kept only for targets, snapshot and timestamp keys.
   * @returns the canonical key id
   * @throws PassphraseError when the retriever gives up (nothing is written)
   */
  async add(key: PrivateKey, info: { role: string; gun?: string }, retriever: PassphraseRetriever = this.retriever): Promise<string> {
    const keyId = canonicalKeyId(key.publicKey);
    const gun = roleKeepsGun(info.role) ? (info.gun ?? '') : '';
    const passphrase = await retriever({ keyName: keyId, alias: info.role, createNew: true, attempt: 0 });
    await this.writeKeyFile(keyId, encodePrivateKeyPem(key, { role: info.role, gun, passphrase }));
    this.#cache.set(keyId, { key, role: info.role, gun });
    return keyId;
  }

  /** @throws KeyNotFoundError when there is no file for the id */
  async remove(keyId: string): Promise<void> {
    const path = this.#keyPath(keyId);
    if (path === null || !(await this.has(keyId))) throw new KeyNotFoundError(`signing key not found: ${keyId}`);
    this.#cache.delete(keyId);
    await rm(path, { force: true });
  }

  /**
   * notary's `key passwd`: decrypt with this store's retriever, re-encrypt with a new passphrase from
   * `newRetriever` (use a fresh one: a prompting retriever caches the old passphrase), same role and GUN.
   * The file is replaced atomically, only once the new passphrase is known.
   */
  async changePassphrase(keyId: string, newRetriever: PassphraseRetriever): Promise<void> {
    const { key, role, gun } = await this.get(keyId);
    await this.add(key, { role, gun }, newRetriever);
  }

  /** Relative locations (`<id>` or `<dir>/<id>`, no extension) of all `*.key` files, in walk order. */
  listLocations(): Promise<string[]> {
    return listKeyFiles(this.privateDir);
  }

  /** Raw bytes of the file at a location (see `listLocations`), or null when absent. */
  async readKeyFile(location: string): Promise<Uint8Array | null> {
    const path = locationPath(this.privateDir, location);
    if (path === null) return null;
    try {
      return new Uint8Array(await readFile(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /**
   * Replace the file at a location with `text` (latin1 PEM text), atomically, mode 0600.
   * @throws RangeError when the location would leave the private directory
   */
  async writeKeyFile(location: string, text: string): Promise<void> {
    const path = locationPath(this.privateDir, location);
    if (path === null) throw new RangeError(`key location ${JSON.stringify(location)} is outside the key store`);
    await writeFileAtomic(path, text);
    this.#cache.delete(posix.basename(location));
  }

  #keyPath(keyId: string): string | null {
    if (keyId.includes('/') || keyId.includes('\\')) return null;
    return locationPath(this.privateDir, keyId);
  }

  async #readKeyBytes(keyId: string): Promise<Uint8Array> {
    const bytes = this.#keyPath(keyId) === null ? null : await this.readKeyFile(keyId);
    if (bytes === null) throw new KeyNotFoundError(`signing key not found: ${keyId}`);
    return bytes;
  }

  async #readInfo(location: string): Promise<KeyInfo | null> {
    const bytes = await this.readKeyFile(location);
    if (bytes === null) return null;
    try {
      const { role, gun } = readPrivateKeyAttributes(bytes);
      return { keyId: posix.basename(location), role, gun, location: locationPath(this.privateDir, location) ?? '' };
    } catch {
      return null; // notary logs and skips such files
    }
  }
}

export interface DecryptOptions {
  /** Passed to the retriever as `keyName` (the key id, or "" when unknown). */
  readonly keyName: string;
  /** Passed to the retriever as `alias` (the role header, or docker's "encrypted"). */
  readonly alias: string;
  readonly retriever: PassphraseRetriever;
  readonly maxAttempts?: number;
}

/**
 * Open a key file's first block: with an empty passphrase first, then with passphrases from the
 * retriever (attempt 0, 1, …) until one works, the retriever gives up, or `maxAttempts` wrong
 * passphrases were tried.
 * @throws PassphraseError `password invalid, operation has failed.` after wrong passphrases (the
 *   retriever's error as cause); the retriever's own PassphraseError when it gives up on its first call
 * @throws DeserializationError when the file is not a key (no passphrase is asked for then)
 */
export async function decryptKeyFile(data: string | Uint8Array, options: DecryptOptions): Promise<DecodedPrivateKeyPem> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_PASSPHRASE_ATTEMPTS;
  try {
    return decodePrivateKeyPem(data, '');
  } catch (err) {
    if (!(err instanceof PassphraseError)) throw err;
  }
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    let passphrase: string;
    try {
      passphrase = await options.retriever({ keyName: options.keyName, alias: options.alias, createNew: false, attempt });
    } catch (err) {
      if (attempt > 0 && err instanceof PassphraseError) throw new PassphraseError(WRONG_PASSPHRASE_MESSAGE, { cause: err });
      throw err;
    }
    try {
      return decodePrivateKeyPem(data, passphrase);
    } catch (err) {
      if (!(err instanceof PassphraseError)) throw err;
    }
  }
  throw new PassphraseError(WRONG_PASSPHRASE_MESSAGE);
}
