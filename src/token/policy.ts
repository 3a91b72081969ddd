/**
 * Who gets which actions: the authorisation policy of the token service. Requested access is
 * cut down to what the subject may do; what is refused is simply left out, so a request never
 * fails for lack of rights (the docker token spec: "it is not the responsibility of the token
 * server to indicate authorization errors"). The resource server then answers 401
 * `insufficient_scope`.
 *
 * The rules, in full:
 * - `repository:<name>:…` where `<name>` is a repository path, optionally behind a registry
 *   host (names.ts `repositoryPath`); the known actions are `pull`, `push`, `delete` and `*`:
 *   - an admin gets every known action it asks for, `*` included;
 *   - a user gets `ownerActions` (default pull, push, delete) below each namespace granted to
 *     them (`grant(user, namespace)`);
 *   - anyone, anonymous included, gets `pull` below a namespace whose closest setting (the
 *     longest configured prefix of the path) has `anonymousPull: true`.
 * - `registry:catalog:*`: admins only.
 * - anything else (other types, unknown actions, invalid names): nothing.
 * A resource class (`repository(plugin):…`) is kept in the answer and does not change the rules.
 *
 * Example:
 *   const policy = new AccessPolicy(store, { registryHosts: ['registry.example.com'] });
 *   await policy.authorize(user, parseScopes(['repository:alice/app:pull,push']));
 */
import type { ResourceActions } from '../auth/index.ts';
import { namespaceCovers, repositoryPath } from './names.ts';
import type { NamespaceStore, User, UserStore } from './store.ts';

export const REPOSITORY_ACTIONS: readonly string[] = ['pull', 'push', 'delete', '*'];
export const DEFAULT_OWNER_ACTIONS: readonly string[] = ['pull', 'push', 'delete'];

export interface PolicyOptions {
  /**
   * Names (`host` or `host:port`) this registry is reached under. A requested name starting
   * with one of them, or with any `host:port`, means the repository path after it.
   */
  readonly registryHosts?: readonly string[];
  /** What a user may do below a namespace granted to them (default pull, push, delete). */
  readonly ownerActions?: readonly string[];
}

export class AccessPolicy {
  readonly #store: Pick<UserStore, 'grantsOf'> & Pick<NamespaceStore, 'getNamespace'>;
  readonly #hosts: readonly string[];
  readonly #ownerActions: readonly string[];

  constructor(store: Pick<UserStore, 'grantsOf'> & Pick<NamespaceStore, 'getNamespace'>, opts: PolicyOptions = {}) {
    this.#store = store;
    this.#hosts = opts.registryHosts ?? [];
    const owner = opts.ownerActions ?? DEFAULT_OWNER_ACTIONS;
    for (const a of owner) if (!REPOSITORY_ACTIONS.includes(a)) throw new RangeError(`unknown repository action ${JSON.stringify(a)}`);
    this.#ownerActions = owner;
  }

  /**
   * The part of `requested` that `subject` (null: anonymous) may have, in request order;
   * resources with no granted action are left out.
   */
  async authorize(subject: User | null, requested: readonly ResourceActions[]): Promise<ResourceActions[]> {
    const grants = subject === null || subject.admin ? [] : await this.#store.grantsOf(subject.name);
    const out: ResourceActions[] = [];
    for (const r of requested) {
      const allowed = await this.#allowed(subject, grants, r);
      const actions = r.actions.filter((a) => allowed.has(a));
      if (actions.length > 0) out.push({ type: r.type, class: r.class, name: r.name, actions });
    }
    return out;
  }

  async #allowed(subject: User | null, grants: readonly string[], r: ResourceActions): Promise<Set<string>> {
    if (r.type === 'registry') {
      return new Set(r.name === 'catalog' && subject?.admin === true ? ['*'] : []);
    }
    if (r.type !== 'repository') return new Set();
    const path = repositoryPath(r.name, this.#hosts);
    if (path === null) return new Set();
    if (subject?.admin === true) return new Set(REPOSITORY_ACTIONS);
    const allowed = new Set<string>();
    if (grants.some((ns) => namespaceCovers(ns, path))) for (const a of this.#ownerActions) allowed.add(a);
    if (!allowed.has('pull') && (await this.#anonymousPull(path))) allowed.add('pull');
    return allowed;
  }

  /** The closest setting wins: `team` on and `team/private` off keeps `team/private/x` closed. */
  async #anonymousPull(path: string): Promise<boolean> {
    const parts = path.split('/');
    for (let n = parts.length; n > 0; n--) {
      const s = await this.#store.getNamespace(parts.slice(0, n).join('/'));
      if (s !== null) return s.anonymousPull;
    }
    return false;
  }
}
