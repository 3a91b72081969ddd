/**
 * Small read-side helpers the notary commands need that the client library does not offer yet
 * (owned by the CLI; candidates for src/client proper):
 *
 * - `delegationRoles`: notary's GetDelegationRoles — every delegation listed by any loaded
 *   targets role, found by a full walk, with key IDs translated to canonical IDs (what
 *   `notary key list` shows and `delegation remove` takes).
 *
 * @example
 *   for (const r of delegationRoles(repo)) console.log(r.name, r.keyIds, r.paths);
 */
import { canonicalKeyId } from '../crypto/index.ts';
import type { TrustedRepo } from './types.ts';
import { walkTargets } from './walk.ts';

export interface DelegationRoleInfo {
  readonly name: string;
  /** Canonical key IDs, in the listed order. */
  readonly keyIds: readonly string[];
  readonly paths: readonly string[];
  readonly threshold: number;
}

/**
 * The delegations of every loaded role, parents before children (walk order).
 * @throws Error when a listed key ID has no key in the delegating role (notary's translation fails too)
 */
export function delegationRoles(repo: TrustedRepo): DelegationRoleInfo[] {
  const out: DelegationRoleInfo[] = [];
  walkTargets(repo, '', '', (meta) => {
    const { keys, roles } = meta.signed.delegations;
    for (const role of roles) {
      const keyIds = (role.keyids ?? []).map((id) => {
        const key = keys.get(id);
        if (key === undefined) throw new Error(`Could not translate canonical key IDs for ${role.name}`);
        return canonicalKeyId(key);
      });
      out.push({ name: role.name, keyIds, paths: [...role.paths], threshold: role.threshold });
    }
    return undefined;
  });
  return out;
}
