/**
 * What every `PolicySettingsStore` must do, as one suite each backend runs (memory here,
 * SQLite, PostgreSQL and MySQL/MariaDB in src/serve, each SQL run on a fresh database): set replaces, get returns what was set (signers sorted, frozen), list is
 * sorted by namespace, remove forgets and is a no-op when absent, invalid namespaces are refused.
 *
 * Concurrent writes: sets of one namespace leave exactly one of the written values, sets of
 * different namespaces all land.
 *
 * Example (in a backend's test file):
 *   describePolicyStoreConformance('sqlite', () => new SqlitePolicyStore(file));
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNamespacePolicy, PolicySettingsError, type NamespacePolicy, type PolicySettingsStore } from './settings.ts';

type Closable = PolicySettingsStore & { close?: () => void | Promise<void> };

export function describePolicyStoreConformance(name: string, open: () => Promise<Closable> | Closable): void {
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
        await store.close?.();
      }
    });

    it('concurrent sets: one namespace keeps one of the values, different namespaces all land', async () => {
      const store = await open();
      try {
        const signers = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
        await Promise.all(signers.map((s, i) => store.set(parseNamespacePolicy('race', { enforce: i % 2 === 0, required_signers: [s] }))));
        const got = (await store.get('race')) as NamespacePolicy;
        assert.equal(got.requiredSigners.length, 1);
        const i = signers.indexOf(got.requiredSigners[0] ?? '');
        assert.ok(i >= 0, 'a written value');
        assert.equal(got.enforce, i % 2 === 0, 'enforce and signers from the same write');
        await Promise.all(signers.map((s) => store.set(parseNamespacePolicy(`race/${s}`, { enforce: true }))));
        assert.deepEqual((await store.list()).map((p) => p.namespace), ['race', ...signers.map((s) => `race/${s}`)]);
      } finally {
        await store.close?.();
      }
    });

    it('refuses an invalid namespace', async () => {
      const store = await open();
      try {
        await assert.rejects(store.set({ namespace: 'Bad//ns', enforce: true, pinnedRootKey: null, requiredSigners: [] }), PolicySettingsError);
      } finally {
        await store.close?.();
      }
    });
  });
}
