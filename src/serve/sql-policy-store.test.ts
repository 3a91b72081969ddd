/**
 * The PostgreSQL and MySQL/MariaDB policy settings stores: the conformance suite every
 * `PolicySettingsStore` passes (memory and SQLite run it too), each run on a fresh database of
 * the machine's servers (test/storage/databases.ts), plus what only a shared database shows:
 * a setting written through one store (one instance) is read at once through another, and
 * several stores opening a fresh database together migrate it once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseNamespacePolicy } from '../policy/index.ts';
import { describePolicyStoreConformance } from '../policy/store-conformance.ts';
import { PostgresTokenStore } from '../token/index.ts';
import { freshMysql, freshPostgres, type FreshDatabase } from '../../test/storage/databases.ts';
import { MysqlPolicyStore, PostgresPolicyStore, type SqlPolicyStore } from './sql-policy-store.ts';

const backends: readonly { name: string; fresh: () => Promise<FreshDatabase>; open: (url: string) => Promise<SqlPolicyStore> }[] = [
  { name: 'postgres', fresh: freshPostgres, open: (url) => PostgresPolicyStore.open(url) },
  { name: 'mysql', fresh: freshMysql, open: (url) => MysqlPolicyStore.open(url) },
];

for (const b of backends) {
  describe(`${b.name} policy store`, () => {
    const dbs: FreshDatabase[] = [];
    after(async () => {
      for (const db of dbs) await db.drop();
    });
    const fresh = async (): Promise<FreshDatabase> => {
      const db = await b.fresh();
      dbs.push(db);
      return db;
    };

    describePolicyStoreConformance(b.name, async () => b.open((await fresh()).url));

    describe('on one shared database', () => {
      let db: FreshDatabase;
      let stores: SqlPolicyStore[] = [];
      before(async () => {
        db = await fresh();
        stores = await Promise.all([b.open(db.url), b.open(db.url), b.open(db.url)]);
      });
      after(async () => {
        for (const s of stores) await s.close();
      });

      it('opening together migrates once', async () => {
        assert.deepEqual(await db.admin('SELECT version, name FROM policy_schema_migrations'), [{ version: 1, name: 'per-namespace content-trust settings' }]);
      });

      it('a setting written through one store is read at once through another (no cache)', async () => {
        const [a, c] = [stores[0]!, stores[2]!];
        await a.set(parseNamespacePolicy('team', { enforce: true, required_signers: ['alice'] }));
        assert.deepEqual(await c.get('team'), { namespace: 'team', enforce: true, pinnedRootKey: null, requiredSigners: ['alice'] });
        await c.set(parseNamespacePolicy('team', { enforce: false }));
        assert.equal((await a.get('team'))?.enforce, false);
        await a.remove('team');
        assert.equal(await c.get('team'), null);
      });

      it('refuses use after close', async () => {
        const s = await b.open(db.url);
        await s.close();
        await assert.rejects(s.get('team'), /closed/);
      });
    });
  });
}

describe('postgres: the policy tables share the database with the token tables', () => {
  it('each keeps its own migrations', async () => {
    const db = await freshPostgres();
    try {
      const tokens = await PostgresTokenStore.open(db.url, { scryptLogN: 10 });
      const policies = await PostgresPolicyStore.open(db.url);
      await tokens.addUser('alice', 'secret-secret');
      await policies.set(parseNamespacePolicy('team', { enforce: true }));
      await tokens.close();
      await policies.close();
      const again = await PostgresPolicyStore.open(db.url);
      assert.equal((await again.get('team'))?.enforce, true);
      await again.close();
      const tables = (await db.admin(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).map((r) => r['tablename']);
      assert.ok(tables.includes('policy_schema_migrations') && tables.includes('token_schema_migrations') && tables.includes('token_users'), String(tables));
    } finally {
      await db.drop();
    }
  });
});
