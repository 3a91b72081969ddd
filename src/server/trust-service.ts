/**
 * The contract between the trust server's HTTP handlers and its logic. Handlers are thin:
 * they parse the request, call one method here and write the answer. Everything that decides
 * (publish validation, snapshot/timestamp generation, key handling) sits behind this interface.
 */
import type { Change, StoredMeta } from '../storage/types.ts';
import type { TufKey } from '../crypto/types.ts';

export interface UploadPart {
  /** Role from the part's filename, `.json` stripped, already checked with isValidRoleName. */
  readonly role: string;
  readonly data: Uint8Array;
}

export interface TrustService {
  /**
   * Validate and atomically store a publish (spec §6.2). Generates snapshot (when not uploaded)
   * and timestamp.
   * @throws DeserializationError (→ MALFORMED_JSON), UpdateValidationError (→ INVALID_UPDATE),
   *   VersionConflictError (→ VERSION), StorageError
   */
  publish(gun: string, parts: readonly UploadPart[]): Promise<void>;
  /** Current role; for timestamp/snapshot runs get-or-create-timestamp (§6.4). null → 404. */
  getCurrent(gun: string, role: string): Promise<StoredMeta | null>;
  getByChecksum(gun: string, role: string, sha256Hex: string): Promise<StoredMeta | null>;
  getByVersion(gun: string, role: string, version: number): Promise<StoredMeta | null>;
  /** GET {role}.key: a held key listed for the role in the stored root, else a new key (§6.5). */
  getOrCreateKey(gun: string, role: 'snapshot' | 'timestamp'): Promise<TufKey>;
  /** POST {role}.key: always a new key. */
  rotateKey(gun: string, role: 'snapshot' | 'timestamp'): Promise<TufKey>;
  deleteGun(gun: string): Promise<void>;
  changes(changeId: number, records: number, gun?: string): Promise<Change[]>;
  /** Throws when storage or signing is unusable (for /_notary_server/health). */
  check(): Promise<void>;
}
