/**
 * Sealed key records (spec §8.3) opened on first use and kept in memory, for the two holders of
 * server-managed keys: the trust server's in-process signer (local-crypto-service.ts) and
 * `vouch signer` (src/signer/key-service.ts). Signing then pays PBKDF2 once per key and process.
 *
 * - `open` unseals a record with its alias's passphrase, parses the raw private key and checks it
 *   against the stored public key (a record whose halves disagree is refused, not used);
 * - concurrent first uses of one key share one unseal; a failed unseal is not kept, so the next
 *   use tries again (after the passphrase was fixed, say);
 * - at most `max` keys are kept, the least recently used dropped first.
 * Unsealed bytes live only in this memory.
 *
 * Example:
 *   const keys = new UnsealedKeys({ max: 256, algorithms: ['ecdsa', 'ed25519'], passphraseFor: (alias) => secrets[alias]! });
 *   const key = await keys.get(record);
 */
import { privateKeyFromRaw } from '../crypto/index.ts';
import type { PrivateKey } from '../crypto/index.ts';
import { StorageError } from '../errors/index.ts';
import type { KeyRecord } from '../storage/index.ts';
import { unsealPrivateKey } from './seal.ts';

export interface UnsealedKeysOptions {
  /** Most keys kept. */
  readonly max: number;
  /** Algorithms a record may have; others are refused as unreadable. */
  readonly algorithms: readonly ('ecdsa' | 'ed25519')[];
  /** The passphrase of an alias; throws (PassphraseError) when there is none. */
  readonly passphraseFor: (alias: string) => string;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export class UnsealedKeys {
  readonly #o: UnsealedKeysOptions;
  /** keyId → unsealed key (or its pending unseal); insertion order is recency of use. */
  readonly #keys = new Map<string, Promise<PrivateKey>>();

  constructor(o: UnsealedKeysOptions) {
    this.#o = o;
  }

  /**
   * The private key of `rec`, unsealed now or earlier.
   * @throws PassphraseError when the alias has no (or a wrong) passphrase
   * @throws StorageError when the record is unreadable or its halves disagree
   */
  get(rec: KeyRecord): Promise<PrivateKey> {
    const kept = this.#keys.get(rec.keyId);
    if (kept !== undefined) {
      this.remember(rec.keyId, kept);
      return kept;
    }
    const pending = this.#open(rec);
    this.remember(rec.keyId, pending);
    pending.catch(() => {
      if (this.#keys.get(rec.keyId) === pending) this.#keys.delete(rec.keyId);
    });
    return pending;
  }

  /** Keep `key` as the most recently used (a key just made, say). */
  remember(keyId: string, key: Promise<PrivateKey>): void {
    this.#keys.delete(keyId);
    this.#keys.set(keyId, key);
    while (this.#keys.size > this.#o.max) {
      const oldest = this.#keys.keys().next().value;
      if (oldest === undefined) break;
      this.#keys.delete(oldest);
    }
  }

  forget(keyId: string): void {
    this.#keys.delete(keyId);
  }

  async #open(rec: KeyRecord): Promise<PrivateKey> {
    const algorithm = this.#o.algorithms.find((a) => a === rec.algorithm);
    if (algorithm === undefined) throw new StorageError(`key ${rec.keyId} has unsupported algorithm ${rec.algorithm}`);
    const raw = await unsealPrivateKey(rec.privateSealed, this.#o.passphraseFor(rec.passphraseAlias));
    let key: PrivateKey;
    try {
      key = privateKeyFromRaw(algorithm, raw);
    } catch (err) {
      throw new StorageError(`key ${rec.keyId}: sealed bytes are not a ${rec.algorithm} private key`, { cause: err });
    }
    if (!sameBytes(key.publicKey.public, rec.publicKey)) {
      throw new StorageError(`key ${rec.keyId}: sealed private key does not match the stored public key`);
    }
    return key;
  }
}
