/**
 * The key store behind `vouch signer` (notary-signer's crypto service over its key database,
 * spec §8.1, §8.3): creates, looks up, deletes and signs with server-managed private keys kept
 * in a KeyRecordStore, sealed at rest by src/keystore (JWE PBES2-HS256+A128KW / A256GCM, the
 * `private_keys.private` format of notary-signer).
 *
 * Passphrase aliases: every row remembers the alias it was sealed under. New keys use
 * `defaultAlias`; a key is opened with the passphrase of *its own* alias, asked from
 * `passphrase(alias)` at each use (notary-signer reads `NOTARY_SIGNER_<ALIAS>` each time), so
 * the default alias can be rotated while older keys keep working.
 *
 * Differences from LocalCryptoService (the in-process trust service), all notary-signer's:
 * - looking a key up (`keyInfo`) opens it, so a key that cannot be unsealed is not usable;
 * - with `reusePendingKeys` (notary's SQL stores) `createKey` first returns an existing key of
 *   (role, gun, algorithm) that never signed, the one with the smallest key id;
 * - keys are found by key id only (ecdsa and ed25519 TUF ids equal their canonical ids).
 *
 * Unsealed keys are cached per process (bounded, least recently used evicted); the store stays
 * authoritative: every call reads the row first, so a deleted key stops working at once.
 * Safe for concurrent use.
 *
 * @example
 *   const keys = new SignerKeyService({ store, defaultAlias: 'alias1', passphrase: (a) => env[a], reusePendingKeys: true });
 *   const pub = await keys.createKey('timestamp', 'example.com/app', 'ecdsa');
 *   const { sig } = await keys.sign(tufKeyId(pub), canonicalSignedBytes);
 */
import { generatePrivateKey, signMessage, tufKeyId } from '../crypto/index.ts';
import type { TufKey } from '../crypto/index.ts';
import { KeyNotFoundError, PassphraseError, StorageError } from '../errors/index.ts';
import { sealPrivateKey, UnsealedKeys } from '../keystore/index.ts';
import type { KeyRecord, KeyRecordStore } from '../storage/index.ts';

/** The algorithms notary-signer creates keys for (its CryptoServiceIndex: ed25519 and ecdsa). */
export const SIGNER_ALGORITHMS = ['ecdsa', 'ed25519'] as const;
export type SignerAlgorithm = (typeof SIGNER_ALGORITHMS)[number];

export function isSignerAlgorithm(a: string): a is SignerAlgorithm {
  return (SIGNER_ALGORITHMS as readonly string[]).includes(a);
}

export interface SignerKeyServiceOptions {
  readonly store: KeyRecordStore;
  /** Alias recorded on (and sealing) new keys: notary-signer's `default_alias`. */
  readonly defaultAlias: string;
  /** The passphrase of an alias; undefined or "" when none is configured. */
  readonly passphrase: (alias: string) => string | undefined;
  /** Return an existing never-used key from `createKey` (notary's SQL key stores do; memory does not). */
  readonly reusePendingKeys: boolean;
  /** At most this many unsealed keys are cached; default 1024. */
  readonly maxCachedKeys?: number;
  readonly now?: () => Date;
  /** Told about failures that do not fail the call (marking a key used after it signed). */
  readonly onWarning?: (message: string, err: unknown) => void;
}

/** Signing itself failed after the key was opened (gRPC INTERNAL, unlike lookup failures). */
export class SigningFailedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface HeldKey {
  readonly key: TufKey;
  readonly role: string;
}

export interface SignResult {
  readonly key: TufKey;
  /** Signature method: `ecdsa` or `eddsa`. */
  readonly method: string;
  readonly sig: Uint8Array;
}

export class SignerKeyService {
  readonly #store: KeyRecordStore;
  readonly #defaultAlias: string;
  readonly #passphrase: (alias: string) => string | undefined;
  readonly #reuse: boolean;
  readonly #now: () => Date;
  readonly #warn: (message: string, err: unknown) => void;
  readonly #unsealed: UnsealedKeys;

  constructor(options: SignerKeyServiceOptions) {
    this.#store = options.store;
    this.#defaultAlias = options.defaultAlias;
    this.#passphrase = options.passphrase;
    this.#reuse = options.reusePendingKeys;
    this.#unsealed = new UnsealedKeys({ max: options.maxCachedKeys ?? 1024, algorithms: SIGNER_ALGORITHMS, passphraseFor: (alias) => this.#passphraseFor(alias) });
    this.#now = options.now ?? (() => new Date());
    this.#warn = options.onWarning ?? (() => undefined);
  }

  get defaultAlias(): string {
    return this.#defaultAlias;
  }

  /**
   * A key for role+gun: a pending one when reusing, else a new key sealed under the default alias.
   * @throws RangeError for an algorithm other than ecdsa or ed25519
   * @throws PassphraseError when the default alias has no passphrase
   * @throws StorageError when the key cannot be stored
   */
  async createKey(role: string, gun: string, algorithm: string): Promise<TufKey> {
    if (!isSignerAlgorithm(algorithm)) throw new RangeError(`algorithm ${algorithm} not supported for create key`);
    if (this.#reuse) {
      const pending = (await this.#store.listKeys(gun, role))
        .filter((r) => r.algorithm === algorithm && r.lastUsed === null)
        .sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
      const first = pending[0];
      if (first !== undefined) return { keytype: first.algorithm, public: first.publicKey };
    }
    const passphrase = this.#passphraseFor(this.#defaultAlias);
    const key = generatePrivateKey(algorithm);
    const keyId = tufKeyId(key.publicKey);
    await this.#store.addKey({
      keyId,
      gun,
      role,
      algorithm,
      publicKey: key.publicKey.public,
      privateSealed: await sealPrivateKey(key.raw, passphrase),
      passphraseAlias: this.#defaultAlias,
      createdAt: this.#now(),
      lastUsed: null,
    });
    this.#unsealed.remember(keyId, Promise.resolve(key));
    return key.publicKey;
  }

  /**
   * Removes a key; removing an unknown key succeeds (as notary-signer's stores do).
   * @throws StorageError when the store fails
   */
  async deleteKey(keyId: string): Promise<void> {
    this.#unsealed.forget(keyId);
    await this.#store.deleteKey(keyId);
  }

  /**
   * The public key and role of a held key, after making sure it can be opened.
   * @throws KeyNotFoundError when no such key is held
   * @throws PassphraseError when its alias has no passphrase or a wrong one
   * @throws StorageError when the row is unreadable or does not match its public key
   */
  async keyInfo(keyId: string): Promise<HeldKey> {
    const rec = await this.#record(keyId);
    await this.#unsealed.get(rec);
    return { key: { keytype: rec.algorithm, public: rec.publicKey }, role: rec.role };
  }

  /**
   * Signs `content` (the canonical `signed` bytes; hashed here for ecdsa) and marks the key used.
   * @throws KeyNotFoundError, PassphraseError, StorageError as `keyInfo`
   * @throws SigningFailedError when the opened key fails to sign
   */
  async sign(keyId: string, content: Uint8Array): Promise<SignResult> {
    const rec = await this.#record(keyId);
    const key = await this.#unsealed.get(rec);
    let signed: { method: string; sig: Uint8Array };
    try {
      signed = signMessage(key, content);
    } catch (err) {
      throw new SigningFailedError(`signing with key ${rec.keyId} failed`, { cause: err });
    }
    const { method, sig } = signed;
    try {
      await this.#store.markUsed(rec.keyId, this.#now());
    } catch (err) {
      // notary-signer logs this and still returns the signature
      this.#warn(`key ${rec.keyId} signed, but marking it used failed`, err);
    }
    return { key: key.publicKey, method, sig };
  }

  async #record(keyId: string): Promise<KeyRecord> {
    const rec = await this.#store.getKey(keyId);
    if (rec === null) {
      this.#unsealed.forget(keyId);
      throw new KeyNotFoundError(`signing key not found: ${keyId}`);
    }
    return rec;
  }

  #passphraseFor(alias: string): string {
    const p = this.#passphrase(alias);
    // notary-signer's words: "expected env variable to not be empty: <alias>"
    if (p === undefined || p === '') throw new PassphraseError(`expected env variable to not be empty: ${alias}`);
    return p;
  }
}
