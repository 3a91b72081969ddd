import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StateError, StorageError } from '../errors/index.ts';
import { runKeyRecordStoreConformance, runMetaStoreConformance } from './conformance.ts';
import { MIGRATIONS } from './sqlite-db.ts';
import { SqliteKeyRecordStore, SqliteMetaStore } from './sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'vouch-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `t${++n}.db`);

runMetaStoreConformance('sqlite', () => new SqliteMetaStore(fresh()));
runKeyRecordStoreConformance('sqlite', () => new SqliteKeyRecordStore(fresh()));

const CHILD = fileURLToPath(new URL('./sqlite-crash-child.ts', import.meta.url));
const ROLES = ['root', 'targets', 'targets/a', 'targets/b', 'snapshot', 'timestamp'];
const enc = new TextEncoder();

/** Spawns the writer child; resolves with its stdout lines once it exits. */
function runChild(args: string[], killAfterLines?: number): Promise<{ lines: string[]; signal: string | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (killAfterLines !== undefined && out.split('\n').length > killAfterLines && child.exitCode === null) {
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`child failed (${code}): ${err}`));
      else resolve({ lines: out.split('\n').filter((l) => l !== ''), signal, code });
    });
  });
}

describe('SqliteMetaStore on disk', () => {
  it('keeps metadata and the changefeed across reopen', async () => {
    const path = fresh();
    const a = new SqliteMetaStore(path);
    await a.updateMany('example.com/re/app', [{ role: 'root', version: 1, data: enc.encode('r1') }, { role: 'timestamp', version: 1, data: enc.encode('t1') }]);
    await a.close();
    const b = new SqliteMetaStore(path);
    assert.deepEqual(new TextDecoder().decode((await b.getCurrent('example.com/re/app', 'root'))?.data), 'r1');
    assert.equal((await b.getChanges(0, 10)).length, 1);
    await b.updateMany('example.com/re/app', [{ role: 'timestamp', version: 2, data: enc.encode('t2') }]);
    const ids = (await b.getChanges(0, 10)).map((c) => Number(c.id));
    assert.ok(ids[1]! > ids[0]!, 'change ids keep increasing after reopen');
    await b.close();
  });

  it('records the schema version, uses WAL and full sync', async () => {
    const path = fresh();
    const store = new SqliteMetaStore(path);
    const db = new DatabaseSync(path);
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all().map((r) => r['version']);
    assert.deepEqual(versions, MIGRATIONS.map((m) => m.version));
    assert.equal(db.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal');
    db.close();
    await store.close();
    // Opening again does not re-run migrations.
    await new SqliteKeyRecordStore(path).close();
  });

  it('creates a new database 0600, with its -wal and -shm files; an existing file keeps its mode', async () => {
    const path = fresh();
    const store = new SqliteKeyRecordStore(path);
    await store.addKey({ keyId: 'k', gun: 'g', role: 'timestamp', algorithm: 'ecdsa', publicKey: new Uint8Array([1]), privateSealed: 'a.b.c.d.e', passphraseAlias: 'default', createdAt: new Date(0), lastUsed: null });
    for (const f of [path, `${path}-wal`, `${path}-shm`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    await store.close();
    const shared = fresh();
    writeFileSync(shared, '');
    chmodSync(shared, 0o640);
    await new SqliteMetaStore(shared).close();
    assert.equal(statSync(shared).mode & 0o777, 0o640);
  });

  it('refuses a schema newer than it knows', async () => {
    const path = fresh();
    await new SqliteMetaStore(path).close();
    const db = new DatabaseSync(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(9999, 'future', 0);
    db.close();
    assert.throws(() => new SqliteMetaStore(path), (e: unknown) => e instanceof StorageError && /newer/.test(e.message));
  });

  it('refuses use after close', async () => {
    const store = new SqliteMetaStore(fresh());
    await store.close();
    await store.close();
    await assert.rejects(store.getCurrent('g', 'root'), StateError);
  });

  it('a writer killed with SIGKILL mid-loop leaves whole batches only, every time', async () => {
    const path = fresh();
    const gun = 'example.com/crash/app';
    let reported = 0;
    for (const killAfter of [7, 12, 18, 25]) {
      const { lines, signal } = await runChild([path, gun], killAfter);
      assert.equal(signal, 'SIGKILL');
      assert.ok(lines.length >= killAfter);
      reported = Number(lines.at(-1));

      const db = new DatabaseSync(path);
      assert.equal(db.prepare('PRAGMA integrity_check').get()?.['integrity_check'], 'ok');
      const count = (role: string): number => Number(db.prepare('SELECT COUNT(*) AS c FROM tuf_files WHERE gun = ? AND role = ?').get(gun, role)?.['c']);
      const stored = count('root');
      // Every batch the child reported is there; at most the one in flight is extra.
      assert.ok(stored >= reported && stored <= reported + 1, `stored ${stored}, reported ${reported}`);
      for (const role of ROLES) {
        assert.equal(count(role), stored, `${role} has as many versions as root`);
        const max = Number(db.prepare('SELECT MAX(version) AS m FROM tuf_files WHERE gun = ? AND role = ?').get(gun, role)?.['m']);
        assert.equal(max, stored, `${role} versions are 1..${stored} with no gap`);
      }
      db.close();
      const store = new SqliteMetaStore(path);
      const changes = await store.getChanges(0, 100_000, gun);
      assert.deepEqual(changes.map((c) => c.version), Array.from({ length: stored }, (_, i) => i + 1));
      const top = await store.getCurrent(gun, 'snapshot');
      assert.ok(top);
      assert.equal(new TextDecoder().decode(top.data.subarray(0, `snapshot:${stored}:`.length)), `snapshot:${stored}:`);
      await store.close();
    }
    assert.ok(reported >= 7 + 12 + 18 + 25, 'each round resumed where the last stopped');
  });

  it('two processes writing the same GUN each version once, without lock errors', async () => {
    const path = fresh();
    const gun = 'example.com/race/app';
    await new SqliteMetaStore(path).close();
    const batches = 40;
    const [a, b] = await Promise.all([runChild([path, gun, String(batches)]), runChild([path, gun, String(batches)])]);
    const won = a.lines.length - 1 + (b.lines.length - 1);
    assert.equal(won, batches, 'every version was stored by exactly one writer');
    assert.match(a.lines.at(-1) ?? '', /^done/);
    assert.match(b.lines.at(-1) ?? '', /^done/);
    const store = new SqliteMetaStore(path);
    const changes = await store.getChanges(0, 1000, gun);
    assert.deepEqual(changes.map((c) => c.version), Array.from({ length: batches }, (_, i) => i + 1));
    await store.close();
  });
});
