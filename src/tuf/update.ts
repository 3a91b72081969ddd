/**
 * Push validation (spec §6.2, notary's server/handlers/validation.go) as a pure function:
 * stored and uploaded bytes plus a reference time in, the validated updates (in storage order)
 * and what the server must generate out. Signing and key lookups stay with the caller
 * (TrustService), which then:
 *   1. if `plan.snapshot.kind === 'generate'`: needs a held key of `plan.root.signed.baseRole('snapshot')`,
 *      else throws `snapshotKeyMissingError()`; builds with `buildSnapshot(plan.snapshot.prev, plan.loaded, …)`;
 *   2. always generates the timestamp: `parsePreviousTimestamp(stored)`, a held timestamp key
 *      (else `timestampKeyMissingError()`), `buildTimestamp(…)`;
 *   3. stores `plan.updates` + snapshot + timestamp atomically.
 *
 * Errors: UpdateValidationError (→ INVALID_UPDATE with detail), DeserializationError from an
 * unreadable upload (→ MALFORMED_JSON), StoredMetadataError when stored data cannot be loaded
 * (→ INVALID_UPDATE without detail, as notary).
 *
 * @example
 *   const plan = validateUpdate({ gun, now, storedRoot, storedRoles: (r) => cache.get(r) ?? null, uploads });
 */
import { UpdateValidationError, type ValidationErrorName } from '../errors/index.ts';
import { RepoBuilder } from './builder.ts';
import { Envelope, readSignedCommon } from './envelope.ts';
import { StoredMetadataError } from './errors.ts';
import type { Metadata } from './metadata.ts';
import type { Root } from './root.ts';
import { compareRoleDepth, isTargetsRole, parentRole } from './roles.ts';
import { Snapshot, Timestamp } from './snapshot.ts';

export interface UpdateInput {
  readonly gun: string;
  readonly now: Date;
  /** The stored current root, or null. */
  readonly storedRoot: Uint8Array | null;
  /** Stored current bytes of `targets`, a delegation or `snapshot`; null when absent. */
  readonly storedRoles: (role: string) => Uint8Array | null;
  /** Uploaded role → bytes (a `timestamp` upload is ignored, as notary does). */
  readonly uploads: ReadonlyMap<string, Uint8Array>;
}

export interface ValidatedUpdate {
  readonly role: string;
  readonly version: number;
  readonly data: Uint8Array;
}

export type SnapshotPlan =
  | { readonly kind: 'uploaded'; readonly metadata: Metadata<Snapshot> }
  /** The server must build one from `prev` (the stored current snapshot, structure-checked) or anew. */
  | { readonly kind: 'generate'; readonly prev: Snapshot | null };

export interface UpdatePlan {
  /** Validated uploads in order: root, targets roles (shallowest first), snapshot. */
  readonly updates: readonly ValidatedUpdate[];
  /** The root in force after this update (uploaded or stored). */
  readonly root: Metadata<Root>;
  /** Exact bytes of root and every loaded targets role, for `buildSnapshot`. */
  readonly loaded: ReadonlyMap<string, Uint8Array>;
  readonly snapshot: SnapshotPlan;
}

function wrap(name: ValidationErrorName, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw new UpdateValidationError(name, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function loadStored(builder: RepoBuilder, role: string, bytes: Uint8Array | null): void {
  if (bytes === null) return;
  try {
    builder.load(role, bytes, { minVersion: 1, allowExpired: true });
  } catch (err) {
    throw new StoredMetadataError(role, err);
  }
}

/**
 * Validate a publish. See the module comment for what the caller does next.
 * @throws UpdateValidationError, DeserializationError, StoredMetadataError
 */
export function validateUpdate(input: UpdateInput): UpdatePlan {
  const versions = new Map<string, number>();
  for (const [role, data] of input.uploads) versions.set(role, readSignedCommon(data, role).version);
  const upload = (role: string): ValidatedUpdate => ({ role, version: versions.get(role) as number, data: input.uploads.get(role) as Uint8Array });

  const updates: ValidatedUpdate[] = [];
  let builder = new RepoBuilder({ gun: input.gun, now: input.now });
  loadStored(builder, 'root', input.storedRoot);

  // step 2: root
  const rootUpload = input.uploads.get('root');
  if (rootUpload !== undefined) {
    const current = builder.loadedVersion('root');
    const next = versions.get('root') as number;
    if (next !== current && next !== current + 1) {
      throw new UpdateValidationError('ErrBadRoot', `Root modifications must increment the version. Current ${current}, new ${next}`);
    }
    builder = builder.bootstrapNewBuilder();
    const b = builder;
    wrap('ErrBadRoot', () => b.loadRoot(rootUpload, { minVersion: current, allowExpired: false }));
    updates.push(upload('root'));
  } else if (!builder.isLoaded('root')) {
    throw new UpdateValidationError('ErrValidation', 'no pre-existing root and no root provided in update.');
  }

  // step 3: targets roles, shallowest first; missing ancestors come from storage
  const targetsRoles = [...input.uploads.keys()].filter(isTargetsRole).sort(compareRoleDepth);
  for (const role of targetsRoles) {
    const missing: string[] = [];
    for (let a = role; a !== 'targets'; ) {
      a = parentRole(a);
      if (!builder.isLoaded(a)) missing.unshift(a);
    }
    for (const a of missing) loadStored(builder, a, input.storedRoles(a));
    const b = builder;
    wrap('ErrBadTargets', () => b.loadTargets(role, input.uploads.get(role) as Uint8Array, { minVersion: 1 }));
    updates.push(upload(role));
  }

  // step 4: snapshot, uploaded or to be generated
  let snapshot: SnapshotPlan;
  const snapshotUpload = input.uploads.get('snapshot');
  if (snapshotUpload !== undefined) {
    const b = builder;
    wrap('ErrBadSnapshot', () => b.loadSnapshot(snapshotUpload, { minVersion: 1 }));
    updates.push(upload('snapshot'));
    snapshot = { kind: 'uploaded', metadata: builder.snapshot as Metadata<Snapshot> };
  } else {
    const stored = input.storedRoles('snapshot');
    let prev: Snapshot | null = null;
    if (stored !== null) {
      prev = readStored('snapshot', stored, Snapshot.read);
      const p = prev;
      wrap('ErrValidation', () => p.checkStructure());
    } else if (!builder.isLoaded('targets')) {
      throw new UpdateValidationError('ErrValidation', 'targets must be loaded first');
    }
    snapshot = { kind: 'generate', prev };
  }

  return { updates, root: builder.root as Metadata<Root>, loaded: builder.loadedBytes(), snapshot };
}

function readStored<T>(role: string, bytes: Uint8Array, read: (v: unknown) => T): T {
  try {
    return read(Envelope.parse(bytes, role).signed);
  } catch (err) {
    throw new StoredMetadataError(role, err);
  }
}

/**
 * The stored current timestamp as the base of the next one (notary's generateTimestamp):
 * unreadable → StoredMetadataError, bad structure → ErrValidation.
 */
export function parsePreviousTimestamp(stored: Uint8Array | null): Timestamp | null {
  if (stored === null) return null;
  const prev = readStored('timestamp', stored, Timestamp.read);
  wrap('ErrValidation', () => prev.checkStructure());
  return prev;
}

/** §6.2 step 4: no snapshot uploaded and the server holds no snapshot key. */
export function snapshotKeyMissingError(): UpdateValidationError {
  return new UpdateValidationError(
    'ErrBadHierarchy',
    'no snapshot was included in update and server does not hold current snapshot key for repository',
    { missing: 'snapshot' },
  );
}

/** §6.2 step 5: the server holds no timestamp key (notary's text has two spaces). */
export function timestampKeyMissingError(): UpdateValidationError {
  return new UpdateValidationError('ErrBadRoot', 'no  timestamp keys exist on the server');
}
