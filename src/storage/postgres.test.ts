import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshPostgres, type FreshDatabase } from '../../test/storage/databases.ts';
import { ConfigError, StateError, StorageError } from '../errors/index.ts';
import { runKeyRecordStoreConformance, runMetaStoreConformance } from './conformance.ts';
import { POSTGRES_MIGRATIONS } from './postgres-db.ts';
import { PostgresKeyRecordStore, PostgresMetaStore } from './postgres.ts';
import { runSharedDatabaseSuite } from './sql-concurrency.ts';

// One fresh database for this file, emptied before every test.
let db: FreshDatabase | undefined;
before(async () => {
  db = await freshPostgres();
  await (await PostgresMetaStore.open(db.url)).close();
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
  await d.admin('TRUNCATE tuf_files, changefeed, private_keys RESTART IDENTITY');
  return d.url;
}

runMetaStoreConformance('postgres', async () => PostgresMetaStore.open(await empty()));
runKeyRecordStoreConformance('postgres', async () => PostgresKeyRecordStore.open(await empty()));
runSharedDatabaseSuite('postgres', async () => {
  const url = await empty();
  return () => PostgresMetaStore.open(url);
});

describe('PostgresMetaStore on a server', () => {
  it('instances starting at once on a new database apply each migration once', async () => {
    const fresh = await freshPostgres();
    try {
      const opened = await Promise.allSettled([
        ...Array.from({ length: 4 }, () => PostgresMetaStore.open(fresh.url)),
        ...Array.from({ length: 4 }, () => PostgresKeyRecordStore.open(fresh.url)),
      ]);
      await Promise.all(opened.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
      for (const r of opened) if (r.status === 'rejected') throw r.reason;
      const store = await PostgresMetaStore.open(fresh.url);
      await store.updateMany('example.com/m/app', [{ role: 'root', version: 1, data: new Uint8Array([1]) }]);
      await store.close();
      const recorded = await fresh.admin('SELECT version FROM vouch_schema_migrations ORDER BY version');
      assert.deepEqual(recorded.map((r) => Number(r['version'])), POSTGRES_MIGRATIONS.map((m) => m.version));
    } finally {
      await fresh.drop();
    }
  });

  it('refuses a schema newer than it knows', async () => {
    const url = database().url;
    await database().admin(`INSERT INTO vouch_schema_migrations (version, name, applied_at) VALUES (9999, 'future', 'now')`);
    try {
      await assert.rejects(PostgresMetaStore.open(url), (e: unknown) => e instanceof StorageError && /newer/.test(e.message));
    } finally {
      await database().admin('DELETE FROM vouch_schema_migrations WHERE version = 9999');
    }
  });

  it('adopts tables notary created: CHAR(64) sha256 reads back trimmed', async () => {
    const fresh = await freshPostgres();
    try {
      // notary's own layout (its migrations use serial ids, integer versions and CHAR(64) checksums).
      await fresh.admin(`CREATE TABLE tuf_files (id serial PRIMARY KEY, created_at timestamp NULL, updated_at timestamp NULL,
        deleted_at timestamp NULL, gun varchar(255) NOT NULL, role varchar(255) NOT NULL, version integer NOT NULL,
        data bytea NOT NULL, sha256 char(64) DEFAULT NULL, UNIQUE (gun, role, version));
        CREATE TABLE changefeed (id serial PRIMARY KEY, created_at timestamp DEFAULT CURRENT_TIMESTAMP,
        gun varchar(255) NOT NULL, version integer NOT NULL, sha256 CHAR(64) DEFAULT NULL, category VARCHAR(20) NOT NULL DEFAULT 'update');
        INSERT INTO tuf_files (created_at, updated_at, gun, role, version, data, sha256)
          VALUES ('2020-01-02 03:04:05', '2020-01-02 03:04:05', 'example.com/old/app', 'root', 3, '\\x7b7d', 'abc');`);
      const store = await PostgresMetaStore.open(fresh.url);
      const old = await store.getVersion('example.com/old/app', 'root', 3);
      assert.deepEqual(old?.createdAt, new Date('2020-01-02T03:04:05Z'));
      assert.deepEqual([...(old?.data ?? [])], [0x7b, 0x7d]);
      await store.updateMany('example.com/old/app', [{ role: 'timestamp', version: 1, data: new Uint8Array([1]) }]);
      await store.delete('example.com/old/app');
      const feed = await store.getChanges(0, 10);
      assert.deepEqual(feed.map((c) => [c.category, c.sha256.length]), [['update', 64], ['deletion', 0]]);
      await store.close();
    } finally {
      await fresh.drop();
    }
  });

  it('close ends the pool; later calls throw StateError', async () => {
    const store = await PostgresMetaStore.open(database().url);
    await store.close();
    await store.close();
    await assert.rejects(store.getCurrent('g', 'root'), StateError);
  });

  it('an unreachable server is a StorageError naming it', async () => {
    await assert.rejects(
      PostgresMetaStore.open('postgres://vouch@127.0.0.1:1/none?sslmode=disable&connect_timeout=5'),
      (e: unknown) => e instanceof StorageError && e.message.includes('postgres vouch@127.0.0.1:1/none') && !e.message.includes('password'),
    );
  });

  it('a malformed db_url is a ConfigError', async () => {
    await assert.rejects(PostgresMetaStore.open('postgres://u@h/db?sslmode=prefer'), ConfigError);
  });
});
