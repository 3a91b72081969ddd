/**
 * `PolicySettingsStore` in memory: the reference backend (the SQLite store in src/serve passes
 * the same tests) and the store of tests.
 *
 * Example:
 *   const store = new MemoryPolicyStore();
 *   await store.set(parseNamespacePolicy('team', { enforce: true }));
 */
import { checkNamespace, type NamespacePolicy, type PolicySettingsStore } from './settings.ts';

export class MemoryPolicyStore implements PolicySettingsStore {
  readonly #byNamespace = new Map<string, NamespacePolicy>();

  async get(namespace: string): Promise<NamespacePolicy | null> {
    return this.#byNamespace.get(namespace) ?? null;
  }

  async set(policy: NamespacePolicy): Promise<void> {
    checkNamespace(policy.namespace);
    this.#byNamespace.set(policy.namespace, Object.freeze({ ...policy, requiredSigners: Object.freeze([...policy.requiredSigners]) }));
  }

  async remove(namespace: string): Promise<void> {
    this.#byNamespace.delete(namespace);
  }

  async list(): Promise<NamespacePolicy[]> {
    return [...this.#byNamespace.values()].sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  }
}
