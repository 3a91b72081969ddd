import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { StateError, StorageError } from '../errors/index.ts';
import { SqliteMetaStore } from '../storage/index.ts';
import { SqliteTokenStore } from './sqlite-store.ts';
import { tokenStoreConformance } from './store-conformance.ts';

async function tempDb(): Promise<{ file: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-token-store-'));
  return { file: join(dir, 'token.db'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

tokenStoreConformance('sqlite', async () => {
  const { file, cleanup } = await tempDb();
  const store = new SqliteTokenStore(file, { scryptLogN: 10 });
  return {
    store,
    close: async () => {
      store.close();
      await cleanup();
    },
  };
});

test('sqlite: data survives reopening, and a second connection sees writes', async () => {
  const { file, cleanup } = await tempDb();
  try {
    const a = new SqliteTokenStore(file, { scryptLogN: 10 });
    const b = new SqliteTokenStore(file, { scryptLogN: 10 });
    await a.addUser('alice', 'pw', { admin: true });
    await a.grant('alice', 'alice');
    await a.setAnonymousPull('library', true);
    assert.equal((await b.verify('alice', 'pw')).admin, true);
    a.close();
    b.close();
    const c = new SqliteTokenStore(file, { scryptLogN: 10 });
    assert.deepEqual(await c.grantsOf('alice'), ['alice']);
    assert.deepEqual(await c.listNamespaces(), [{ namespace: 'library', anonymousPull: true }]);
    c.close();
    await assert.rejects(c.getUser('alice'), StateError);
  } finally {
    await cleanup();
  }
});

test('sqlite: shares one database file with the trust server tables', async () => {
  const { file, cleanup } = await tempDb();
  try {
    const meta = new SqliteMetaStore(file);
    const tokens = new SqliteTokenStore(file, { scryptLogN: 10 });
    await tokens.addUser('alice', 'pw');
    await meta.close();
    tokens.close();
    const again = new SqliteMetaStore(file);
    await again.close();
    const db = new DatabaseSync(file);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => r['name']);
    db.close();
    for (const t of ['schema_migrations', 'token_schema_migrations', 'token_users', 'tuf_files']) assert.ok(tables.includes(t), `${t} in ${tables.join(',')}`);
  } finally {
    await cleanup();
  }
});

test('sqlite: passwords are stored only as scrypt hashes', async () => {
  const { file, cleanup } = await tempDb();
  try {
    const s = new SqliteTokenStore(file, { scryptLogN: 10 });
    await s.addUser('alice', 'plain-secret');
    s.close();
    const db = new DatabaseSync(file);
    const row = db.prepare('SELECT password_hash FROM token_users').get();
    db.close();
    assert.match(String(row?.['password_hash']), /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.doesNotMatch(String(row?.['password_hash']), /plain-secret/);
  } finally {
    await cleanup();
  }
});

test('sqlite: a newer token schema is refused', async () => {
  const { file, cleanup } = await tempDb();
  try {
    new SqliteTokenStore(file, { scryptLogN: 10 }).close();
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO token_schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('future');
    db.close();
    assert.throws(() => new SqliteTokenStore(file), (e: unknown) => e instanceof StorageError && /newer/.test(e.message));
  } finally {
    await cleanup();
  }
});
