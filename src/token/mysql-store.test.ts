import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshMysql, type FreshDatabase } from '../../test/storage/databases.ts';
import { StateError, StorageError } from '../errors/index.ts';
import { MysqlMetaStore } from '../storage/index.ts';
import { MYSQL_TOKEN_MIGRATIONS, MysqlTokenStore } from './mysql-store.ts';
import { tokenStoreConformance } from './store-conformance.ts';

// One fresh database for this file (an unreachable server fails the hook, naming it), emptied before every test.
let db: FreshDatabase | undefined;
before(async () => {
  db = await freshMysql();
});
after(async () => {
  await db?.drop();
});
function database(): FreshDatabase {
  if (db === undefined) throw new Error('the MariaDB/MySQL test database was not created (see the error of the before hook)');
  return db;
}

async function empty(d: FreshDatabase): Promise<void> {
  for (const t of ['token_users', 'token_grants', 'token_namespaces', 'token_refresh_tokens']) await d.admin(`DELETE FROM ${t}`);
}

tokenStoreConformance('mysql', async () => {
  const d = database();
  const store = await MysqlTokenStore.open(d.url, { scryptLogN: 10 });
  await empty(d);
  return { store, close: () => store.close() };
});

describe('MysqlTokenStore on a server', () => {
  it('shares a database with the trust server; each side keeps its own migrations record', async () => {
    const fresh = await freshMysql();
    try {
      const [tokens, meta] = await Promise.all([MysqlTokenStore.open(fresh.url, { scryptLogN: 10 }), MysqlMetaStore.open(fresh.url)]);
      await tokens.addUser('alice', 'pw');
      await meta.updateMany('example.com/a/app', [{ role: 'root', version: 1, data: new Uint8Array([1]) }]);
      await Promise.all([tokens.close(), meta.close()]);
      const tables = (await fresh.admin("SELECT table_name AS tablename FROM information_schema.tables WHERE table_schema = DATABASE()")).map((r) => String(r['tablename']));
      for (const t of ['token_schema_migrations', 'token_users', 'vouch_schema_migrations', 'tuf_files']) assert.ok(tables.includes(t), `${t} in ${tables.join(',')}`);
      const again = await MysqlTokenStore.open(fresh.url, { scryptLogN: 10 });
      assert.equal((await again.verify('alice', 'pw')).name, 'alice');
      await again.close();
      await assert.rejects(again.getUser('alice'), StateError);
    } finally {
      await fresh.drop();
    }
  });

  it('instances starting at once apply each migration once, and see each other’s writes', async () => {
    const fresh = await freshMysql();
    try {
      const opened = await Promise.allSettled(Array.from({ length: 4 }, () => MysqlTokenStore.open(fresh.url, { scryptLogN: 10 })));
      const stores = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      try {
        for (const r of opened) if (r.status === 'rejected') throw r.reason;
        const [a, b] = stores as [MysqlTokenStore, MysqlTokenStore];
        await a.addUser('alice', 'pw', { admin: true });
        await Promise.all([a.grant('alice', 'alice'), b.grant('alice', 'alice'), b.grant('alice', 'team')]);
        assert.deepEqual(await b.grantsOf('alice'), ['alice', 'team']);
        const racing = await Promise.allSettled(stores.map((s) => s.addUser('bob', 'pw')));
        assert.equal(racing.filter((r) => r.status === 'fulfilled').length, 1, 'one of the racing adds wins');
        for (const r of racing) if (r.status === 'rejected') assert.ok(r.reason instanceof StateError, String(r.reason));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
      const recorded = await fresh.admin('SELECT version FROM token_schema_migrations ORDER BY version');
      assert.deepEqual(recorded.map((r) => Number(r['version'])), MYSQL_TOKEN_MIGRATIONS.map((m) => m.version));
    } finally {
      await fresh.drop();
    }
  });

  it('stores passwords only as scrypt hashes, and sorts names byte for byte', async () => {
    const d = database();
    const s = await MysqlTokenStore.open(d.url, { scryptLogN: 10 });
    try {
      await empty(d);
      await s.addUser('bob', 'plain-secret');
      await s.addUser('Zed', 'pw');
      await s.addUser('alice', 'pw');
      assert.deepEqual((await s.listUsers()).map((u) => u.name), ['Zed', 'alice', 'bob']);
      const [row] = await d.admin("SELECT password_hash FROM token_users WHERE name = 'bob'");
      assert.match(String(row?.['password_hash']), /^\$scrypt\$ln=10,/);
      assert.doesNotMatch(String(row?.['password_hash']), /plain-secret/);
    } finally {
      await s.close();
    }
  });

  it('refuses a token schema newer than it knows', async () => {
    const fresh = await freshMysql();
    try {
      await (await MysqlTokenStore.open(fresh.url, { scryptLogN: 10 })).close();
      await fresh.admin(`INSERT INTO token_schema_migrations (version, name, applied_at) VALUES (9999, 'future', 'now')`);
      await assert.rejects(MysqlTokenStore.open(fresh.url), (e: unknown) => e instanceof StorageError && /newer/.test(e.message));
    } finally {
      await fresh.drop();
    }
  });

  it('names the server when it cannot be reached', async () => {
    await assert.rejects(
      MysqlTokenStore.open('nobody:@tcp(127.0.0.1:1)/none?timeout=2s'),
      (e: unknown) => e instanceof StorageError && /127\.0\.0\.1:1/.test(e.message),
    );
  });
});
