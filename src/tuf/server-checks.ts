/**
 * Pure decisions behind GET timestamp.json / snapshot.json (spec §6.4, notary's
 * server/timestamp and server/snapshot): read stored files, decide whether the timestamp must
 * be re-signed or the snapshot regenerated, and verify the inputs of a regeneration.
 *
 * Storage, signing and the clock stay with the caller.
 *
 * @example
 *   const ts = readStoredTimestamp(tsBytes);
 *   const hex = snapshotChecksumHex(ts);               // fetch the snapshot by this checksum
 *   if (needsNewTimestamp(ts, snapshotBytes, now)) {
 *     const { snapshot } = verifySnapshotForTimestamp({ gun, now, rootBytes, snapshotBytes });
 *     const next = buildTimestamp(ts, snapshotBytes, defaultExpiry('timestamp', now));
 *   }
 */
import { toHex } from '../canonical/index.ts';
import { RepoBuilder } from './builder.ts';
import { Envelope } from './envelope.ts';
import { MissingMetaError } from './errors.ts';
import { hashesMatch } from './file-meta.ts';
import type { Metadata } from './metadata.ts';
import type { Root } from './root.ts';
import { Snapshot, Timestamp } from './snapshot.ts';
import { isExpiredAt } from './time.ts';

/** A stored timestamp, read without signature or structure checks (as notary does). @throws DeserializationError */
export function readStoredTimestamp(bytes: Uint8Array): Timestamp {
  return Timestamp.read(Envelope.parse(bytes, 'timestamp').signed);
}

/** A stored snapshot, read without signature or structure checks. @throws DeserializationError */
export function readStoredSnapshot(bytes: Uint8Array): Snapshot {
  return Snapshot.read(Envelope.parse(bytes, 'snapshot').signed);
}

/** Lowercase hex sha256 of the snapshot the timestamp points to. @throws MissingMetaError */
export function snapshotChecksumHex(ts: Timestamp): string {
  const digest = ts.meta.get('snapshot')?.hashes.get('sha256');
  if (digest === undefined) throw new MissingMetaError('snapshot');
  return toHex(digest);
}

export function isTimestampExpired(ts: Timestamp, now: Date): boolean {
  return isExpiredAt(ts.expires, now);
}

export function isSnapshotExpired(sn: Snapshot, now: Date): boolean {
  return isExpiredAt(sn.expires, now);
}

/** Whether the snapshot bytes still match every supported hash the timestamp lists. */
export function snapshotMatchesTimestamp(ts: Timestamp, snapshotBytes: Uint8Array): boolean {
  return hashesMatch(snapshotBytes, ts.meta.get('snapshot')?.hashes);
}

/** notary re-signs the timestamp when it expired or no longer matches the snapshot. */
export function needsNewTimestamp(ts: Timestamp, snapshotBytes: Uint8Array, now: Date): boolean {
  return isTimestampExpired(ts, now) || !snapshotMatchesTimestamp(ts, snapshotBytes);
}

/**
 * The stored root, which must load unexpired (needed before regenerating an expired snapshot).
 * @throws the root validation errors of RepoBuilder.loadRoot
 */
export function loadCurrentRoot(gun: string, now: Date, rootBytes: Uint8Array): Metadata<Root> {
  const b = new RepoBuilder({ gun, now });
  b.loadRoot(rootBytes, { minVersion: 1, allowExpired: false });
  return b.root as Metadata<Root>;
}

/**
 * Inputs of a new timestamp: the stored root must load unexpired, and the snapshot must verify
 * against it, be unexpired and match the root's bytes.
 * @throws root/snapshot validation errors (ThresholdError, ExpiredMetadataError, ChecksumMismatchError, …)
 */
export function verifySnapshotForTimestamp(input: { gun: string; now: Date; rootBytes: Uint8Array; snapshotBytes: Uint8Array }): {
  root: Metadata<Root>;
  snapshot: Metadata<Snapshot>;
} {
  const b = new RepoBuilder({ gun: input.gun, now: input.now });
  b.loadRoot(input.rootBytes, { minVersion: 1, allowExpired: false });
  b.loadSnapshot(input.snapshotBytes, { minVersion: 1, allowExpired: false });
  return { root: b.root as Metadata<Root>, snapshot: b.snapshot as Metadata<Snapshot> };
}
