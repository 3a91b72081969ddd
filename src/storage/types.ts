/**
 * Storage contracts of the trust server (notary's `server/storage.MetaStore`, spec §5–6).
 *
 * Every backend (memory, sqlite3, later postgres and mysql) implements these interfaces and
 * passes `conformance.ts`. The contracts are the ones notary states, with notary's memory-store
 * bugs (spec §13.6) deliberately *not* reproduced: lookups check role and exact GUN.
 */

export interface MetaUpdate {
  /** `root`, `targets`, `snapshot`, `timestamp` or `targets/<name>`. */
  readonly role: string;
  readonly version: number;
  /** The exact bytes to serve. */
  readonly data: Uint8Array;
}

export interface StoredMeta {
  readonly data: Uint8Array;
  /** When this version was stored (served as Last-Modified). */
  readonly createdAt: Date;
}

export interface Change {
  /** Monotonic id, a decimal string. */
  readonly id: string;
  readonly createdAt: Date;
  readonly gun: string;
  /** Timestamp version for `update`, 0 for `deletion`. */
  readonly version: number;
  /** Hex sha256 of the timestamp bytes for `update`, "" for `deletion`. */
  readonly sha256: string;
  readonly category: 'update' | 'deletion';
}

export interface MetaStore {
  /**
   * Atomically store every update for `gun`, or none. Each update's version must be strictly
   * greater than every stored version of its role, and versions within one call must be unique
   * per role; otherwise throws `VersionConflictError` and stores nothing. Every `timestamp`
   * update appends an `update` change record (in the same transaction).
   * @throws VersionConflictError, StorageError
   */
  updateMany(gun: string, updates: readonly MetaUpdate[]): Promise<void>;
  /** Highest stored version of the role, or null. */
  getCurrent(gun: string, role: string): Promise<StoredMeta | null>;
  /** The version of the role whose bytes have this lowercase hex sha256, or null. */
  getChecksum(gun: string, role: string, sha256Hex: string): Promise<StoredMeta | null>;
  getVersion(gun: string, role: string, version: number): Promise<StoredMeta | null>;
  /**
   * Remove all metadata of exactly this GUN (no prefix matching) and append one `deletion`
   * change, in one transaction. When nothing was stored for the GUN, nothing is appended (as
   * both of notary's stores do: `SQLStorage.Delete` and `MemStorage.Delete` skip the record).
   */
  delete(gun: string): Promise<void>;
  /**
   * Changefeed page (spec §5.4). `changeId` "0" or "" starts at the beginning, "-1" at the end;
   * `records` > 0 pages forward (ids > changeId), < 0 pages backward (the |records| changes
   * before changeId, or the last ones for -1). Always returned oldest first. `gun` filters
   * (exact match; "" or undefined is no filter), before the page limit applies.
   * As notary's SQL store: a negative changeId also pages backward, backward paging with
   * changeId ≤ 0 returns the newest |records| changes, and `records` 0 returns an empty page
   * (the HTTP handler maps records=0 to 100, spec §5.4).
   */
  getChanges(changeId: number, records: number, gun?: string): Promise<Change[]>;
  /** Health probe: throws StorageError when the backend is unusable. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** A server-managed private key at rest. `privateSealed` is ciphertext only, never plain key bytes. */
export interface KeyRecord {
  readonly keyId: string;
  readonly gun: string;
  readonly role: string;
  /** Key type: `ed25519` or `ecdsa`. */
  readonly algorithm: string;
  /** Public key bytes as in the TUF key's `public` field (§2.1). */
  readonly publicKey: Uint8Array;
  /** Sealed private key (compact JWE, see src/keystore). */
  readonly privateSealed: string;
  readonly passphraseAlias: string;
  readonly createdAt: Date;
  readonly lastUsed: Date | null;
}

/** Persistence of server-managed private keys (the local trust service, and later the signer). */
export interface KeyRecordStore {
  /** @throws StorageError when the keyId exists already */
  addKey(rec: KeyRecord): Promise<void>;
  getKey(keyId: string): Promise<KeyRecord | null>;
  /** Keys for gun+role, oldest first. */
  listKeys(gun: string, role: string): Promise<KeyRecord[]>;
  markUsed(keyId: string, when: Date): Promise<void>;
  deleteKey(keyId: string): Promise<void>;
  close(): Promise<void>;
}
