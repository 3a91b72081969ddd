/**
 * The client update (spec §10, notary's LoadTUFRepo/tufClient): the I/O half of python-tuf's
 * split. It reads the cache, fetches from the server, feeds bytes to a `TrustedSet` (the rules,
 * trusted-set.ts) and decides which failures it tolerates:
 *
 * 1. bootstrap: cached root (trusted as is while valid), else `GET root.json` (pinning / TOFU);
 *    write operations always fetch root.json to learn whether the repository exists;
 * 2. timestamp: always fetched (≤ 1 MiB); on 404, any status but 200/400, offline or a network
 *    error the cached timestamp is used (it must still verify and be unexpired); a 400, an
 *    oversize body or bad data aborts;
 * 3. snapshot, then `targets` and a pre-order walk of delegations: cache first (must verify and
 *    match the listing hash), else `<role>.<sha256>.json` limited to the listed length;
 *    delegations with bad signatures or expired are skipped with a warning, `targets` is fatal;
 *    the downloads of a verified role's delegations start together (at most `prefetchLimit` at
 *    once, prefetch.ts) while each is still verified at its turn in the walk;
 * 4. any failure in 2–3: one retry after a root update — the cached root checked against the
 *    snapshot's checksum, else `root.<sha256>.json` (or `root.json`), and when that is a
 *    rotation the chain `<v>.root.json` validated version by version (at most
 *    `maxRootRotations`); a second failure is returned.
 *
 * The cache is written only after the whole update succeeded, and only with the metadata the
 * result was built from (all of it verified); a refused update leaves the cache untouched.
 * notary writes each file as soon as it verifies; vouch commits at the end so that an attack
 * (or a half-updated server) never changes what the next run starts from.
 *
 * First contact: when the cache had no root, the root trusted on first use (or by a pin) is
 * reported through `onFirstContact` with its key IDs and certificate fingerprints.
 *
 * Not safe for concurrent use on the same cache.
 *
 * @example
 *   const updater = new Updater({ gun, remote, cache: new FileMetadataCache(trustDir, gun), trustPinning, onWarning: console.warn });
 *   const repo = await updater.update();
 *   getTargetByName(repo, 'v1');
 */
import { DownloadError, NotFoundError, RepositoryError, StateError } from '../errors/index.ts';
import { RootRotationError, type TrustPinning } from '../tuf/index.ts';
import { resolveTrustPinning, type FirstContactInfo } from './pinning.ts';
import { PREFETCH_LIMIT, Prefetcher } from './prefetch.ts';
import {
  MAX_DOWNLOAD_SIZE,
  MAX_TIMESTAMP_SIZE,
  TrustedSet,
  attributeTo,
  isSkippableDelegationFailure,
  nearExpiryWarnings,
  type ConsistentInfo,
} from './trusted-set.ts';
import type { CacheBatch, MetadataCache, RemoteStore, TrustPinConfig, TrustedRepo } from './types.ts';
import { RepositoryNotExistError } from './updater-errors.ts';
import { TARGETS_WALK_ROOT, type WalkRole } from './walk.ts';

/** Safety limits of one update (python-tuf's UpdaterConfig). */
export interface UpdaterConfig {
  /** Most root versions one update may walk through. */
  readonly maxRootRotations: number;
  /** Cap for root.json / `<v>.root.json` (notary: 100 MiB). */
  readonly maxRootLength: number;
  /** Cap for timestamp.json (notary: 1 MiB). */
  readonly maxTimestampLength: number;
  /** Most delegated roles one update loads. */
  readonly maxDelegations: number;
  /** Most delegated roles downloaded at once (1: one after another). */
  readonly prefetchLimit: number;
}

export const UPDATER_DEFAULTS: UpdaterConfig = Object.freeze({
  maxRootRotations: 32,
  maxRootLength: MAX_DOWNLOAD_SIZE,
  maxTimestampLength: MAX_TIMESTAMP_SIZE,
  maxDelegations: 4096,
  prefetchLimit: PREFETCH_LIMIT,
});

export interface UpdaterOptions {
  readonly gun: string;
  readonly remote: RemoteStore;
  readonly cache: MetadataCache;
  /** `trust_pinning` of the client config; applies only when no valid root is cached. */
  readonly trustPinning?: TrustPinConfig;
  /** Clock, read once per update. Default: `new Date()`. */
  readonly now?: () => Date;
  readonly config?: Partial<UpdaterConfig>;
  /** Warnings notary logs (cached timestamp used, delegation skipped, nearing expiry, cache write failed). */
  readonly onWarning?: (message: string) => void;
  /** Called once a root was trusted on first contact and the update succeeded. */
  readonly onFirstContact?: (info: FirstContactInfo) => void;
  /** Reads CA bundles named by `trustPinning.ca` (default fs.readFile). */
  readonly readFile?: (path: string) => Promise<Uint8Array>;
  /** `<host:port>` for `… does not have trust data for …`; default the remote's `location`. */
  readonly location?: string;
}

export interface UpdateOptions {
  /** Publish, key rotation: always ask the server for root.json (§10.1 step 2). */
  readonly forWrite?: boolean;
}

function checkConfig(c: UpdaterConfig): UpdaterConfig {
  for (const [k, v] of Object.entries(c)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`updater config ${k} must be a non-negative integer, got ${v}`);
  }
  if (c.prefetchLimit < 1) throw new RangeError(`updater config prefetchLimit must be at least 1, got ${c.prefetchLimit}`);
  return Object.freeze({ ...c });
}

function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array): boolean {
  return a !== null && a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/** Failures of the timestamp download that fall back to the cached timestamp (§10.2 step 1). */
function allowsCachedTimestamp(err: unknown): boolean {
  if (err instanceof NotFoundError) return true;
  return err instanceof DownloadError && err.status !== 400 && err.status !== 200;
}

/** notary's test for "the repository is not on the server": a 404 on some form of root. */
function isMissingRoot(err: unknown): boolean {
  if (!(err instanceof NotFoundError)) return false;
  const resource = (err as { resource?: unknown }).resource;
  return typeof resource === 'string' ? /(^|\.)root(\.|$)/.test(resource) : false;
}

/**
 * The cache during an update: each role read once, kept for the final diff, and the writes
 * prepared as roles verify (when the cache can prepare writes: MetadataCache.batch).
 */
class CacheReads {
  readonly #cache: MetadataCache;
  readonly #seen = new Map<string, Uint8Array | null>();
  /** Prepared writes, or undefined when the cache has none. */
  readonly batch: CacheBatch | undefined;
  /** What was last prepared for each role. */
  readonly prepared = new Map<string, Uint8Array>();
  constructor(cache: MetadataCache) {
    this.#cache = cache;
    this.batch = cache.batch?.();
  }

  /** Prepare the write of a role that verified (nothing when the cache cannot prepare writes). */
  prepare(role: string, bytes: Uint8Array): void {
    if (this.batch === undefined) return;
    this.batch.write(role, bytes);
    this.prepared.set(role, bytes);
  }

  async get(role: string): Promise<Uint8Array | null> {
    if (!this.#seen.has(role)) {
      let data: Uint8Array | null;
      try {
        data = await this.#cache.get(role);
      } catch {
        data = null; // an unreadable cache file is no cache (notary)
      }
      this.#seen.set(role, data);
    }
    return this.#seen.get(role) ?? null;
  }
}

export class Updater {
  readonly gun: string;
  readonly config: UpdaterConfig;
  readonly #o: UpdaterOptions;
  readonly #location: string;

  /** @throws RangeError for a bad config value */
  constructor(o: UpdaterOptions) {
    this.gun = o.gun;
    this.#o = o;
    this.config = checkConfig({ ...UPDATER_DEFAULTS, ...o.config });
    this.#location = o.location ?? (o.remote as { location?: string }).location ?? 'remote';
  }

  #warn(message: string): void {
    this.#o.onWarning?.(message);
  }

  /**
   * Bring the repository up to date and return its verified metadata.
   * @throws RepositoryNotExistError (root.json 404), the RepositoryError of the refused metadata
   *   (the message names the role), DownloadError subclasses (transport), RootValidationError
   *   (pinning), TooManyRootRotationsError
   */
  async update(opts: UpdateOptions = {}): Promise<TrustedRepo> {
    const { repo, reads, now } = await this.#verify(opts);
    await this.#commit(repo, reads);
    for (const w of nearExpiryWarnings(repo, now)) this.#warn(w);
    return repo;
  }

  /**
   * `update()` that resolves as soon as the repository is verified, with the cache still being
   * written: `saved` settles when that is done (it never rejects: a file that cannot be written
   * is a warning, as in `update()`). The near-expiry warnings come first, the cache's after. For
   * a caller with something to do meanwhile (`list` prints its table). The cache is written
   * only with what verified, as in `update()`; a refused update writes nothing.
   * @throws as `update()`
   */
  async updateThenSave(opts: UpdateOptions = {}): Promise<{ repo: TrustedRepo; saved: Promise<void> }> {
    const { repo, reads, now } = await this.#verify(opts);
    for (const w of nearExpiryWarnings(repo, now)) this.#warn(w);
    return { repo, saved: this.#commit(repo, reads) };
  }

  /** The update up to the verified repository, without writing the cache. */
  async #verify(opts: UpdateOptions): Promise<{ repo: TrustedRepo; reads: CacheReads; now: Date }> {
    const now = this.#o.now?.() ?? new Date();
    const reads = new CacheReads(this.#o.cache);
    const pinning = await this.#pinning();
    const set = TrustedSet.bootstrap({
      gun: this.gun,
      now,
      pinning,
      cachedRoot: await reads.get('root'),
      maxRootRotations: this.config.maxRootRotations,
    });
    try {
      if (set.needsRoot || opts.forWrite === true) {
        const raw = await this.#fetch('root', { role: 'root', known: false, length: this.config.maxRootLength });
        if (set.needsRoot) await this.#bootstrapRoot(set, raw);
      }
      try {
        await this.#updateOnce(set, reads);
      } catch {
        set.beginRetry();
        await this.#updateRoot(set, reads);
        await this.#updateOnce(set, reads);
      }
    } catch (err) {
      await reads.batch?.discard().catch(() => undefined);
      if (isMissingRoot(err)) throw new RepositoryNotExistError(this.#location, this.gun, { cause: err });
      throw err;
    }
    const repo = set.finish();
    const first = set.firstContact();
    if (first !== undefined) this.#o.onFirstContact?.(first);
    return { repo, reads, now };
  }

  /** The pinning thunk: resolved now, failures (CA file) raised only if pinning is consulted. */
  async #pinning(): Promise<() => TrustPinning> {
    try {
      const p = await resolveTrustPinning(this.#o.trustPinning, this.gun, this.#o.readFile === undefined ? {} : { readFile: this.#o.readFile });
      return () => p;
    } catch (err) {
      return () => {
        throw err;
      };
    }
  }

  /** GET a role as `info` says (checksum name and length). Errors name the role. */
  async #fetch(role: string, info: ConsistentInfo): Promise<Uint8Array> {
    try {
      return await this.#o.remote.getMeta(role, info.length, info.sha256 === undefined ? {} : { checksum: info.sha256 });
    } catch (err) {
      throw attributeTo(role, err);
    }
  }

  async #bootstrapRoot(set: TrustedSet, raw: Uint8Array): Promise<void> {
    try {
      set.loadRoot(raw);
    } catch (err) {
      // an expired cached root and a server root more than one rotation ahead: walk the chain
      if (err instanceof RootRotationError && set.previousRoot !== undefined) await this.#walkRoots(set, raw);
      else throw err;
    }
  }

  /** §10.2 steps 1–3 once. */
  async #updateOnce(set: TrustedSet, reads: CacheReads): Promise<void> {
    await this.#updateTimestamp(set, reads);
    await this.#updateSnapshot(set, reads);
    await this.#updateTargets(set, reads);
  }

  async #updateTimestamp(set: TrustedSet, reads: CacheReads): Promise<void> {
    const cached = await reads.get('timestamp');
    let raw: Uint8Array;
    try {
      raw = await this.#fetch('timestamp', { ...set.consistentInfo('timestamp'), length: this.config.maxTimestampLength });
    } catch (err) {
      if (!allowsCachedTimestamp(err) || cached === null) throw err;
      this.#warn('Error while downloading remote metadata, using cached timestamp - this might not be the latest version available remotely');
      set.useCachedTimestamp(cached);
      return;
    }
    set.updateTimestamp(raw, cached);
  }

  async #updateSnapshot(set: TrustedSet, reads: CacheReads): Promise<void> {
    const cached = await reads.get('snapshot');
    if (cached !== null && set.tryCachedSnapshot(cached) === null) return;
    set.updateSnapshot(await this.#fetch('snapshot', set.consistentInfo('snapshot')), cached);
  }

  async #updateTargets(set: TrustedSet, reads: CacheReads): Promise<void> {
    const queue: WalkRole[] = [TARGETS_WALK_ROOT];
    // the downloads of listed children run ahead; each is still verified at its turn (prefetch.ts)
    const ahead = new Prefetcher({
      limit: this.config.prefetchLimit,
      maxStarts: this.config.maxDelegations,
      read: (role) => reads.get(role),
      fetch: (role, info) => this.#fetch(role, info),
    });
    let loaded = 0;
    while (queue.length > 0) {
      const role = queue.shift() as WalkRole;
      const info = set.consistentInfo(role.name);
      if (!info.known) continue; // not in the snapshot: nothing to load
      if (loaded++ > this.config.maxDelegations) {
        throw new RepositoryError('BAD_TARGETS', `${role.name}: more than ${this.config.maxDelegations} delegations to load`);
      }
      try {
        const cached = await reads.get(role.name);
        if (cached === null || set.tryCachedTargets(role.name, cached) !== null) {
          const raw = (await ahead.take(role.name)) ?? (await this.#fetch(role.name, info));
          set.updateTargets(role.name, raw, cached);
          reads.prepare(role.name, raw); // written while the walk goes on, kept only if the update succeeds
        }
        const children = set.children(role);
        queue.unshift(...children);
        for (const child of children) {
          const childInfo = set.consistentInfo(child.name);
          if (childInfo.known) ahead.start(child.name, childInfo);
        }
      } catch (err) {
        if (!isSkippableDelegationFailure(role.name, err)) throw err;
        this.#warn(`Error getting ${role.name}: ${(err as Error).message}`);
        set.skipDelegation(role.name, err as Error);
      }
    }
  }

  /** §10.2 step 4: bring root up to date before the retry. */
  async #updateRoot(set: TrustedSet, reads: CacheReads): Promise<void> {
    const info = set.rootUpdateInfo();
    if (info.known) {
      const cached = await reads.get('root');
      if (cached !== null) {
        try {
          set.loadUpdatedRoot(cached);
          return;
        } catch {
          // not the root the snapshot lists: download it
        }
      }
    }
    const raw = await this.#fetch('root', info.known ? info : { role: 'root', known: false, length: this.config.maxRootLength });
    try {
      set.loadUpdatedRoot(raw);
    } catch (err) {
      if (!(err instanceof RootRotationError)) throw err;
      await this.#walkRoots(set, raw);
    }
  }

  /** Load previous → `<v>.root.json` … → newest, each checked against its predecessor. */
  async #walkRoots(set: TrustedSet, newest: Uint8Array): Promise<void> {
    const plan = set.planRootWalk(newest);
    const prev = set.previousRoot;
    if (prev === undefined) throw new StateError('no previous root to rotate from');
    set.loadRootStep(prev.bytes, plan.from, false);
    for (let v = plan.from + 1; v < plan.to; v++) {
      let raw: Uint8Array;
      try {
        raw = await this.#o.remote.getMeta('root', this.config.maxRootLength, { version: v });
      } catch (err) {
        throw attributeTo('root', err);
      }
      set.loadRootStep(raw, v, false);
    }
    set.loadRootStep(newest, plan.to, true);
  }

  /**
   * Write what the verified repository was built from, where it differs from the cache. With
   * prepared writes (the targets roles were written as they verified) the batch is committed
   * with root, snapshot and timestamp added; without, or for what the batch could not commit:
   * root and the targets roles side by side, then snapshot, then timestamp. Warnings come in
   * that order whatever order the writes finish in.
   */
  async #commit(repo: TrustedRepo, reads: CacheReads): Promise<void> {
    const files: [string, Uint8Array][] = [['root', repo.root.bytes]];
    for (const [role, meta] of repo.targets) files.push([role, meta.bytes]);
    files.push(['snapshot', repo.snapshot.bytes], ['timestamp', repo.timestamp.bytes]);
    let left = files;
    const batch = reads.batch;
    if (batch !== undefined) {
      const changed: [string, Uint8Array][] = [];
      for (const [role, bytes] of files) if (!sameBytes(await reads.get(role), bytes)) changed.push([role, bytes]);
      for (const [role, bytes] of changed) if (!sameBytes(reads.prepared.get(role), bytes)) batch.write(role, bytes);
      const failed = new Set(await batch.commit(changed.map(([role]) => role)).catch(() => changed.map(([role]) => role)));
      left = changed.filter(([role]) => failed.has(role));
    }
    const groups = [left.filter(([role]) => role !== 'snapshot' && role !== 'timestamp'), left.filter(([role]) => role === 'snapshot'), left.filter(([role]) => role === 'timestamp')];
    for (const group of groups) {
      const failures = await Promise.all(group.map(([role, bytes]) => this.#save(role, bytes, reads)));
      for (const f of failures) if (f !== undefined) this.#warn(f);
    }
  }

  /** Save one role unless the cache has it already; the warning text when that fails. */
  async #save(role: string, bytes: Uint8Array, reads: CacheReads): Promise<string | undefined> {
    if (sameBytes(await reads.get(role), bytes)) return undefined;
    try {
      await this.#o.cache.set(role, bytes);
      return undefined;
    } catch (err) {
      return `could not save ${role} to cache: ${(err as Error).message}`;
    }
  }
}

/** One update with a fresh Updater (notary's LoadTUFRepo). */
export function loadTrustedRepo(o: UpdaterOptions & UpdateOptions): Promise<TrustedRepo> {
  return new Updater(o).update(o.forWrite === undefined ? {} : { forWrite: o.forWrite });
}
