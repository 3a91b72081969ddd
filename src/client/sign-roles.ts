/**
 * Re-signing roles of an EditableRepo (spec §4.1, §10.4 steps 3–5): version + 1 from the loaded
 * version, a new expiry from notary's defaults (root 10 years, targets and delegations 3 years,
 * snapshot 3 years), canonical `signed` from the src/tuf models (only the fields Go knows) and
 * Go's envelope layout, so every file is byte-identical to what notary would write.
 *
 * - root: signed by the current root keys and, when the root role changed, also by the root
 *   keys it was last signed with (rotation); extra (legacy) keys are optional.
 * - snapshot: meta for root and every loaded targets role from their current bytes, the previous
 *   snapshot's other entries kept; null when no snapshot key is held (the server signs then).
 *
 * @example
 *   files.set('targets', await signTargets(repo, ring, 'targets'));
 */
import { canonicalize } from '../canonical/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { StateError } from '../errors/index.ts';
import { assembleSigned, buildSnapshot, defaultExpiry, goTimeFromDate, type BaseRole } from '../tuf/index.ts';
import { InsufficientSignaturesError } from './repo-errors.ts';
import { baseRoleOf, rootModel, targetsModel, type EditableRepo } from './repo-state.ts';
import { signWithRoles, type KeyRing } from './sign.ts';

/** notary's BaseRole.Equals: same name, threshold and key IDs. */
export function sameRole(a: BaseRole, b: BaseRole): boolean {
  if (a.name !== b.name || a.threshold !== b.threshold || a.keys.size !== b.keys.size) return false;
  for (const id of a.keys.keys()) if (!b.keys.has(id)) return false;
  return true;
}

/**
 * Re-sign root (notary's SignRoot). Returns the new file bytes; the draft takes the new version,
 * expiry, signatures and bytes, and the signed root role becomes the "original" one.
 * @throws InsufficientSignaturesError when old or new root keys are missing
 */
export async function signRoot(repo: EditableRepo, ring: KeyRing, extraKeys: ReadonlyMap<string, TufKey> = new Map()): Promise<Uint8Array> {
  const draft = repo.root;
  const current = baseRoleOf(draft, 'root');
  const roles = sameRole(repo.originalRootRole, current) ? [current] : [repo.originalRootRole, current];
  const version = draft.version + 1;
  const expires = goTimeFromDate(defaultExpiry('root', repo.now));
  const canonical = canonicalize(rootModel({ ...draft, version, expires }).toJSON());
  const signatures = await signWithRoles(ring, canonical, draft.signatures, roles, extraKeys);
  const bytes = assembleSigned(canonical, signatures);
  Object.assign(draft, { version, expires, signatures, bytes, dirty: false });
  repo.originalRootRole = current;
  return bytes;
}

/**
 * Re-sign `targets` or a delegation (notary's SignTargets) with the role's keys to its threshold.
 * @throws StateError for a role without a draft, InsufficientSignaturesError, delegation lookup errors
 */
export async function signTargets(repo: EditableRepo, ring: KeyRing, role: string): Promise<Uint8Array> {
  const draft = repo.targets.get(role);
  if (draft === undefined) throw new StateError(`${role}: SignTargets called with non-existent targets role`);
  const version = draft.version + 1;
  const expires = goTimeFromDate(defaultExpiry('targets', repo.now));
  const signer = await repo.signingRole(role);
  const canonical = canonicalize(targetsModel({ ...draft, version, expires }).toJSON());
  const signatures = await signWithRoles(ring, canonical, draft.signatures, [signer]);
  const bytes = assembleSigned(canonical, signatures);
  Object.assign(draft, { version, expires, signatures, bytes, dirty: false });
  return bytes;
}

/**
 * A new snapshot over root and every loaded targets role (notary's SignSnapshot), or null when
 * none of the snapshot keys is held (a server-managed snapshot).
 * @throws StateError when a role has never been signed, InsufficientSignaturesError when some but
 *   too few snapshot keys are held
 */
export async function signSnapshot(repo: EditableRepo, ring: KeyRing): Promise<Uint8Array | null> {
  const roles = new Map<string, Uint8Array>();
  if (repo.root.bytes === null) throw new StateError('root has not been signed');
  roles.set('root', repo.root.bytes);
  for (const [name, d] of repo.targets) {
    if (d.bytes === null) throw new StateError(`${name} has not been signed`);
    roles.set(name, d.bytes);
  }
  const built = buildSnapshot(repo.snapshot, roles, defaultExpiry('snapshot', repo.now));
  let signatures;
  try {
    signatures = await signWithRoles(ring, built.canonical, [], [repo.baseRole('snapshot')]);
  } catch (err) {
    if (err instanceof InsufficientSignaturesError && err.foundKeys === 0) return null;
    throw err;
  }
  repo.snapshot = built.signed;
  repo.snapshotDirty = false;
  return assembleSigned(built.canonical, signatures);
}
