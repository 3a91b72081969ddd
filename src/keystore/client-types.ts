/**
 * Contracts of the client-side key store: the private keys under `<trust_dir>/private/`, shared
 * with the notary CLI and the docker CLI (spec §9.1–9.3). The implementation lives beside this file.
 */
import type { PrivateKey } from '../crypto/types.ts';

/** What `notary key list` shows for one key file. */
export interface KeyInfo {
  /** Canonical key id (= file name without `.key`). */
  readonly keyId: string;
  /** `root`, `targets`, `snapshot`, `timestamp`, a delegation role, or a docker signer name. */
  readonly role: string;
  /** GUN header, only for targets/snapshot/timestamp keys. */
  readonly gun: string;
  /** Absolute path of the file holding it. */
  readonly location: string;
}

/**
 * Asks for a passphrase (spec §9.3). `alias` is the key's role (or "root", "targets", …);
 * `createNew` when a new key is being encrypted; `attempt` counts from 0. Throws PassphraseError
 * to give up (no terminal, too many attempts).
 */
export type PassphraseRetriever = (request: {
  readonly keyName: string;
  readonly alias: string;
  readonly createNew: boolean;
  readonly attempt: number;
}) => Promise<string>;

export interface ClientKeyStore {
  list(): Promise<KeyInfo[]>;
  /** Whether a key file for this canonical id exists (no passphrase needed). */
  has(keyId: string): Promise<boolean>;
  /**
   * Decrypt a key, asking the retriever (with retries) when it is encrypted.
   * @throws KeyNotFoundError when absent, PassphraseError when no passphrase opens it
   */
  get(keyId: string): Promise<{ key: PrivateKey; role: string; gun: string }>;
  /** Encrypt with a new passphrase from the retriever and write `<id>.key` 0600 atomically. */
  add(key: PrivateKey, info: { role: string; gun?: string }): Promise<string>;
  remove(keyId: string): Promise<void>;
}
