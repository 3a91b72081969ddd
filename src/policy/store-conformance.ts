/**
 * What every `PolicySettingsStore` must do, as one suite each backend runs (memory here,
 * SQLite in src/serve): set replaces, get returns what was set (signers sorted, frozen), list is
 * sorted by namespace, remove forgets and is a no-op when absent, invalid namespaces are refused.
 *
 * Example (in a backend's test file):
 *   describePolicyStoreConformance('sqlite', () => new SqlitePolicyStore(file));
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNamespacePolicy, PolicySettingsError, type NamespacePolicy, type PolicySettingsStore } from './settings.ts';

export function describePolicyStoreConformance(name: string, open: () => Promise<PolicySettingsStore & { close?: () => void }> | (PolicySettingsStore & { close?: () => void })): void {
  describe(`PolicySettingsStore conformance: ${name}`, () => {
    it('set, get, replace, list sorted, remove', async () => {
      const store = await open();
      try {
        const team = parseNamespacePolicy('team', { enforce: true, pinned_root_key: 'a'.repeat(64), required_signers: ['bob', 'alice'] });
        await store.set(team);
        await store.set(parseNamespacePolicy('alpha/web', {}));
        const got = (await store.get('team')) as NamespacePolicy;
        assert.deepEqual({ ...got, requiredSigners: [...got.requiredSigners] }, { namespace: 'team', enforce: true, pinnedRootKey: 'a'.repeat(64), requiredSigners: ['alice', 'bob'] });
        assert.equal(await store.get('teams'), null);
        await store.set(parseNamespacePolicy('team', { enforce: false }));
        assert.deepEqual(await store.get('team'), { namespace: 'team', enforce: false, pinnedRootKey: null, requiredSigners: [] });
        assert.deepEqual((await store.list()).map((p) => p.namespace), ['alpha/web', 'team']);
        await store.remove('team');
        await store.remove('never-set');
        assert.equal(await store.get('team'), null);
        assert.deepEqual((await store.list()).map((p) => p.namespace), ['alpha/web']);
      } finally {
        store.close?.();
      }
    });

    it('refuses an invalid namespace', async () => {
      const store = await open();
      try {
        await assert.rejects(store.set({ namespace: 'Bad//ns', enforce: true, pinnedRootKey: null, requiredSigners: [] }), PolicySettingsError);
      } finally {
        store.close?.();
      }
    });
  });
}
