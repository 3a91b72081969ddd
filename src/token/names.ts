/**
 * Names the token service reasons about: user names, namespaces, and the repository path a
 * requested resource name stands for.
 *
 * - A user name is 1–64 characters of `[A-Za-z0-9._@-]`, starting with a letter or digit. It
 *   can never contain `:` (the Basic-auth separator) or whitespace.
 * - A namespace is a repository-name prefix: one or more `/`-separated components of the
 *   distribution grammar `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`. `alice` covers `alice/app` and
 *   `alice/tools/cli`; `team/web` covers only what lies below `team/web`.
 * - A requested name is a registry repository (`alice/app`) or a trust GUN, which docker
 *   prefixes with the registry host (`registry.example:5000/alice/app`). Both mean the same
 *   repository here: a first component that holds a `:` (never legal in a repository component,
 *   so always a host:port) or is one of the configured registry hosts is dropped before the
 *   policy looks at the path.
 *
 * Example:
 *   repositoryPath('127.0.0.1:5000/alice/app', []); // 'alice/app'
 *   namespaceCovers('alice', 'alice/app');           // true
 */

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Longest repository name distribution accepts. */
const MAX_REPOSITORY_LENGTH = 255;

export function isValidUserName(name: string): boolean {
  return USER_NAME.test(name);
}

/** True for `alice`, `team/web`; false for `Alice`, `a//b`, `_trust`, ``. */
export function isValidNamespace(ns: string): boolean {
  return ns.length > 0 && ns.length <= MAX_REPOSITORY_LENGTH && ns.split('/').every((c) => COMPONENT.test(c));
}

/** @throws RangeError when `name` is not a valid user name */
export function checkUserName(name: string): void {
  if (!isValidUserName(name)) throw new RangeError(`invalid user name ${JSON.stringify(name)}: 1-64 of A-Z a-z 0-9 . _ @ -, starting with a letter or digit`);
}

/** @throws RangeError when `ns` is not a valid namespace */
export function checkNamespace(ns: string): void {
  if (!isValidNamespace(ns)) throw new RangeError(`invalid namespace ${JSON.stringify(ns)}: lowercase repository path components separated by /`);
}

/**
 * The repository path of a requested resource name, or null when it names no valid repository.
 * `registryHosts` are compared case-insensitively.
 */
export function repositoryPath(name: string, registryHosts: readonly string[]): string | null {
  const slash = name.indexOf('/');
  let path = name;
  if (slash > 0) {
    const first = name.slice(0, slash);
    if (first.includes(':') || registryHosts.some((h) => h.toLowerCase() === first.toLowerCase())) path = name.slice(slash + 1);
  }
  return isValidNamespace(path) ? path : null;
}

/** True when namespace `ns` is `path` itself or a whole-component prefix of it. */
export function namespaceCovers(ns: string, path: string): boolean {
  return path === ns || path.startsWith(`${ns}/`);
}
