/**
 * Contracts inside the client (spec §9–10): the remote trust server as the client sees it, the
 * local metadata cache, and the verified view of a repository the updater produces. The write
 * path (changelist, publish) and the CLI build on these.
 */
import type { TufKey } from '../crypto/types.ts';
import type { Metadata, Root, Snapshot, Targets, Timestamp } from '../tuf/index.ts';

/** The notary-server HTTP API for one GUN (spec §5.1), with size limits on every read. */
export interface RemoteStore {
  /**
   * GET `<role>.json`, `<role>.<sha256hex>.json` (checksum) or `<version>.<role>.json`.
   * Reads at most `maxLength` bytes (rejects a larger Content-Length, truncates and fails a longer body).
   * @throws NotFoundError on 404, DownloadError for other statuses / transport errors / oversize
   */
  getMeta(role: string, maxLength: number, by?: { checksum?: string; version?: number }): Promise<Uint8Array>;
  /** POST the multipart publish (§6.1). @throws DownloadError (status + the server's error body) */
  publish(parts: ReadonlyMap<string, Uint8Array>): Promise<void>;
  /** GET `<role>.key` (snapshot|timestamp). */
  getKey(role: 'snapshot' | 'timestamp'): Promise<TufKey>;
  /** POST `<role>.key`. */
  rotateKey(role: 'snapshot' | 'timestamp'): Promise<TufKey>;
  /** DELETE the GUN's trust data. */
  deleteAll(): Promise<void>;
}

/** The cached metadata of one GUN: `<trust_dir>/tuf/<gun>/metadata/<role>.json`. */
export interface MetadataCache {
  get(role: string): Promise<Uint8Array | null>;
  /** Atomic replace (write temp + rename). */
  set(role: string, data: Uint8Array): Promise<void>;
  remove(role: string): Promise<void>;
  removeAll(): Promise<void>;
  /**
   * Optional: writes prepared before it is known whether they are wanted (the updater prepares
   * each role as it verifies, and commits once the whole update succeeded).
   */
  batch?(): CacheBatch;
}

/** Prepared writes of one cache; readers see none of them before `commit`. */
export interface CacheBatch {
  /** Start writing `data` for `role` out of readers' sight (a later write of the role replaces it). */
  write(role: string, data: Uint8Array): void;
  /**
   * Make the prepared files of `roles` the cached ones (each atomically) and drop every other
   * prepared file; resolves to the roles of `roles` it could not make visible (not prepared, or
   * failed), for the caller to write itself.
   */
  commit(roles: readonly string[]): Promise<string[]>;
  /** Drop every prepared file. */
  discard(): Promise<void>;
}

/** Trust pinning from the client config (§9.5, §3.3 step 4). */
export interface TrustPinConfig {
  readonly certs?: Readonly<Record<string, readonly string[]>>;
  /** GUN prefix → CA bundle PEM file path. */
  readonly ca?: Readonly<Record<string, string>>;
  readonly disableTofu?: boolean;
}

/** A verified repository after an update (§10): every role loaded in client order. */
export interface TrustedRepo {
  readonly gun: string;
  readonly root: Metadata<Root>;
  readonly timestamp: Metadata<Timestamp>;
  readonly snapshot: Metadata<Snapshot>;
  /** `targets` and every delegation that loaded and verified, keyed by role name. */
  readonly targets: ReadonlyMap<string, Metadata<Targets>>;
  /** Delegations that were skipped (bad signatures, expired), with the reason, for warnings. */
  readonly invalidRoles: ReadonlyMap<string, string>;
}

/** A target as resolved by a walk (§10.3). */
export interface ResolvedTarget {
  readonly name: string;
  readonly length: number;
  /** Algorithm → raw digest. */
  readonly hashes: ReadonlyMap<string, Uint8Array>;
  readonly custom?: unknown;
  /** The role that listed it. */
  readonly role: string;
}
