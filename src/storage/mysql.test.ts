import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshMysql, type FreshDatabase } from '../../test/storage/databases.ts';
import { ConfigError, StateError, StorageError } from '../errors/index.ts';
import { runKeyRecordStoreConformance, runMetaStoreConformance } from './conformance.ts';
import { MYSQL_MIGRATIONS } from './mysql-db.ts';
import { MysqlKeyRecordStore, MysqlMetaStore } from './mysql.ts';
import { runSharedDatabaseSuite } from './sql-concurrency.ts';

// One fresh database for this file, emptied before every test.
let db: FreshDatabase | undefined;
before(async () => {
  db = await freshMysql();
  await (await MysqlMetaStore.open(db.url)).close();
});
after(async () => {
  await db?.drop();
});
function database(): FreshDatabase {
  if (db === undefined) throw new Error('the test database was not created (see the error of the before hook)');
  return db;
}
async function empty(): Promise<string> {
  const d = database();
  for (const table of ['tuf_files', 'changefeed', 'private_keys']) await d.admin(`TRUNCATE TABLE ${table}`);
  return d.url;
}

runMetaStoreConformance('mysql', async () => MysqlMetaStore.open(await empty()));
runKeyRecordStoreConformance('mysql', async () => MysqlKeyRecordStore.open(await empty()));
runSharedDatabaseSuite('mysql', async () => {
  const url = await empty();
  return () => MysqlMetaStore.open(url);
});

const enc = new TextEncoder();

describe('MysqlMetaStore on a server', () => {
  it('instances starting at once on a new database apply each migration once', async () => {
    const fresh = await freshMysql();
    try {
      const opened = await Promise.allSettled([
        ...Array.from({ length: 4 }, () => MysqlMetaStore.open(fresh.url)),
        ...Array.from({ length: 4 }, () => MysqlKeyRecordStore.open(fresh.url)),
      ]);
      await Promise.all(opened.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
      for (const r of opened) if (r.status === 'rejected') throw r.reason;
      const recorded = await fresh.admin('SELECT version FROM vouch_schema_migrations ORDER BY version');
      assert.deepEqual(recorded.map((r) => Number(r['version'])), MYSQL_MIGRATIONS.map((m) => m.version));
      const store = await MysqlMetaStore.open(fresh.url);
      await store.updateMany('example.com/m/app', [{ role: 'root', version: 1, data: new Uint8Array([1]) }]);
      await store.close();
    } finally {
      await fresh.drop();
    }
  });

  it('refuses a schema newer than it knows', async () => {
    const url = database().url;
    await database().admin(`INSERT INTO vouch_schema_migrations (version, name, applied_at) VALUES (9999, 'future', 'now')`);
    try {
      await assert.rejects(MysqlMetaStore.open(url), (e: unknown) => e instanceof StorageError && /newer/.test(e.message));
    } finally {
      await database().admin('DELETE FROM vouch_schema_migrations WHERE version = 9999');
    }
  });

  it('GUNs and roles compare byte for byte: case and trailing spaces matter', async () => {
    const store = await MysqlMetaStore.open(await empty());
    const gun = 'example.com/Case/App';
    await store.updateMany(gun, [{ role: 'root', version: 1, data: enc.encode('a') }]);
    await store.updateMany(gun.toLowerCase(), [{ role: 'root', version: 1, data: enc.encode('b') }]);
    await store.updateMany(`${gun} `, [{ role: 'root', version: 1, data: enc.encode('c') }]);
    assert.equal(new TextDecoder().decode((await store.getCurrent(gun, 'root'))?.data), 'a');
    assert.equal(new TextDecoder().decode((await store.getCurrent(`${gun} `, 'root'))?.data), 'c');
    assert.equal(await store.getCurrent(gun, 'ROOT'), null);
    await store.delete(gun);
    assert.ok(await store.getCurrent(gun.toLowerCase(), 'root'));
    await store.close();
  });

  it('stores metadata larger than a BLOB (64 KiB)', async () => {
    const store = await MysqlMetaStore.open(await empty());
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    await store.updateMany('example.com/big/app', [{ role: 'targets', version: 1, data: big }]);
    assert.deepEqual((await store.getCurrent('example.com/big/app', 'targets'))?.data, big);
    await store.close();
  });

  it('close ends the pool; later calls throw StateError', async () => {
    const store = await MysqlMetaStore.open(database().url);
    await store.close();
    await store.close();
    await assert.rejects(store.getCurrent('g', 'root'), StateError);
  });

  it('an unreachable server is a StorageError naming it', async () => {
    await assert.rejects(
      MysqlMetaStore.open('vouch:secret@tcp(127.0.0.1:1)/none?parseTime=True&timeout=5s'),
      (e: unknown) => e instanceof StorageError && e.message.includes('mysql vouch@127.0.0.1:1/none') && !e.message.includes('secret'),
    );
  });

  it('a malformed db_url is a ConfigError', async () => {
    await assert.rejects(MysqlMetaStore.open('vouch@tcp(127.0.0.1:3306)'), ConfigError);
    await assert.rejects(MysqlMetaStore.open('vouch@tcp(127.0.0.1:3306/db'), ConfigError);
  });
});
