/**
 * Delegation edits applied at publish (notary's `UpdateDelegationKeys`, `UpdateDelegationPaths`,
 * `DeleteDelegation`, `PurgeDelegationKeys`; spec §4.3, §9.4). Every edit lands in the parent's
 * targets draft, marks it dirty and prunes `delegations.keys` no role uses any more.
 *
 * Quirks kept from notary: an existing delegation's threshold is never changed; removing every
 * key leaves `"keyids": null`; a paths-only change on a missing delegation creates it with no keys.
 *
 * @example
 *   await updateDelegationKeys(repo, ring, 'targets/releases', [aliceKey], [], 1);
 *   await updateDelegationPaths(repo, ring, 'targets/releases', [''], [], false);
 */
import { canonicalKeyId, tufKeyId } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { InvalidRoleError, isDelegationName, parentRole, type DelegationRole } from '../tuf/index.ts';
import { isWildDelegation } from './changelist-changes.ts';
import type { DelegationEntry, EditableRepo, TargetsDraft, WalkStep } from './repo-state.ts';
import type { KeyRing } from './sign.ts';
import { restrictPaths } from './walk.ts';

/** Something worth a warning that does not stop the publish (notary logs these). */
export type Warn = (message: string) => void;

/** Go's mergeStrSlices: `orig` plus the new entries not yet in it (never null). */
function merge(orig: readonly string[] | null, add: readonly string[]): string[] {
  const out = [...(orig ?? [])];
  for (const e of add) if (!out.includes(e)) out.push(e);
  return out;
}

/** Go's subtractStrSlices: null when nothing is left. */
function subtract(orig: readonly string[] | null, remove: readonly string[]): string[] | null {
  const keep = (orig ?? []).filter((e) => !remove.includes(e));
  return keep.length === 0 ? null : keep;
}

/** notary's RemoveUnusedKeys: drop `delegations.keys` entries no role lists. */
export function removeUnusedKeys(draft: TargetsDraft): void {
  const used = new Set(draft.roles.flatMap((r) => r.keyids ?? []));
  for (const id of [...draft.keys.keys()]) if (!used.has(id)) draft.keys.delete(id);
}

interface DelegationUpdate {
  readonly addKeys: readonly TufKey[];
  readonly removeKeys: readonly string[];
  readonly addPaths: readonly string[];
  readonly removePaths: readonly string[];
  readonly clearPaths: boolean;
  readonly threshold: number;
}

/** notary's delegationUpdateVisitor, run on the parent draft reached by the walk. */
function applyUpdate(name: string, u: DelegationUpdate, draft: TargetsDraft, parent: DelegationRole, warn: Warn): 'stop' {
  if (restrictPaths(parent.paths, u.addPaths).length !== u.addPaths.length) {
    throw new InvalidRoleError(name, 'invalid paths to add to role');
  }
  const existing = draft.roles.find((r) => r.name === name);
  let entry: DelegationEntry;
  if (existing !== undefined) {
    let paths: string[] = subtract(existing.paths, u.removePaths) ?? [];
    if (u.clearPaths) paths = [];
    if (u.addPaths.length > 0) paths = merge(paths, u.addPaths);
    entry = { name, keyids: subtract(existing.keyids, u.removeKeys), threshold: existing.threshold, paths };
  } else {
    if (u.threshold < 1) throw new InvalidRoleError(name);
    entry = { name, keyids: u.addKeys.map(tufKeyId), threshold: u.threshold, paths: [...u.addPaths] };
  }
  for (const k of u.addKeys) {
    const id = tufKeyId(k);
    if (!(entry.keyids ?? []).includes(id)) entry.keyids = [...(entry.keyids ?? []), id];
  }
  if ((entry.keyids ?? []).length < entry.threshold) {
    warn(`role ${name} has fewer keys than its threshold of ${entry.threshold}; it will not be usable until keys are added to it`);
  }
  for (const k of u.addKeys) draft.keys.set(tufKeyId(k), k);
  const at = draft.roles.findIndex((r) => r.name === name);
  if (at < 0) draft.roles.push(entry);
  else draft.roles[at] = entry;
  draft.dirty = true;
  removeUnusedKeys(draft);
  return 'stop';
}

/**
 * Create a delegation or add/remove its keys (`removeKeys` are TUF key IDs). The parent must be
 * signable by us; its metadata is created when missing.
 * @throws InvalidRoleError, NoSigningKeysError
 */
export async function updateDelegationKeys(
  repo: EditableRepo,
  ring: KeyRing,
  name: string,
  addKeys: readonly TufKey[],
  removeKeys: readonly string[],
  threshold: number,
  warn: Warn = () => {},
): Promise<void> {
  if (!isDelegationName(name)) throw new InvalidRoleError(name, 'not a valid delegated role');
  const parent = parentRole(name);
  await repo.verifyCanSign(parent, ring);
  if (!repo.targets.has(parent)) repo.initTargets(parent);
  const u = { addKeys, removeKeys, addPaths: [], removePaths: [], clearPaths: false, threshold };
  await repo.walk('', parent, (draft, role) => applyUpdate(name, u, draft, role, warn));
}

/**
 * Add/remove/clear a delegation's paths. The parent's metadata must exist.
 * @throws InvalidRoleError (`no valid delegated role exists`, `invalid paths to add to role`), NoSigningKeysError
 */
export async function updateDelegationPaths(
  repo: EditableRepo,
  ring: KeyRing,
  name: string,
  addPaths: readonly string[],
  removePaths: readonly string[],
  clearPaths: boolean,
  warn: Warn = () => {},
): Promise<void> {
  if (!isDelegationName(name)) throw new InvalidRoleError(name, 'not a valid delegated role');
  const parent = parentRole(name);
  await repo.verifyCanSign(parent, ring);
  if (!repo.targets.has(parent)) throw new InvalidRoleError(name, 'no valid delegated role exists');
  const u = { addKeys: [], removeKeys: [], addPaths, removePaths, clearPaths, threshold: 1 };
  await repo.walk('', parent, (draft, role) => applyUpdate(name, u, draft, role, warn));
}

/**
 * Delete a delegation from its parent, drop its metadata and its snapshot meta.
 * @throws InvalidRoleError, NoSigningKeysError
 */
export async function deleteDelegation(repo: EditableRepo, ring: KeyRing, name: string): Promise<void> {
  if (!isDelegationName(name)) throw new InvalidRoleError(name, 'not a valid delegated role');
  const parent = parentRole(name);
  await repo.verifyCanSign(parent, ring);
  repo.targets.delete(name);
  repo.deleteSnapshotMeta(name);
  const p = repo.targets.get(parent);
  if (p === undefined) return;
  const at = p.roles.findIndex((r) => r.name === name);
  if (at < 0) return;
  p.roles.splice(at, 1);
  removeUnusedKeys(p);
  p.dirty = true;
}

/**
 * Remove keys (canonical IDs) from every delegation below the wildcard's parent
 * (`targets/*` = everywhere). Roles we cannot sign are left as they are, with a warning.
 * @throws InvalidRoleError for a non-wildcard role
 */
export async function purgeDelegationKeys(repo: EditableRepo, ring: KeyRing, wildcard: string, canonicalIds: readonly string[], warn: Warn = () => {}): Promise<void> {
  if (!isWildDelegation(wildcard)) throw new InvalidRoleError(wildcard, 'only wildcard roles can be used in a purge');
  const remove = new Set(canonicalIds);
  await repo.walk('', parentRole(wildcard), async (draft, role): Promise<WalkStep> => {
    const candidates: string[] = [];
    for (const [id, key] of draft.keys) {
      if (remove.has(canonicalKeyId(key))) candidates.push(id);
    }
    if (candidates.length === 0) return 'continue';
    try {
      await repo.verifyCanSign(role.name, ring);
    } catch {
      warn(
        `role ${role.name} contains keys being purged but you do not have the necessary keys present to sign it; keys will not be purged from ${role.name} or its immediate children`,
      );
      return 'continue';
    }
    for (const id of candidates) draft.keys.delete(id);
    for (const r of draft.roles) {
      r.keyids = subtract(r.keyids, candidates);
      if ((r.keyids ?? []).length < r.threshold) {
        warn(`role ${r.name} has fewer keys than its threshold of ${r.threshold}; it will not be usable until keys are added to it`);
      }
    }
    draft.dirty = true;
    return 'continue';
  });
}
