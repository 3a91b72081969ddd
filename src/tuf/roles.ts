/**
 * Role names of notary's TUF dialect (spec §4.3, §5 role names in URLs) and GUN checks.
 *
 * Delegation names are `targets/` + `[-a-z0-9_/]+`, shorter than 256 bytes, and path-clean
 * (no `.`/`..` segments, no `//`, no trailing `/`). Pure string functions, no I/O.
 *
 * @example
 *   isValidRoleName('targets/releases') // true
 *   parentRole('targets/a/b')            // 'targets/a'
 */

export const TopLevelRole = { Root: 'root', Targets: 'targets', Snapshot: 'snapshot', Timestamp: 'timestamp' } as const;
export type TopLevelRole = (typeof TopLevelRole)[keyof typeof TopLevelRole];

export const BASE_ROLES: readonly TopLevelRole[] = ['root', 'targets', 'snapshot', 'timestamp'];

/** The `_type` each role's `signed` object must carry; delegations are `Targets`. */
export const TUF_TYPES = { root: 'Root', targets: 'Targets', snapshot: 'Snapshot', timestamp: 'Timestamp' } as const;

const DELEGATION_CHARS = /^[-a-z0-9_/]+$/;

export function isBaseRole(name: string): name is TopLevelRole {
  return name === 'root' || name === 'targets' || name === 'snapshot' || name === 'timestamp';
}

/** Go's path.Clean(p) === p for the slash-separated, relative names we accept. */
function isCleanPath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.endsWith('/')) return false;
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return false;
  }
  return true;
}

/** notary's IsDelegation: `targets/<…>` with allowed characters, < 256 bytes, clean. */
export function isDelegationName(name: string): boolean {
  return name.startsWith('targets/') && DELEGATION_CHARS.test(name) && name.length < 256 && isCleanPath(name);
}

/** notary's ValidRole: a base role or a valid delegation name. Used for role names in URLs and uploads. */
export function isValidRoleName(name: string): boolean {
  return isBaseRole(name) || isDelegationName(name);
}

/** `targets` or a delegation: roles whose metadata has `_type` `Targets`. */
export function isTargetsRole(name: string): boolean {
  return name === 'targets' || isDelegationName(name);
}

/** Go's path.Dir for role names: `targets/a/b` → `targets/a`, `targets` → `.`. */
export function parentRole(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? '.' : name.slice(0, i);
}

/** True when `child` is a direct child of `parent` (`targets/a` → `targets/a/x`). */
export function isDirectChild(parent: string, child: string): boolean {
  return parentRole(child) === parent;
}

/** The expected `_type` for a role name, or undefined when the name is not a valid role. */
export function expectedType(role: string): string | undefined {
  if (isBaseRole(role)) return TUF_TYPES[role];
  return isDelegationName(role) ? 'Targets' : undefined;
}

/**
 * notary's RoleList order: fewer `/`-separated segments first, equal depth by byte order.
 * Used to process uploaded targets roles shallowest first (spec §6.2 step 3).
 */
export function compareRoleDepth(a: string, b: string): number {
  const da = a.split('/').length;
  const db = b.split('/').length;
  if (da !== db) return da - db;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * GUNs the server accepts in URLs: non-empty and without `*` (the route pattern is `[^*]+`).
 * Prefix restrictions (`repositories.gun_prefixes`) are checked with `gunHasAllowedPrefix`.
 */
export function isValidGun(gun: string): boolean {
  return gun.length > 0 && !gun.includes('*');
}

/** True when no prefixes are configured or the GUN starts with one of them. */
export function gunHasAllowedPrefix(gun: string, prefixes: readonly string[]): boolean {
  return prefixes.length === 0 || prefixes.some((p) => gun.startsWith(p));
}
