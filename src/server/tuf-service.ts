/**
 * TufTrustService: the trust server's logic behind the HTTP handlers (spec §6).
 *
 * - publish: loads what validation needs from the MetaStore, runs the pure push validation of
 *   src/tuf, generates the snapshot (when not uploaded) and the timestamp, signs them through the
 *   CryptoService and stores everything in one atomic `updateMany`.
 * - reads of timestamp/snapshot run notary's get-or-create-timestamp (§6.4): an expired snapshot
 *   or timestamp is re-signed on read and stored.
 * - key endpoints: a held key listed in the stored root, else a pending (never used) key, else a
 *   new one (§6.5). Unlike notary's in-memory signer, repeated GETs return the same pending key.
 *
 * It does not parse HTTP, pick backends or know about auth: handlers and src/bin do that.
 *
 * Concurrency: publishes and re-signs of one GUN are serialised inside one process; across
 * processes the store's version rule decides (a loser gets VersionConflictError, as in notary).
 *
 * With `exclusiveStore` (the memory backend, which nothing but this service can reach), current
 * metadata read once is kept and served again until this service writes that GUN: a read then
 * costs no copy out of the store and no re-hash of the timestamp. Stores that other processes
 * write (sqlite3, postgres, mysql) are read every time.
 *
 * @example
 *   const service = new TufTrustService({ store, crypto, keyAlgorithm: 'ed25519' });
 *   await service.publish('example.com/app', [{ role: 'root', data }, { role: 'targets', data }]);
 */
import { sha256Hex } from '../canonical/index.ts';
import type { CryptoService, SignatureEntry, TufKey } from '../crypto/types.ts';
import { VersionConflictError } from '../errors/index.ts';
import type { Change, MetaStore, MetaUpdate, StoredMeta } from '../storage/types.ts';
import {
  Envelope,
  Root,
  assembleSigned,
  buildSnapshot,
  buildTimestamp,
  defaultExpiry,
  goTimeToDate,
  isSnapshotExpired,
  isTargetsRole,
  loadCurrentRoot,
  needsNewTimestamp,
  parentRole,
  parsePreviousTimestamp,
  readStoredSnapshot,
  readStoredTimestamp,
  snapshotChecksumHex,
  snapshotKeyMissingError,
  timestampKeyMissingError,
  validateUpdate,
  verifySnapshotForTimestamp,
  type BaseRole,
} from '../tuf/index.ts';
import type { TrustService, UploadPart } from './trust-service.ts';

export interface TufTrustServiceOptions {
  readonly store: MetaStore;
  readonly crypto: CryptoService;
  /** Algorithm of keys the server creates: `ed25519` (notary's local service) or `ecdsa`. */
  readonly keyAlgorithm: string;
  readonly clock?: () => Date;
  /**
   * Nothing but this service writes `store` (true only for a store private to this process, the
   * memory backend): current metadata is then cached between this service's writes. Default false.
   */
  readonly exclusiveStore?: boolean;
}

/** At most this many GUNs keep cached current metadata (the first cached is dropped first). */
const MAX_CACHED_GUNS = 1024;
/** Per GUN, at most this many roles (delegations, or names asked for and not stored) are kept. */
const MAX_CACHED_ROLES = 64;
/** GUNs longer than this are not cached, so the keys stay small too. */
const MAX_CACHED_GUN_LENGTH = 256;

/** A timestamp known to be servable as-is until `validUntil` (ms since epoch). */
interface FreshTimestamp {
  readonly sha256: string;
  readonly validUntil: number;
  /** The bytes that were hashed: the same array again needs no hashing (cached reads). */
  readonly data: Uint8Array;
}

export class TufTrustService implements TrustService {
  readonly #store: MetaStore;
  readonly #crypto: CryptoService;
  readonly #keyAlgorithm: string;
  readonly #clock: () => Date;
  readonly #locks = new Map<string, Promise<unknown>>();
  /** Per GUN: the last current timestamp we checked, so reads need not re-verify it each time. */
  readonly #fresh = new Map<string, FreshTimestamp>();
  /** exclusiveStore only: GUN → role → current metadata as last read (null: none stored). */
  readonly #cache: Map<string, Map<string, StoredMeta | null>> | null;
  /** Bumped around every write, so a read that overlapped one is not cached. */
  #writes = 0;

  constructor(options: TufTrustServiceOptions) {
    this.#store = options.store;
    this.#crypto = options.crypto;
    this.#keyAlgorithm = options.keyAlgorithm;
    this.#clock = options.clock ?? (() => new Date());
    this.#cache = options.exclusiveStore === true ? new Map() : null;
  }

  publish(gun: string, parts: readonly UploadPart[]): Promise<void> {
    return this.#serialised(gun, () => this.#publish(gun, parts));
  }

  async #publish(gun: string, parts: readonly UploadPart[]): Promise<void> {
    const now = this.#clock();
    const uploads = new Map<string, Uint8Array>();
    for (const p of parts) uploads.set(p.role, p.data); // duplicate roles: the last part wins

    const storedRoot = await this.#bytes(gun, 'root');
    const stored = new Map<string, Uint8Array>();
    for (const role of rolesValidationReads(uploads.keys())) {
      const data = await this.#bytes(gun, role);
      if (data !== null) stored.set(role, data);
    }
    const plan = validateUpdate({ gun, now, storedRoot, storedRoles: (r) => stored.get(r) ?? null, uploads });
    const updates: MetaUpdate[] = plan.updates.map((u) => ({ role: u.role, version: u.version, data: u.data }));
    const root = plan.root.signed;

    let snapshotBytes: Uint8Array;
    if (plan.snapshot.kind === 'generate') {
      const built = buildSnapshot(plan.snapshot.prev, plan.loaded, defaultExpiry('snapshot', now));
      const sigs = await this.#signAs(root.baseRole('snapshot'), built.canonical);
      if (sigs === null) throw snapshotKeyMissingError();
      snapshotBytes = assembleSigned(built.canonical, sigs);
      updates.push({ role: 'snapshot', version: built.signed.version, data: snapshotBytes });
    } else {
      snapshotBytes = plan.snapshot.metadata.bytes;
    }

    const prevTimestamp = parsePreviousTimestamp(await this.#bytes(gun, 'timestamp'));
    const ts = buildTimestamp(prevTimestamp, snapshotBytes, defaultExpiry('timestamp', now));
    const tsSigs = await this.#signAs(root.baseRole('timestamp'), ts.canonical);
    if (tsSigs === null) throw timestampKeyMissingError();
    updates.push({ role: 'timestamp', version: ts.signed.version, data: assembleSigned(ts.canonical, tsSigs) });

    await this.#write(gun, () => this.#store.updateMany(gun, updates));
    this.#fresh.delete(gun);
  }

  async getCurrent(gun: string, role: string): Promise<StoredMeta | null> {
    if (role !== 'timestamp' && role !== 'snapshot') return this.#current(gun, role);
    const ts = await this.#currentTimestamp(gun);
    if (ts === null || role === 'timestamp') return ts;
    return this.#snapshotOf(gun, ts);
  }

  /** The snapshot a current timestamp names (cached with it for an exclusive store). */
  async #snapshotOf(gun: string, ts: StoredMeta): Promise<StoredMeta> {
    const cached = this.#cache?.get(gun)?.get(SNAPSHOT_OF_TIMESTAMP);
    if (cached?.data === ts.data) return this.#cache!.get(gun)!.get('snapshot')!;
    const writes = this.#writes;
    const hex = snapshotChecksumHex(readStoredTimestamp(ts.data));
    const snapshot = await this.#store.getChecksum(gun, 'snapshot', hex);
    if (snapshot === null) throw new Error(`the current timestamp of ${gun} references snapshot ${hex}, which is not stored`);
    if (writes === this.#writes) {
      this.#remember(gun, 'snapshot', snapshot);
      this.#remember(gun, SNAPSHOT_OF_TIMESTAMP, ts);
    }
    return snapshot;
  }

  getByChecksum(gun: string, role: string, sha256Hex: string): Promise<StoredMeta | null> {
    return this.#store.getChecksum(gun, role, sha256Hex.toLowerCase() === sha256Hex ? sha256Hex : '');
  }

  getByVersion(gun: string, role: string, version: number): Promise<StoredMeta | null> {
    return this.#store.getVersion(gun, role, version);
  }

  async getOrCreateKey(gun: string, role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    const rootBytes = await this.#bytes(gun, 'root');
    if (rootBytes !== null) {
      const root = Root.read(Envelope.parse(rootBytes, 'root').signed);
      for (const keyId of root.roles.get(role)?.keyids ?? []) {
        const held = await this.#crypto.getKey(keyId);
        if (held !== null) return held.key;
      }
    }
    const [pending] = await this.#crypto.unusedKeys(role, gun, this.#keyAlgorithm);
    return pending ?? this.#crypto.create(role, gun, this.#keyAlgorithm);
  }

  rotateKey(gun: string, role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    return this.#crypto.create(role, gun, this.#keyAlgorithm);
  }

  deleteGun(gun: string): Promise<void> {
    return this.#serialised(gun, async () => {
      await this.#write(gun, () => this.#store.delete(gun));
      this.#fresh.delete(gun);
    });
  }

  changes(changeId: number, records: number, gun?: string): Promise<Change[]> {
    return this.#store.getChanges(changeId, records, gun);
  }

  check(): Promise<void> {
    return this.#store.check();
  }

  /**
   * The current timestamp, re-signed first when it or its snapshot expired (§6.4). Once a
   * timestamp has been checked, later reads of the same bytes skip the checks until the earlier
   * of the two expiries: a snapshot looked up by checksum cannot change underneath.
   */
  async #currentTimestamp(gun: string): Promise<StoredMeta | null> {
    const current = await this.#current(gun, 'timestamp');
    if (current === null) return null;
    const fresh = this.#fresh.get(gun);
    if (fresh !== undefined && this.#clock().getTime() < fresh.validUntil) {
      if (fresh.data === current.data) return current;
      if (fresh.sha256 === sha256Hex(current.data)) {
        if (this.#cache !== null) this.#fresh.set(gun, { ...fresh, data: current.data });
        return current;
      }
    }
    return this.#serialised(gun, () => this.#refreshTimestamp(gun));
  }

  async #refreshTimestamp(gun: string): Promise<StoredMeta | null> {
    const now = this.#clock();
    const current = await this.#store.getCurrent(gun, 'timestamp');
    if (current === null) return null;
    const ts = readStoredTimestamp(current.data);
    const stored = await this.#store.getChecksum(gun, 'snapshot', snapshotChecksumHex(ts));
    if (stored === null) return null; // notary: a timestamp without its snapshot is "not found"
    const updates: MetaUpdate[] = [];

    let snapshotBytes = stored.data;
    let snapshot = readStoredSnapshot(snapshotBytes);
    if (isSnapshotExpired(snapshot, now)) {
      const rootBytes = await this.#requireBytes(gun, 'root');
      const root = loadCurrentRoot(gun, now, rootBytes).signed;
      const built = buildSnapshot(snapshot, new Map([['root', rootBytes]]), defaultExpiry('snapshot', now));
      const sigs = await this.#signAs(root.baseRole('snapshot'), built.canonical);
      if (sigs === null) throw snapshotKeyMissingError();
      snapshotBytes = assembleSigned(built.canonical, sigs);
      snapshot = built.signed;
      updates.push({ role: 'snapshot', version: built.signed.version, data: snapshotBytes });
    }

    let result: StoredMeta = current;
    let timestamp = ts;
    if (needsNewTimestamp(ts, snapshotBytes, now)) {
      const rootBytes = await this.#requireBytes(gun, 'root');
      const { root } = verifySnapshotForTimestamp({ gun, now, rootBytes, snapshotBytes });
      const built = buildTimestamp(ts, snapshotBytes, defaultExpiry('timestamp', now));
      const sigs = await this.#signAs(root.signed.baseRole('timestamp'), built.canonical);
      if (sigs === null) throw timestampKeyMissingError();
      const data = assembleSigned(built.canonical, sigs);
      updates.push({ role: 'timestamp', version: built.signed.version, data });
      try {
        await this.#write(gun, () => this.#store.updateMany(gun, updates));
      } catch (err) {
        if (!(err instanceof VersionConflictError)) throw err;
        // another instance re-signed first: serve what it stored
        return this.#store.getCurrent(gun, 'timestamp');
      }
      result = { data, createdAt: now };
      timestamp = built.signed;
    }
    const validUntil = Math.min(goTimeToDate(timestamp.expires).getTime(), goTimeToDate(snapshot.expires).getTime());
    this.#fresh.set(gun, { sha256: sha256Hex(result.data), validUntil, data: result.data });
    return result;
  }

  /**
   * Sign with every key of `role` the crypto service holds; null when it holds fewer than the
   * role's threshold (notary's ErrInsufficientSignatures, which callers turn into their error).
   */
  async #signAs(role: BaseRole, canonical: Uint8Array): Promise<SignatureEntry[] | null> {
    const held: string[] = [];
    for (const keyId of role.keys.keys()) {
      if ((await this.#crypto.getKey(keyId)) !== null) held.push(keyId);
    }
    if (held.length === 0 || held.length < role.threshold) return null;
    const sigs: SignatureEntry[] = [];
    for (const keyId of held) {
      const sig = await this.#crypto.sign(keyId, canonical);
      sigs.push({ keyid: keyId, method: sig.method, sig: sig.sig });
    }
    return sigs;
  }

  /** Current metadata of a role: from the cache when the store is exclusive, else the store. */
  async #current(gun: string, role: string): Promise<StoredMeta | null> {
    const cached = this.#cache?.get(gun)?.get(role);
    if (cached !== undefined) return cached;
    const writes = this.#writes;
    const meta = await this.#store.getCurrent(gun, role);
    if (writes === this.#writes) this.#remember(gun, role, meta);
    return meta;
  }

  #remember(gun: string, role: string, meta: StoredMeta | null): void {
    if (this.#cache === null || gun.length > MAX_CACHED_GUN_LENGTH) return;
    let roles = this.#cache.get(gun);
    if (roles === undefined) {
      roles = new Map();
      this.#cache.set(gun, roles);
      if (this.#cache.size > MAX_CACHED_GUNS) this.#cache.delete(this.#cache.keys().next().value!);
    }
    if (roles.size < MAX_CACHED_ROLES || roles.has(role)) roles.set(role, meta);
  }

  /** Run a store write for `gun`; no read overlapping it is cached, and the GUN's cache is dropped. */
  async #write<T>(gun: string, fn: () => Promise<T>): Promise<T> {
    this.#writes++;
    this.#cache?.delete(gun);
    try {
      return await fn();
    } finally {
      this.#writes++;
      this.#cache?.delete(gun);
    }
  }

  async #bytes(gun: string, role: string): Promise<Uint8Array | null> {
    return (await this.#store.getCurrent(gun, role))?.data ?? null;
  }

  async #requireBytes(gun: string, role: string): Promise<Uint8Array> {
    const data = await this.#bytes(gun, role);
    if (data === null) throw new Error(`no ${role} stored for ${gun}`);
    return data;
  }

  /** Run `fn` after every earlier call for the same GUN in this process has finished. */
  #serialised<T>(gun: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(gun) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(gun, tail);
    void tail.then(() => {
      if (this.#locks.get(gun) === tail) this.#locks.delete(gun);
    });
    return run;
  }
}

/** Cache key under which the timestamp that the cached `snapshot` entry belongs to is kept. */
const SNAPSHOT_OF_TIMESTAMP = '\u0000snapshot-of';

/**
 * The stored roles push validation may need besides root: the current snapshot (to build the
 * next one) and every ancestor of each uploaded targets role.
 */
function rolesValidationReads(uploaded: Iterable<string>): Set<string> {
  const roles = new Set<string>(['snapshot']);
  for (const role of uploaded) {
    if (!isTargetsRole(role)) continue;
    for (let a = role; a !== 'targets'; ) {
      a = parentRole(a);
      roles.add(a);
    }
  }
  return roles;
}
