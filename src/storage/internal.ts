/**
 * Helpers shared by the storage backends: checksums, batch validation and changefeed paging
 * rules. Not part of the public surface (src/storage/index.ts does not export this file).
 */
import { createHash } from 'node:crypto';
import { VersionConflictError } from '../errors/index.ts';
import type { MetaUpdate } from './types.ts';

/** Lowercase hex sha256 of `data`: the checksum every backend stores per row. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Checks the part of the version rule that needs no stored state (spec §6.2 step 6): versions
 * are integers and unique per role within one call.
 * @throws VersionConflictError naming the role and the repeated version
 * @throws TypeError when a version is not a safe integer
 */
export function checkBatch(gun: string, updates: readonly MetaUpdate[]): void {
  const seen = new Set<string>();
  for (const u of updates) {
    if (!Number.isSafeInteger(u.version)) {
      throw new TypeError(`${gun} ${u.role}: version must be an integer, got ${String(u.version)}`);
    }
    const key = `${u.role}\u0000${u.version}`;
    if (seen.has(key)) {
      throw new VersionConflictError(`${gun} ${u.role}: version ${u.version} appears twice in one update`);
    }
    seen.add(key);
  }
}

/** How a changefeed request is read (spec §5.4; notary's SQL store, not its buggy memory store). */
export interface ChangePage {
  /** Newest first when true (then reversed back to oldest first by the caller). */
  readonly backward: boolean;
  /** Lower (forward, exclusive) or upper (backward, exclusive) id bound; null = unbounded. */
  readonly bound: number | null;
  readonly limit: number;
}

/**
 * Normalises (changeId, records): a negative `records` or a negative `changeId` pages backward;
 * backward with `changeId` ≤ 0 means "the last |records| changes"; forward returns ids greater
 * than `changeId`. `records` 0 yields an empty page (the HTTP handler maps 0 to 100, §5.4).
 */
export function changePage(changeId: number, records: number): ChangePage {
  if (!Number.isSafeInteger(changeId)) throw new TypeError(`change id must be an integer, got ${String(changeId)}`);
  if (!Number.isSafeInteger(records)) throw new TypeError(`records must be an integer, got ${String(records)}`);
  const backward = records < 0 || changeId < 0;
  const limit = Math.abs(records);
  if (backward) return { backward, bound: changeId > 0 ? changeId : null, limit };
  return { backward, bound: changeId, limit };
}
