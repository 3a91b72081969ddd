/**
 * Applying staged changes to the repository being published (spec §10.4 step 2; notary's
 * applyChangelist): scope `targets`/delegation/`targets/*` changes edit targets drafts, scope
 * `root` changes replace a base role's keys. The first failing change aborts the publish.
 *
 * Adding a target needs a held key of the role and the name inside the role's paths (notary:
 * `Could not add all targets`, `could not find necessary signing keys, …`).
 *
 * @example
 *   await applyChanges(repo, ring, await changelist.list(), { warn: console.warn });
 */
import { canonicalize } from '../canonical/index.ts';
import { canonicalKeyId, tufKeyId } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { InvalidRoleError, isDelegationName, type FileMeta } from '../tuf/index.ts';
import { ChangeAction, ChangeType, type Change } from './changelist.ts';
import { isWildDelegation } from './changelist-changes.ts';
import { decodeDelegationData, decodeRootRoleData, decodeTargetData } from './changelist-data.ts';
import { deleteDelegation, purgeDelegationKeys, updateDelegationKeys, updateDelegationPaths, type Warn } from './delegation-ops.ts';
import { TargetsNotAddedError, UnsupportedChangeError } from './repo-errors.ts';
import { baseRoleOf, type EditableRepo, type TargetsDraft } from './repo-state.ts';
import type { KeyRing } from './sign.ts';

export interface ApplyOptions {
  readonly warn?: Warn;
  /**
   * A delegation that exists but failed verification on update (bad signatures, expired), parsed
   * but not trusted; lets `witness` bring it back. Null when unknown.
   */
  readonly invalidRole?: (role: string) => Promise<TargetsDraft | null>;
}

/** Apply `changes` in order. @throws the first change's error */
export async function applyChanges(repo: EditableRepo, ring: KeyRing, changes: readonly Change[], opts: ApplyOptions = {}): Promise<void> {
  for (const c of changes) {
    if (c.scope === 'targets' || isDelegationName(c.scope) || isWildDelegation(c.scope)) await applyTargetsChange(repo, ring, c, opts);
    else if (c.scope === 'root') applyRootChange(repo, c);
    else throw new UnsupportedChangeError(`scope not supported: ${c.scope}`);
  }
}

async function applyTargetsChange(repo: EditableRepo, ring: KeyRing, c: Change, opts: ApplyOptions): Promise<void> {
  const warn = opts.warn ?? (() => {});
  switch (c.type) {
    case ChangeType.Target:
      if (c.action === ChangeAction.Create) {
        const t = decodeTargetData(c.data);
        const meta: FileMeta = t.custom === undefined ? { length: t.length, hashes: t.hashes } : { length: t.length, hashes: t.hashes, custom: t.custom };
        return addTargets(repo, ring, c.scope, new Map([[c.path, meta]]));
      }
      if (c.action === ChangeAction.Delete) return removeTargets(repo, ring, c.scope, [c.path]);
      throw new UnsupportedChangeError(`action not yet supported: ${c.action}`);
    case ChangeType.Delegation:
      return applyDelegationChange(repo, ring, c, warn);
    case ChangeType.Witness:
      return witnessTargets(repo, c.scope, opts.invalidRole);
    default:
      throw new UnsupportedChangeError('only target meta and delegations changes supported');
  }
}

async function applyDelegationChange(repo: EditableRepo, ring: KeyRing, c: Change, warn: Warn): Promise<void> {
  switch (c.action) {
    case ChangeAction.Create: {
      const d = decodeDelegationData(c.data);
      await updateDelegationKeys(repo, ring, c.scope, d.addKeys ?? [], [], d.threshold ?? 0, warn);
      return updateDelegationPaths(repo, ring, c.scope, d.addPaths ?? [], [], false, warn);
    }
    case ChangeAction.Update: {
      const d = decodeDelegationData(c.data);
      if (isWildDelegation(c.scope)) return purgeDelegationKeys(repo, ring, c.scope, d.removeKeys ?? [], warn);
      // remove_keys carries canonical IDs; the metadata lists TUF IDs
      const role = await repo.delegationRole(c.scope);
      const toTuf = new Map<string, string>();
      for (const [tufId, key] of role.keys) toTuf.set(canonicalKeyId(key), tufId);
      const removeTuf = (d.removeKeys ?? []).map((id) => toTuf.get(id) ?? '');
      await updateDelegationKeys(repo, ring, c.scope, d.addKeys ?? [], removeTuf, d.threshold ?? 0, warn);
      return updateDelegationPaths(repo, ring, c.scope, d.addPaths ?? [], d.removePaths ?? [], d.clearPaths ?? false, warn);
    }
    case ChangeAction.Delete:
      return deleteDelegation(repo, ring, c.scope);
    default:
      throw new UnsupportedChangeError(`unsupported action against delegations: ${c.action}`);
  }
}

function customEquals(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ca = canonicalize(a);
  const cb = canonicalize(b);
  return ca.length === cb.length && ca.every((x, i) => x === cb[i]);
}

/** notary's FileMeta.Equals (custom compared by its canonical form). */
export function fileMetaEquals(a: FileMeta, b: FileMeta | undefined): boolean {
  if (b === undefined || a.length !== b.length || a.hashes.size !== b.hashes.size) return false;
  for (const [alg, digest] of a.hashes) {
    const other = b.hashes.get(alg);
    if (other === undefined || other.length !== digest.length || !other.every((x, i) => x === digest[i])) return false;
  }
  return customEquals(a.custom, b.custom);
}

/** VerifyCanSign, except that a missing role is fatal right away and a missing key only once we must sign. */
async function signability(repo: EditableRepo, ring: KeyRing, role: string): Promise<Error | null> {
  try {
    await repo.verifyCanSign(role, ring);
    return null;
  } catch (err) {
    if (err instanceof InvalidRoleError) throw err;
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * notary's Repo.AddTargets: each target goes into `role` if the walk reaches it with the name
 * inside its paths; unchanged entries need no key.
 * @throws InvalidRoleError, NoSigningKeysError, TargetsNotAddedError
 */
export async function addTargets(repo: EditableRepo, ring: KeyRing, role: string, files: ReadonlyMap<string, FileMeta>): Promise<void> {
  const cantSign = await signability(repo, ring, role);
  if (!repo.targets.has(role)) repo.initTargets(role);
  const added = new Set<string>();
  let needSign = false;
  for (const [name, meta] of files) {
    await repo.walk(name, role, (draft) => {
      if (fileMetaEquals(meta, draft.targets.get(name))) {
        added.add(name);
        return 'stop';
      }
      needSign = true;
      if (cantSign === null) {
        draft.targets.set(name, meta);
        draft.dirty = true;
        added.add(name);
      }
      return 'stop';
    });
    if (needSign && cantSign !== null) throw cantSign;
  }
  if (added.size !== files.size) throw new TargetsNotAddedError();
}

/**
 * notary's Repo.RemoveTargets: delete the names from `role` (no path check: a bad entry can
 * always be removed). Absent names and absent metadata are no-ops.
 * @throws InvalidRoleError, NoSigningKeysError (only when something would change)
 */
export async function removeTargets(repo: EditableRepo, ring: KeyRing, role: string, names: readonly string[]): Promise<void> {
  const cantSign = await signability(repo, ring, role);
  if (!repo.targets.has(role)) return;
  let needSign = false;
  for (const name of names) {
    await repo.walk('', role, (draft) => {
      needSign = draft.targets.has(name);
      if (needSign && cantSign === null) {
        draft.targets.delete(name);
        draft.dirty = true;
      }
      return 'stop';
    });
    if (needSign && cantSign !== null) throw cantSign;
  }
}

/**
 * notary's witnessTargets: mark a loaded role for re-signing, or bring back a delegation that
 * failed verification when its parent lists enough keys for its threshold.
 * @throws InvalidRoleError (`this role is not known`, not enough keys)
 */
export async function witnessTargets(repo: EditableRepo, role: string, invalidRole?: (role: string) => Promise<TargetsDraft | null>): Promise<void> {
  const loaded = repo.targets.get(role);
  if (loaded !== undefined) {
    loaded.dirty = true;
    return;
  }
  if (invalidRole !== undefined && isDelegationName(role)) {
    let spec;
    try {
      spec = await repo.delegationRole(role);
    } catch {
      spec = undefined;
    }
    if (spec !== undefined) {
      if (spec.threshold > spec.keys.size) {
        throw new InvalidRoleError(role, 'role does not specify enough valid signing keys to meet its required threshold');
      }
      const draft = await invalidRole(role);
      if (draft !== null) {
        draft.dirty = true;
        repo.targets.set(role, draft);
        return;
      }
    }
  }
  throw new InvalidRoleError(role, 'this role is not known');
}

function applyRootChange(repo: EditableRepo, c: Change): void {
  if (c.type !== ChangeType.BaseRole) throw new UnsupportedChangeError(`type of root change not yet supported: ${c.type}`);
  if (c.action !== ChangeAction.Create) throw new UnsupportedChangeError(`action not yet supported for root: ${c.action}`);
  const d = decodeRootRoleData(c.data);
  replaceBaseKeys(repo, d.role, d.keys);
}

function markRoleDirty(repo: EditableRepo, role: string): void {
  if (role === 'snapshot') repo.snapshotDirty = true;
  if (role === 'targets') {
    const t = repo.targets.get('targets');
    if (t !== undefined) t.dirty = true;
  }
}

/**
 * notary's ReplaceBaseKeys: the role's keys in root become `keys`. Replaced keys no other role
 * uses leave root's `keys` (root certificates stay, so the old root can still be verified) and
 * are recorded in `repo.retiredKeyIds` for removal from the key store after the publish.
 * @throws InvalidRoleError when the role is not in root
 */
export function replaceBaseKeys(repo: EditableRepo, role: string, keys: readonly TufKey[]): void {
  const old = [...baseRoleOf(repo.root, role).keys.keys()];
  const entry = repo.root.roles.get(role);
  if (entry === undefined || entry === null) throw new InvalidRoleError(role, 'role not found in root file');
  const keep = (entry.keyids ?? []).filter((id) => !old.includes(id));
  entry.keyids = keep.length === 0 ? null : keep;
  markRoleDirty(repo, role);
  const unused = new Set(old);
  for (const [name, other] of repo.root.roles) {
    if (name === role) continue;
    for (const id of other?.keyids ?? []) unused.delete(id);
  }
  if (role !== 'root') {
    for (const id of unused) {
      repo.root.keys.delete(id);
      repo.retiredKeyIds.add(id);
    }
  }
  for (const k of keys) {
    const id = tufKeyId(k);
    repo.root.keys.set(id, k);
    entry.keyids = [...(entry.keyids ?? []), id];
  }
  repo.root.dirty = true;
}
