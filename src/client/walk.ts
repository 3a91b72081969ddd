/**
 * Resolving targets in a verified repository (spec §10.3, notary's WalkTargets, ListTargets and
 * GetTargetByName, and docker's `targets/releases` then `targets` rule). Pure functions over a
 * `TrustedRepo`: no I/O, no clock.
 *
 * - Delegation paths are *effective*: a child keeps only those of its paths that have one of its
 *   parent's effective paths as a prefix (`targets` has `[""]`); a child left with none matches
 *   nothing. Children must be direct children of the role that lists them and have all their
 *   keys listed (else they are ignored, as notary's GetValidDelegations does).
 * - The walk is breadth-first from `targets`. Roles above the requested role are crossed without
 *   being visited; a role is visited when it is the requested role or below it, the target name
 *   (if any) starts with one of its effective paths, and it is not one of the `skip` roles (whose
 *   subtrees are then skipped too).
 * - `getTargetByName(repo, name, roles)`: for each role in order, walk from it with the other
 *   listed roles skipped; the first role holding the name wins. `listTargets(repo, roles)`: the
 *   union, the first role listing a name wins. The default role list is `["targets"]`.
 *
 * @example
 *   const t = getTargetByName(repo, 'v1', ['targets/releases', 'targets']);
 *   const all = listTargets(repo);
 */
import { NotFoundError } from '../errors/index.ts';
import type { FileMeta, Metadata, Targets } from '../tuf/index.ts';
import { parentRole } from '../tuf/index.ts';
import type { ResolvedTarget, TrustedRepo } from './types.ts';

/** A role as the walk sees it: its name and effective path prefixes. */
export interface WalkRole {
  readonly name: string;
  readonly paths: readonly string[];
}

/** `targets` as the root of every walk. */
export const TARGETS_WALK_ROOT: WalkRole = { name: 'targets', paths: [''] };

/** docker's roles for pulls and `trust inspect`, highest priority first. */
export const DOCKER_TARGET_ROLES: readonly string[] = ['targets/releases', 'targets'];

/** `No valid trust data for <name>` (notary's ErrNoSuchTarget). */
export class NoSuchTargetError extends NotFoundError {
  readonly target: string;
  constructor(name: string) {
    super(`No valid trust data for ${name}`);
    this.target = name;
  }
}

/** Paths of `child` that have a parent path as prefix (notary's RestrictDelegationPathPrefixes). */
export function restrictPaths(parentPaths: readonly string[], childPaths: readonly string[]): string[] {
  return childPaths.filter((p) => parentPaths.some((pp) => p.startsWith(pp)));
}

/** True when `target` starts with one of the role's effective paths. */
export function matchesPaths(role: WalkRole, target: string): boolean {
  for (const p of role.paths) if (target.startsWith(p)) return true;
  return false;
}

/**
 * The delegations listed in `parentMeta` that the walk may descend into, in listed order, with
 * effective paths (notary's GetValidDelegations).
 */
export function validDelegations(parentMeta: Targets, parent: WalkRole): WalkRole[] {
  const out: WalkRole[] = [];
  for (const spec of parentMeta.delegations.roles) {
    if (parentRole(spec.name) !== parent.name) continue;
    if ((spec.keyids ?? []).some((id) => !parentMeta.delegations.keys.has(id))) continue;
    out.push({ name: spec.name, paths: restrictPaths(parent.paths, spec.paths) });
  }
  return out;
}

/** What a visitor returns: `'stop'` ends the walk, anything else continues into the children. */
export type WalkVisitor = (meta: Metadata<Targets>, role: WalkRole) => 'stop' | void;

function isAncestorOrSelf(role: string, requested: string): boolean {
  return requested === '' || role === requested || role.startsWith(requested + '/');
}

/**
 * notary's WalkTargets over the loaded roles of `repo`.
 * @param targetPath '' for any target
 * @param rolePath the role whose subtree is visited ('' or 'targets' for all)
 */
export function walkTargets(repo: TrustedRepo, targetPath: string, rolePath: string, visit: WalkVisitor, skip: readonly string[] = []): void {
  const queue: WalkRole[] = [TARGETS_WALK_ROOT];
  while (queue.length > 0) {
    const role = queue.shift() as WalkRole;
    const meta = repo.targets.get(role.name);
    if (meta === undefined) continue;
    if (rolePath.startsWith(role.name + '/')) {
      queue.push(...validDelegations(meta.signed, role));
      continue;
    }
    const visitable = (targetPath === '' || matchesPaths(role, targetPath)) && isAncestorOrSelf(role.name, rolePath) && !skip.includes(role.name);
    if (!visitable) continue;
    if (visit(meta, role) === 'stop') return;
    queue.push(...validDelegations(meta.signed, role));
  }
}

function resolved(name: string, meta: FileMeta, role: string): ResolvedTarget {
  // the digests are shared with the verified metadata: both are read-only
  return meta.custom === undefined ? { name, length: meta.length, hashes: meta.hashes, role } : { name, length: meta.length, hashes: meta.hashes, role, custom: meta.custom };
}

/**
 * Every target visible from `roles` (default `["targets"]`), first role wins per name; sorted by
 * name.
 */
export function listTargets(repo: TrustedRepo, roles: readonly string[] = ['targets']): ResolvedTarget[] {
  const found = new Map<string, ResolvedTarget>();
  const list = roles.length === 0 ? ['targets'] : roles;
  for (const role of list) {
    const skip = list.filter((r) => r !== role);
    walkTargets(
      repo,
      '',
      role,
      (meta, walkRole) => {
        for (const [name, fm] of meta.signed.targets) {
          if (found.has(name) || !matchesPaths(walkRole, name)) continue;
          found.set(name, resolved(name, fm, walkRole.name));
        }
      },
      skip,
    );
  }
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The target `name` from the highest-priority role (default `["targets"]`) whose subtree has it.
 * @throws NoSuchTargetError
 */
export function getTargetByName(repo: TrustedRepo, name: string, roles: readonly string[] = ['targets']): ResolvedTarget {
  const list = roles.length === 0 ? ['targets'] : roles;
  for (const role of list) {
    const skip = list.filter((r) => r !== role);
    let hit: ResolvedTarget | undefined;
    walkTargets(
      repo,
      name,
      role,
      (meta, walkRole) => {
        const fm = meta.signed.targets.get(name);
        if (fm === undefined) return undefined;
        hit = resolved(name, fm, walkRole.name);
        return 'stop';
      },
      skip,
    );
    if (hit !== undefined) return hit;
  }
  throw new NoSuchTargetError(name);
}

/**
 * docker's trusted tag lookup: `targets/releases` first, then `targets`; a hit from any other
 * role is refused (spec §10.3).
 * @throws NoSuchTargetError
 */
export function getDockerTarget(repo: TrustedRepo, tag: string): ResolvedTarget {
  const t = getTargetByName(repo, tag, DOCKER_TARGET_ROLES);
  if (!DOCKER_TARGET_ROLES.includes(t.role)) throw new NoSuchTargetError(tag);
  return t;
}

/** docker's untagged listing: `targets/releases` then `targets`, only those two roles kept. */
export function listDockerTargets(repo: TrustedRepo): ResolvedTarget[] {
  return listTargets(repo, DOCKER_TARGET_ROLES).filter((t) => DOCKER_TARGET_ROLES.includes(t.role));
}

/** docker's digest for a target: `sha256:` + hex of `hashes.sha256`, undefined without one. */
export function dockerDigest(t: ResolvedTarget): string | undefined {
  const h = t.hashes.get('sha256');
  return h === undefined ? undefined : 'sha256:' + Buffer.from(h).toString('hex');
}
