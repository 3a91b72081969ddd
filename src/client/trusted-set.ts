/**
 * The rules of the client update (spec §10.1–10.2 and step 4), without any I/O: python-tuf's
 * TrustedMetadataSet over notary's load-order state machine (src/tuf RepoBuilder). Bytes go in
 * (downloaded or cached, the caller says which), typed errors come out; the reference time is
 * fixed at construction. The updater (updater.ts) does the fetching, caching and retrying.
 *
 * Two views, as notary's tufClient keeps them:
 * - the *old* view holds what the cache had (root loaded allowing expiry, empty pinning); it
 *   only gives rollback floors: a downloaded role must have a version ≥ the cached one, when
 *   the cached one still loads in that view;
 * - the *current* view verifies what will be trusted. While the cached root is valid it is
 *   trusted as is with an empty pinning config (TOFU on the cache: `trust_pinning` changes have
 *   no effect then); otherwise the new root is checked against the cached one (if any) and the
 *   real pinning config.
 *
 * Intermediate semantics (python-tuf): a downloaded timestamp or snapshot that verifies except
 * that it has expired still raises that role's rollback floor for the rest of this update (the
 * retry cannot go below it), and then fails.
 *
 * Every error names its role: texts that do not already name it get a `<role>: ` prefix
 * (`timestamp: version 3 is lower than current version 5`); notary's own texts are kept.
 *
 * Not safe for concurrent use; one instance per update.
 *
 * @example
 *   const set = TrustedSet.bootstrap({ gun, now, cachedRoot, pinning: () => pins });
 *   if (set.needsRoot) set.loadRoot(await remote.getMeta('root', MAX));
 *   set.updateTimestamp(remoteTs, cachedTs);
 *   …
 *   const repo = set.finish();
 */
import { toHex } from '../canonical/index.ts';
import { BadVersionError, ExpiredMetadataError, RepositoryError, StateError } from '../errors/index.ts';
import {
  ChecksumMismatchError,
  Envelope,
  Metadata,
  MissingMetaError,
  RepoBuilder,
  Root,
  Snapshot,
  ThresholdError,
  isExpired,
  type FileMeta,
  type Targets,
  type Timestamp,
  type TrustPinning,
} from '../tuf/index.ts';
import { describeRootKeys, type FirstContactInfo, type PinningRule } from './pinning.ts';
import type { TrustedRepo } from './types.ts';
import { validDelegations, type WalkRole } from './walk.ts';

/** notary.MaxTimestampSize. */
export const MAX_TIMESTAMP_SIZE = 1 << 20;
/** notary.MaxDownloadSize: the size cap when nothing tells us the length. */
export const MAX_DOWNLOAD_SIZE = 100 << 20;

/** Where to fetch a role and how much of it (notary's ConsistentInfo). */
export interface ConsistentInfo {
  readonly role: string;
  /** True when a checksum or a length is known for the role. */
  readonly known: boolean;
  /** Hex sha256 from the listing metadata: fetch `<role>.<sha256>.json`. */
  readonly sha256?: string;
  /** Byte limit: the listed length, or MAX_DOWNLOAD_SIZE when unknown. */
  readonly length: number;
}

export interface TrustedSetOptions {
  readonly gun: string;
  /** Reference time for every expiry and certificate check. */
  readonly now: Date;
  /** The pinning config for roots without a valid cached predecessor; called only then. */
  readonly pinning: () => TrustPinning;
  /** `root.json` from the cache, when there is one. */
  readonly cachedRoot?: Uint8Array | null;
  /** Most root versions one update may walk through (default 32). */
  readonly maxRootRotations?: number;
}

/** A root walk: `from` is the trusted version, `to` the newest; fetch `from+1 … to-1`. */
export interface RootWalkPlan {
  readonly from: number;
  readonly to: number;
}

/** More root versions to walk than `maxRootRotations` allows. */
export class TooManyRootRotationsError extends RepositoryError {
  constructor(from: number, to: number, max: number) {
    super('BAD_ROOT', `root: updating from version ${from} to ${to} needs more than the maximum of ${max} root rotations`);
  }
}

/** Words in an error message that count as naming the role. */
function namesRole(message: string, role: string): boolean {
  const esc = role.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(^|[^-a-z0-9_/])${esc}($|[^-a-z0-9_/])`).test(message);
}

/**
 * Make an error name its role: prefix `<role>: ` unless the text already mentions it. The
 * error keeps its class, code and cause (callers test classes); `role` is set on it, and when
 * the text changed, `notaryMessage` keeps notary's unprefixed text (for output that must match
 * the notary CLI word for word).
 */
export function attributeTo<E>(role: string, err: E): E {
  if (err instanceof Error) {
    if (!namesRole(err.message, role)) {
      if (!Object.hasOwn(err, 'notaryMessage')) Object.defineProperty(err, 'notaryMessage', { value: err.message });
      err.message = `${role}: ${err.message}`;
    }
    if (!Object.hasOwn(err, 'role')) Object.defineProperty(err, 'role', { value: role, enumerable: true });
  }
  return err;
}

/** For delegations these failures skip the role (and its subtree) with a warning; for `targets` they are fatal (§10.2 step 3). */
export function isSkippableDelegationFailure(role: string, err: unknown): boolean {
  return role !== 'targets' && (err instanceof ExpiredMetadataError || err instanceof ThresholdError);
}

/** notary's nearExpiry: expires before now + 6 calendar months. */
export function isNearExpiry(expiresUnixMs: number, now: Date): boolean {
  const limit = new Date(now.getTime());
  limit.setUTCMonth(limit.getUTCMonth() + 6);
  return expiresUnixMs < limit.getTime();
}

/** notary's warnRolesNearExpiry texts for root, targets roles and snapshot (not timestamp). */
export function nearExpiryWarnings(repo: TrustedRepo, now: Date): string[] {
  const out: string[] = [];
  if (isNearExpiry(repo.root.signed.expires.unixMs, now)) out.push('root is nearing expiry, you should re-sign the role metadata');
  for (const [role, meta] of repo.targets) {
    if (isNearExpiry(meta.signed.expires.unixMs, now)) out.push(`${role} metadata is nearing expiry, you should re-sign the role metadata`);
  }
  if (isNearExpiry(repo.snapshot.signed.expires.unixMs, now)) out.push('snapshot is nearing expiry, you should re-sign the role metadata');
  return out;
}

function ruleOf(p: TrustPinning): PinningRule {
  if ((p.certs?.size ?? 0) > 0) return 'certs';
  return (p.ca?.size ?? 0) > 0 ? 'ca' : 'tofu';
}

function versionOf(bytes: Uint8Array, role: string): number | undefined {
  try {
    const v = Envelope.parse(bytes, role).signed['version'];
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function infoFrom(role: string, meta: FileMeta | undefined): ConsistentInfo {
  if (meta === undefined || (meta.hashes.size === 0 && meta.length === 0)) return { role, known: false, length: MAX_DOWNLOAD_SIZE };
  const sha = meta.hashes.get('sha256');
  return sha === undefined || sha.length === 0 ? { role, known: true, length: meta.length } : { role, known: true, sha256: toHex(sha), length: meta.length };
}

export class TrustedSet {
  readonly gun: string;
  readonly now: Date;
  readonly maxRootRotations: number;
  readonly #pinning: () => TrustPinning;
  /** The cache's view: rollback floors only. */
  readonly #old: RepoBuilder;
  /** What is being verified. */
  #cur: RepoBuilder;
  readonly #cachedRoot: Uint8Array | null;
  #minRootVersion = 1;
  #trustedBy: PinningRule | undefined;
  readonly #oldTried = new Set<string>();
  /** Versions of remote files that verified but had expired (intermediate metadata). */
  readonly #floors = new Map<string, number>();
  #nextRootMeta: FileMeta | undefined;
  #bootstrapRootMeta: FileMeta | undefined;
  /** The root a root update starts from: the expired cached root, or the trusted root at a retry. */
  #prev: Metadata<Root> | undefined;
  readonly #invalid = new Map<string, string>();

  private constructor(o: TrustedSetOptions, old: RepoBuilder, cur: RepoBuilder) {
    this.gun = o.gun;
    this.now = o.now;
    this.maxRootRotations = o.maxRootRotations ?? 32;
    this.#pinning = o.pinning;
    this.#old = old;
    this.#cur = cur;
    this.#cachedRoot = o.cachedRoot ?? null;
  }

  /**
   * §10.1 step 1: trust the cached root if it loads (TOFU on the cache, empty pinning); else keep
   * it as the previous root and the version floor, and let the real pinning decide a new one.
   * @throws the cached root's validation error when it does not load even allowing expiry
   *   (notary: the cached root pins trust, so a broken one is fatal)
   */
  static bootstrap(o: TrustedSetOptions): TrustedSet {
    const old = new RepoBuilder({ gun: o.gun, now: o.now });
    if (o.cachedRoot === undefined || o.cachedRoot === null) {
      return new TrustedSet(o, old, new RepoBuilder({ gun: o.gun, now: o.now, pinning: o.pinning() }));
    }
    try {
      old.loadRoot(o.cachedRoot, { allowExpired: true });
    } catch (err) {
      throw attributeTo('root', err);
    }
    const cur = new RepoBuilder({ gun: o.gun, now: o.now });
    try {
      cur.loadRoot(o.cachedRoot);
      return new TrustedSet(o, old, cur);
    } catch {
      const set = new TrustedSet(o, old, old.bootstrapNewBuilder(o.pinning()));
      set.#minRootVersion = old.loadedVersion('root');
      set.#prev = old.root;
      return set;
    }
  }

  /** True when no root is trusted yet: the caller must fetch `root.json` and `loadRoot` it. */
  get needsRoot(): boolean {
    return this.#cur.root === undefined;
  }

  /** True when the cache had no root: a root loaded now is trusted on first contact. */
  get isFirstContact(): boolean {
    return this.#cachedRoot === null;
  }

  /** The trusted root. @throws StateError before one is loaded */
  get root(): Metadata<Root> {
    const r = this.#cur.root;
    if (r === undefined) throw new StateError('root must be loaded first');
    return r;
  }

  /**
   * The root a root update is checked against and a version walk starts from: the expired cached
   * root while bootstrapping, the trusted root after `beginRetry`; undefined otherwise.
   */
  get previousRoot(): Metadata<Root> | undefined {
    return this.#prev;
  }

  /**
   * §10.1 step 2: a root from the server when nothing (valid) was cached: validated against the
   * cached root if there is one, and the pinning config.
   * @throws RootValidationError / RootRotationError / BadVersionError / ExpiredMetadataError …
   */
  loadRoot(bytes: Uint8Array): void {
    if (!this.needsRoot) throw new StateError('root has already been loaded');
    try {
      this.#cur.loadRoot(bytes, { minVersion: this.#minRootVersion });
    } catch (err) {
      throw attributeTo('root', err);
    }
    if (this.isFirstContact) this.#trustedBy = ruleOf(this.#pinning());
  }

  /** Set when the trusted root was accepted on first contact (for the user to pin). */
  firstContact(): FirstContactInfo | undefined {
    if (this.#trustedBy === undefined || this.#cur.root === undefined) return undefined;
    const root = this.#cur.root.signed;
    return { gun: this.gun, rootVersion: root.version, trustedBy: this.#trustedBy, keys: describeRootKeys(root) };
  }

  /** Fetch hints for a role given what is loaded (notary's GetConsistentInfo). */
  consistentInfo(role: string): ConsistentInfo {
    switch (role) {
      case 'timestamp':
        return { role, known: true, length: MAX_TIMESTAMP_SIZE };
      case 'snapshot':
        return infoFrom(role, this.#cur.timestamp?.signed.meta.get('snapshot'));
      case 'root':
        return infoFrom(role, this.#bootstrapRootMeta ?? this.#cur.snapshot?.signed.meta.get('root'));
      default:
        return infoFrom(role, this.#cur.snapshot?.signed.meta.get(role));
    }
  }

  /** The rollback floor for a role: cached version (if it loads in the old view), raised by intermediates. */
  #floor(role: string, cached: Uint8Array | null): number {
    if (cached !== null && !this.#oldTried.has(role)) {
      this.#oldTried.add(role);
      try {
        this.#old.load(role, cached, { allowExpired: true });
      } catch {
        // an unusable cached copy gives no floor (notary's GetLoadedVersion → 1)
      }
    }
    return Math.max(this.#old.loadedVersion(role), this.#floors.get(role) ?? 1);
  }

  #raiseFloor(role: string, bytes: Uint8Array): void {
    const v = versionOf(bytes, role);
    if (v !== undefined && v > (this.#floors.get(role) ?? 1)) this.#floors.set(role, v);
  }

  /**
   * §10.2 step 1: a downloaded timestamp: signed by root's timestamp keys, version ≥ floor, not
   * expired (an expired one still raises the floor), snapshot hash if a snapshot is loaded.
   */
  updateTimestamp(bytes: Uint8Array, cached: Uint8Array | null): void {
    const minVersion = this.#floor('timestamp', cached);
    try {
      this.#cur.loadTimestamp(bytes, { minVersion });
    } catch (err) {
      if (err instanceof ExpiredMetadataError) this.#raiseFloor('timestamp', bytes);
      throw attributeTo('timestamp', err);
    }
  }

  /** §10.2 step 1 fallback: the cached timestamp, which must still verify and be unexpired. */
  useCachedTimestamp(cached: Uint8Array): void {
    try {
      this.#cur.loadTimestamp(cached, { minVersion: 1 });
    } catch (err) {
      throw attributeTo('timestamp', err);
    }
  }

  /**
   * §10.2 step 2 (cache first): try the cached snapshot; null when it was accepted, else why not.
   * Never throws for bad data.
   */
  tryCachedSnapshot(cached: Uint8Array): Error | null {
    try {
      this.#loadSnapshot(cached, 1);
      return null;
    } catch (err) {
      if (err instanceof StateError) throw err;
      return attributeTo('snapshot', err as Error);
    }
  }

  /** §10.2 step 2: a downloaded snapshot (signatures, structure, version ≥ floor, expiry, hash). */
  updateSnapshot(bytes: Uint8Array, cached: Uint8Array | null): void {
    const minVersion = this.#floor('snapshot', cached);
    try {
      this.#loadSnapshot(bytes, minVersion);
    } catch (err) {
      if (err instanceof ExpiredMetadataError) this.#raiseFloor('snapshot', bytes);
      throw attributeTo('snapshot', err);
    }
  }

  #loadSnapshot(bytes: Uint8Array, minVersion: number): void {
    try {
      this.#cur.loadSnapshot(bytes, { minVersion });
      this.#nextRootMeta = this.#cur.snapshot?.signed.meta.get('root');
    } catch (err) {
      // the snapshot verified but the trusted root is not the one it lists: remember the
      // listed root for the root update (notary's nextRootChecksum)
      if ((err instanceof ChecksumMismatchError || err instanceof MissingMetaError) && err.role === 'root') {
        this.#nextRootMeta = Snapshot.read(Envelope.parse(bytes, 'snapshot').signed).meta.get('root');
      }
      throw err;
    }
  }

  /** §10.2 step 3 (cache first) for `targets` or a delegation; null when accepted. */
  tryCachedTargets(role: string, cached: Uint8Array): Error | null {
    try {
      this.#cur.loadTargets(role, cached, { minVersion: 1 });
      return null;
    } catch (err) {
      if (err instanceof StateError) throw err;
      return attributeTo(role, err as Error);
    }
  }

  /** §10.2 step 3: downloaded `targets` or delegation, verified against root or its parent's delegation. */
  updateTargets(role: string, bytes: Uint8Array, cached: Uint8Array | null): void {
    const minVersion = this.#floor(role, cached);
    try {
      this.#cur.loadTargets(role, bytes, { minVersion });
    } catch (err) {
      throw attributeTo(role, err);
    }
  }

  /** Children of a loaded targets role the download walk descends into (pre-order, listed order). */
  children(role: WalkRole): WalkRole[] {
    const meta = this.#cur.targets(role.name);
    return meta === undefined ? [] : validDelegations(meta.signed, role);
  }

  /** Record a delegation skipped with a warning (its reason ends up in `invalidRoles`). */
  skipDelegation(role: string, err: Error): void {
    this.#invalid.set(role, err.message);
  }

  /**
   * §10.2 step 4: start over with the trusted root as the previous root (notary's
   * BootstrapNewBuilder); loaded timestamp/snapshot/targets are dropped, floors are kept.
   */
  beginRetry(): void {
    if (this.#cur.root === undefined) throw new StateError('root must be loaded first');
    this.#prev = this.#cur.root;
    this.#bootstrapRootMeta = this.#nextRootMeta;
    this.#cur = this.#cur.bootstrapNewBuilder();
    this.#invalid.clear();
  }

  /** What the retry should fetch for root: `root.<sha256>.json` when the snapshot listed one. */
  rootUpdateInfo(): ConsistentInfo {
    return this.consistentInfo('root');
  }

  /**
   * §10.2 step 4: a candidate new root (cached copy checked against the snapshot's checksum, or
   * downloaded): must be signed by the previous root's threshold and match the checksum.
   * Its version may not be below the previous root's (notary only floors it at the cached root's
   * version, which is lower when the previous root was itself just fetched).
   * @throws RootRotationError when it needs a version walk, other root errors as they are
   */
  loadUpdatedRoot(bytes: Uint8Array): void {
    if (this.#prev === undefined) throw new StateError('no previous root to update from');
    try {
      this.#cur.loadRoot(bytes, { minVersion: this.#prev.signed.version });
    } catch (err) {
      throw attributeTo('root', err);
    }
  }

  /**
   * Plan the version walk from the previous root to `newestBytes`.
   * @throws DeserializationError for an unreadable newest root, TooManyRootRotationsError
   */
  planRootWalk(newestBytes: Uint8Array): RootWalkPlan {
    if (this.#prev === undefined) throw new StateError('no previous root to update from');
    let to: number;
    try {
      to = Root.fromSigned(Envelope.parse(newestBytes, 'root').signed).version;
    } catch (err) {
      throw attributeTo('root', err);
    }
    const from = this.#prev.signed.version;
    if (to < from) throw new BadVersionError(`root: version ${to} is lower than current version ${from}`);
    if (to - from > this.maxRootRotations) throw new TooManyRootRotationsError(from, to, this.maxRootRotations);
    return { from, to };
  }

  /**
   * One step of the walk: the previous root itself first (`isFinal` false, version `plan.from`),
   * then `<v>.root.json` for each version, then the newest (`isFinal` true). Intermediates may be
   * expired and skip the checksum; each must be signed by its predecessor's root keys and carry
   * exactly the version asked for; the final one must match the snapshot's checksum and be valid.
   */
  loadRootStep(bytes: Uint8Array, version: number, isFinal: boolean): void {
    try {
      this.#cur.loadRootForUpdate(bytes, version, isFinal);
      const got = this.#cur.root?.signed.version;
      if (got !== version) throw new RepositoryError('BAD_VERSION', `root: expected version ${version}, got ${got}`);
    } catch (err) {
      throw attributeTo('root', err);
    }
  }

  /** Loaded targets roles in load order (for the caller's bookkeeping). */
  loadedTargets(): string[] {
    return this.#cur.targetsRoles();
  }

  /**
   * The verified repository.
   * @throws StateError unless root, timestamp, snapshot and targets are loaded
   */
  finish(): TrustedRepo {
    const c = this.#cur;
    const root = c.root;
    const timestamp: Metadata<Timestamp> | undefined = c.timestamp;
    const snapshot = c.snapshot;
    if (root === undefined || timestamp === undefined || snapshot === undefined || c.targets('targets') === undefined) {
      throw new StateError('update is incomplete: root, timestamp, snapshot and targets must be loaded');
    }
    const targets = new Map<string, Metadata<Targets>>();
    for (const role of c.targetsRoles()) targets.set(role, c.targets(role) as Metadata<Targets>);
    return { gun: this.gun, root, timestamp, snapshot, targets, invalidRoles: new Map(this.#invalid) };
  }

  /** True when the trusted root has expired (nothing else may be loaded then). */
  isRootExpired(): boolean {
    return this.#cur.root !== undefined && isExpired(this.#cur.root.signed, this.now);
  }
}
