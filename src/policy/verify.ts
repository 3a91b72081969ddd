/**
 * Verify a GUN's trust data as the trust server stores it, from the stored root down, with the
 * client's rules (src/client's TrustedSet: signatures and thresholds, versions, expiry, hashes
 * and lengths from the listing role, delegation key and path rules). Used by the content-trust
 * policy before it believes a single signed target.
 *
 * The root is the server's current root, trusted as it is (the server validated it on publish)
 * unless a root key is pinned: then it must carry a signature of that key (notary's trust
 * pinning by certificate ID, spec §3.3). Then the current timestamp, the snapshot with the
 * checksum the timestamp lists, `targets` and every delegation the snapshot lists, each read by
 * the checksum its listing gives, so a publish landing between two reads cannot mix versions
 * (such a race fails verification; the caller retries once). Delegations that are expired or
 * under their threshold are skipped (they then sign nothing), as the client does; anything
 * wrong with root, timestamp, snapshot or `targets` fails the whole verification.
 *
 * Not here: I/O (the source reads the store), caching (content-trust.ts), decisions (decide.ts).
 *
 * Example:
 *   const repo = await verifyStoredTrust(source, { gun: '127.0.0.1:5000/team/app', now: new Date() });
 *   getDockerTarget(repo, 'v1');
 */
// The client's read rules only, not src/client/index.ts: that also loads the fetchers, the
// keystore and the changelist, which a server process has no use for.
import { isSkippableDelegationFailure, TrustedSet } from '../client/trusted-set.ts';
import type { TrustedRepo } from '../client/types.ts';
import { TARGETS_WALK_ROOT, type WalkRole } from '../client/walk.ts';
import { NotFoundError, RepositoryError } from '../errors/index.ts';
import type { TrustPinning } from '../tuf/index.ts';

/** Read access to the trust server's store for one GUN at a time. */
export interface TrustMetadataSource {
  /** The current version of a role, or null when the GUN has none. */
  current(gun: string, role: string): Promise<Uint8Array | null>;
  /** The version of a role whose bytes hash to `sha256Hex`, or null. */
  byChecksum(gun: string, role: string, sha256Hex: string): Promise<Uint8Array | null>;
}

export interface VerifyOptions {
  readonly gun: string;
  readonly now: Date;
  /** A root key ID the root must be signed with; null/absent: the stored root as it is. */
  readonly pinnedRootKey?: string | null;
  /** The current timestamp when the caller already read it. */
  readonly timestamp?: Uint8Array;
  /** Most delegations loaded (default 4096, the client's). */
  readonly maxDelegations?: number;
}

/** The GUN has no trust data at all (never signed, or deleted). */
export class NoTrustDataError extends NotFoundError {
  readonly gun: string;
  constructor(gun: string) {
    super(`no trust data for ${gun}`);
    this.gun = gun;
  }
}

const DEFAULT_MAX_DELEGATIONS = 4096;

/**
 * @throws NoTrustDataError when there is no root (or timestamp) for the GUN
 * @throws RepositoryError (and subclasses: signatures, expiry, hashes, pinning…) naming the role
 */
export async function verifyStoredTrust(source: TrustMetadataSource, o: VerifyOptions): Promise<TrustedRepo> {
  const { gun } = o;
  const timestamp = o.timestamp ?? (await source.current(gun, 'timestamp'));
  const root = await source.current(gun, 'root');
  if (root === null || timestamp === null) throw new NoTrustDataError(gun);
  const pinning: TrustPinning = o.pinnedRootKey === undefined || o.pinnedRootKey === null ? {} : { certs: new Map([[gun, [o.pinnedRootKey]]]) };
  const set = TrustedSet.bootstrap({ gun, now: o.now, pinning: () => pinning, cachedRoot: null });
  set.loadRoot(root);
  set.updateTimestamp(timestamp, null);
  set.updateSnapshot(await listed(source, gun, set, 'snapshot'), null);

  const max = o.maxDelegations ?? DEFAULT_MAX_DELEGATIONS;
  const queue: WalkRole[] = [TARGETS_WALK_ROOT];
  let loaded = 0;
  while (queue.length > 0) {
    const role = queue.shift() as WalkRole;
    if (!set.consistentInfo(role.name).known) continue; // not in the snapshot: signs nothing
    if (loaded++ > max) throw new RepositoryError('BAD_TARGETS', `${role.name}: more than ${max} delegations to load`);
    try {
      set.updateTargets(role.name, await listed(source, gun, set, role.name), null);
      queue.unshift(...set.children(role));
    } catch (err) {
      if (!isSkippableDelegationFailure(role.name, err)) throw err;
      set.skipDelegation(role.name, err as Error);
    }
  }
  return set.finish();
}

/** A role by the checksum its listing role gives (the current version when none is listed). */
async function listed(source: TrustMetadataSource, gun: string, set: TrustedSet, role: string): Promise<Uint8Array> {
  const info = set.consistentInfo(role);
  const bytes = info.sha256 === undefined ? await source.current(gun, role) : await source.byChecksum(gun, role, info.sha256);
  if (bytes === null) throw new RepositoryError('VALIDATION', `${role}: listed${info.sha256 === undefined ? '' : ` with sha256 ${info.sha256}`} but not stored for ${gun}`);
  if (bytes.length > info.length) throw new RepositoryError('BAD_LENGTH', `${role}: ${bytes.length} bytes, more than the ${info.length} listed`);
  return bytes;
}

/** The earliest expiry among the roles a verified repository was built from (ms since epoch). */
export function earliestExpiry(repo: TrustedRepo): number {
  let min = Math.min(repo.root.signed.expires.unixMs, repo.timestamp.signed.expires.unixMs, repo.snapshot.signed.expires.unixMs);
  for (const meta of repo.targets.values()) min = Math.min(min, meta.signed.expires.unixMs);
  return min;
}
