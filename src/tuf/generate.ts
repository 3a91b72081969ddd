/**
 * Server-generated snapshot and timestamp (spec §6.3), unsigned. The caller signs `canonical`
 * with the role's key(s) and writes the file with `assembleSigned`.
 *
 * Meta entries hash the STORED bytes of each role (sha256 + sha512 + length). notary hashes its
 * own re-serialisation instead (§1.3); for files in Go's layout, which every file we emit is,
 * the two agree.
 *
 * @example
 *   const sn = buildSnapshot(prev, plan.loaded, defaultExpiry('snapshot', now));
 *   const bytes = assembleSigned(sn.canonical, [await sign(sn.canonical)]);
 *   const ts = buildTimestamp(prevTs, bytes, defaultExpiry('timestamp', now));
 */
import { canonicalize } from '../canonical/index.ts';
import { StateError } from '../errors/index.ts';
import { fileMetaFor, type FileMeta } from './file-meta.ts';
import { Snapshot, Timestamp } from './snapshot.ts';
import { goTimeFromDate } from './time.ts';

export interface Built<T> {
  /** The new model (version = previous + 1, or 1). */
  readonly signed: T;
  /** Canonical bytes of the `signed` value: what gets signed and embedded in the envelope. */
  readonly canonical: Uint8Array;
}

/**
 * Next snapshot: previous meta kept (entries of deleted delegations stay, §13.10), then the meta
 * of every role in `roles` (root and each loaded targets role) replaced by its bytes' meta.
 * Without a previous snapshot, `roles` must contain root and targets.
 * @throws StateError when there is no previous snapshot and root or targets is missing
 */
export function buildSnapshot(prev: Snapshot | null, roles: ReadonlyMap<string, Uint8Array>, expires: Date): Built<Snapshot> {
  if (prev === null) {
    for (const req of ['root', 'targets']) {
      if (!roles.has(req)) throw new StateError(`${req} must be loaded first`);
    }
  }
  const meta = new Map<string, FileMeta>(prev?.meta ?? []);
  for (const [role, bytes] of roles) meta.set(role, fileMetaFor(bytes));
  const signed = new Snapshot({ version: (prev?.version ?? 0) + 1, expires: goTimeFromDate(expires), meta });
  return { signed, canonical: canonicalize(signed.toJSON()) };
}

/** Next timestamp: `meta.snapshot` describes `snapshotBytes`; other entries are kept. */
export function buildTimestamp(prev: Timestamp | null, snapshotBytes: Uint8Array, expires: Date): Built<Timestamp> {
  const meta = new Map<string, FileMeta>(prev?.meta ?? []);
  meta.set('snapshot', fileMetaFor(snapshotBytes));
  const signed = new Timestamp({ version: (prev?.version ?? 0) + 1, expires: goTimeFromDate(expires), meta });
  return { signed, canonical: canonicalize(signed.toJSON()) };
}
