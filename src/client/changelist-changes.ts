/**
 * The changes notary's client API stages (spec §9.4 table, §11): each function checks its input
 * the way notary's `AddTarget`, `AddDelegationRoleAndKeys`, … do and returns the change records
 * to append to a changelist. Pure: nothing is written here.
 *
 * @example
 *   for (const c of targetAddChanges({ name: 'v1', length: 11, hashes }, ['targets/releases'])) await cl.add(c);
 *   await cl.add(delegationKeysChange('targets/releases', [aliceKey]));
 */
import type { TufKey } from '../crypto/types.ts';
import { StateError } from '../errors/index.ts';
import { InvalidRoleError, isDelegationName, parentRole } from '../tuf/index.ts';
import { ChangeAction, ChangeType, type Change } from './changelist.ts';
import { encodeDelegationData, encodeRootRoleData, encodeTargetData, type TargetInput } from './changelist-data.ts';

/** notary's MinThreshold: every delegation notary creates has threshold 1. */
export const MIN_THRESHOLD = 1;

/** notary's IsWildDelegation: `<targets or a delegation>/*`, path-clean. */
export function isWildDelegation(role: string): boolean {
  if (!role.endsWith('/*')) return false;
  const parent = parentRole(role);
  return parent === 'targets' || isDelegationName(parent);
}

/** A role targets can be staged for: `targets`, a delegation, or a wildcard delegation. */
function checkTargetsScope(role: string): void {
  if (role !== 'targets' && !isDelegationName(role) && !isWildDelegation(role)) {
    throw new InvalidRoleError(role, 'cannot add targets to this role');
  }
}

function forRoles(roles: readonly string[], make: (role: string) => Change): Change[] {
  const list = roles.length === 0 ? ['targets'] : roles;
  list.forEach(checkTargetsScope);
  return list.map(make);
}

export interface NamedTarget extends TargetInput {
  readonly name: string;
}

/**
 * `notary add` / `addhash`: one create change per role (default `targets`).
 * @throws StateError without hashes, InvalidRoleError for a role that cannot hold targets,
 *   DeserializationError for invalid custom JSON
 */
export function targetAddChanges(target: NamedTarget, roles: readonly string[] = []): Change[] {
  if (target.hashes.size === 0) throw new StateError(`no hashes specified for target "${target.name}"`);
  const data = encodeTargetData(target);
  return forRoles(roles, (scope) => ({ action: ChangeAction.Create, scope, type: ChangeType.Target, path: target.name, data }));
}

/** `notary remove`: one delete change per role (default `targets`). @throws InvalidRoleError */
export function targetRemoveChanges(name: string, roles: readonly string[] = []): Change[] {
  return forRoles(roles, (scope) => ({ action: ChangeAction.Delete, scope, type: ChangeType.Target, path: name, data: null }));
}

function requireDelegation(name: string): void {
  if (!isDelegationName(name)) throw new InvalidRoleError(name, 'invalid delegation role name');
}

function delegationChange(action: ChangeAction, scope: string, data: Uint8Array | null): Change {
  return { action, scope, type: ChangeType.Delegation, path: '', data };
}

/** Add keys to a delegation, creating it with threshold 1 (AddDelegationRoleAndKeys). @throws InvalidRoleError */
export function delegationKeysChange(name: string, keys: readonly TufKey[]): Change {
  requireDelegation(name);
  return delegationChange(ChangeAction.Create, name, encodeDelegationData({ threshold: MIN_THRESHOLD, addKeys: keys }));
}

/** Add paths to a delegation (AddDelegationPaths). @throws InvalidRoleError */
export function delegationPathsChange(name: string, paths: readonly string[]): Change {
  requireDelegation(name);
  return delegationChange(ChangeAction.Create, name, encodeDelegationData({ addPaths: paths }));
}

/** `delegation add`: a keys change when keys are given, then a paths change when paths are given. */
export function delegationAddChanges(name: string, keys: readonly TufKey[], paths: readonly string[]): Change[] {
  const out: Change[] = [];
  if (keys.length > 0) out.push(delegationKeysChange(name, keys));
  if (paths.length > 0) out.push(delegationPathsChange(name, paths));
  return out;
}

/** Remove paths from a delegation. @throws InvalidRoleError */
export function delegationRemovePathsChange(name: string, paths: readonly string[]): Change {
  requireDelegation(name);
  return delegationChange(ChangeAction.Update, name, encodeDelegationData({ removePaths: paths }));
}

/**
 * Remove keys (canonical IDs) from a delegation, or with `targets/*` (a wildcard) purge them from
 * every delegation below. @throws InvalidRoleError
 */
export function delegationRemoveKeysChange(name: string, keyIds: readonly string[]): Change {
  if (!isDelegationName(name) && !isWildDelegation(name)) throw new InvalidRoleError(name, 'invalid delegation role name');
  return delegationChange(ChangeAction.Update, name, encodeDelegationData({ removeKeys: keyIds }));
}

/** `delegation remove` with keys and/or paths: paths change first, then keys (RemoveDelegationKeysAndPaths). */
export function delegationRemoveChanges(name: string, keyIds: readonly string[], paths: readonly string[]): Change[] {
  const out: Change[] = [];
  if (paths.length > 0) out.push(delegationRemovePathsChange(name, paths));
  if (keyIds.length > 0) out.push(delegationRemoveKeysChange(name, keyIds));
  return out;
}

/** Remove every path of a delegation. @throws InvalidRoleError */
export function delegationClearPathsChange(name: string): Change {
  requireDelegation(name);
  return delegationChange(ChangeAction.Update, name, encodeDelegationData({ clearPaths: true }));
}

/** Delete a delegation (and its metadata) entirely. @throws InvalidRoleError */
export function delegationDeleteChange(name: string): Change {
  requireDelegation(name);
  return delegationChange(ChangeAction.Delete, name, null);
}

/** `delegation purge --key …`: remove the keys from all delegations (scope `targets/*`). */
export function delegationPurgeChange(keyIds: readonly string[]): Change {
  return delegationRemoveKeysChange('targets/*', keyIds);
}

/** `notary witness ROLE`: re-sign the role on the next publish. No check here, as in notary. */
export function witnessChange(role: string): Change {
  return { action: ChangeAction.Update, scope: role, type: ChangeType.Witness, path: '', data: null };
}

/** Replace the keys of a base role in root (key rotation; only ever in a MemoryChangelist). */
export function rootRoleChange(role: string, keys: readonly TufKey[]): Change {
  return { action: ChangeAction.Create, scope: 'root', type: ChangeType.BaseRole, path: role, data: encodeRootRoleData({ role, keys }) };
}
