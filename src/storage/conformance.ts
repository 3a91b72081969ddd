/**
 * The storage conformance suites (STYLE.md §1.4): every backend runs them, in three lines:
 *
 *   import { runMetaStoreConformance, runKeyRecordStoreConformance } from './conformance.ts';
 *   runMetaStoreConformance('memory', () => new MemoryMetaStore());
 *   runKeyRecordStoreConformance('memory', () => new MemoryKeyRecordStore());
 *
 * Each test asks the factory for a fresh, empty store and closes it afterwards. The suites
 * assume nothing about a backend beyond the contracts in types.ts: change ids are compared
 * only with each other, and `createdAt` is checked against the wall clock with one second of
 * slack for servers that store coarser times.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { StorageError, VersionConflictError } from '../errors/index.ts';
import type { Change, KeyRecord, KeyRecordStore, MetaStore, MetaUpdate } from './types.ts';

export type Factory<T> = () => T | Promise<T>;

const GUN = 'example.com/conf/app';
const enc = new TextEncoder();
const dec = new TextDecoder();

function meta(role: string, version: number, gun = GUN): MetaUpdate {
  return { role, version, data: enc.encode(`{"gun":"${gun}","role":"${role}","version":${version}}`) };
}
function hex(u: MetaUpdate): string {
  return createHash('sha256').update(u.data).digest('hex');
}
function assertRecent(d: Date, before: number, after: number): void {
  assert.ok(d instanceof Date, 'createdAt is a Date');
  assert.ok(d.getTime() >= before - 1000 && d.getTime() <= after + 1000, `createdAt ${d.toISOString()} is near now`);
}

async function withStore<T extends { close(): Promise<void> }>(factory: Factory<T>, fn: (s: T) => Promise<void>): Promise<void> {
  const store = await factory();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/** Runs every MetaStore contract of types.ts against stores from `factory`. */
export function runMetaStoreConformance(name: string, factory: Factory<MetaStore>): void {
  const test = (title: string, fn: (s: MetaStore) => Promise<void>) => it(title, () => withStore(factory, fn));
  const text = async (p: Promise<{ data: Uint8Array } | null>): Promise<string | null> => {
    const m = await p;
    return m === null ? null : dec.decode(m.data);
  };
  const all = (s: MetaStore, gun?: string): Promise<Change[]> => s.getChanges(0, 10_000, gun);

  describe(`MetaStore conformance: ${name}`, () => {
    test('an empty store has nothing', async (s) => {
      assert.equal(await s.getCurrent(GUN, 'root'), null);
      assert.equal(await s.getVersion(GUN, 'root', 1), null);
      assert.equal(await s.getChecksum(GUN, 'root', hex(meta('root', 1))), null);
      assert.deepEqual(await all(s), []);
      await s.check();
    });

    test('stores exact bytes and serves the highest version as current, with createdAt', async (s) => {
      const before = Date.now();
      const data = Uint8Array.from([0, 255, 10, 13, 123, 34, 0]);
      await s.updateMany(GUN, [{ role: 'root', version: 1, data }, meta('targets', 1)]);
      await s.updateMany(GUN, [meta('root', 2)]);
      const after = Date.now();
      assert.equal(await text(s.getCurrent(GUN, 'root')), dec.decode(meta('root', 2).data));
      const v1 = await s.getVersion(GUN, 'root', 1);
      assert.ok(v1);
      assert.deepEqual(new Uint8Array(v1.data), data);
      assertRecent(v1.createdAt, before, after);
      const cur = await s.getCurrent(GUN, 'targets');
      assert.ok(cur);
      assertRecent(cur.createdAt, before, after);
    });

    test('returned bytes are copies: mutating them does not change the store', async (s) => {
      const u = meta('root', 1);
      await s.updateMany(GUN, [u]);
      u.data.fill(0);
      const got = await s.getCurrent(GUN, 'root');
      assert.ok(got);
      got.data.fill(1);
      assert.equal(await text(s.getCurrent(GUN, 'root')), dec.decode(meta('root', 1).data));
    });

    test('a view into a larger buffer is stored and checksummed as just its bytes', async (s) => {
      const whole = enc.encode('xx{"signed":{}}yy');
      const view = whole.subarray(2, whole.length - 2);
      await s.updateMany(GUN, [{ role: 'targets', version: 1, data: view }]);
      assert.equal(await text(s.getCurrent(GUN, 'targets')), '{"signed":{}}');
      const sum = createHash('sha256').update('{"signed":{}}').digest('hex');
      assert.equal(await text(s.getChecksum(GUN, 'targets', sum)), '{"signed":{}}');
    });

    test('version rule: equal or lower versions conflict, skipping versions is allowed', async (s) => {
      await s.updateMany(GUN, [meta('root', 2)]);
      await assert.rejects(s.updateMany(GUN, [meta('root', 2)]), VersionConflictError);
      await assert.rejects(s.updateMany(GUN, [meta('root', 1)]), VersionConflictError);
      await s.updateMany(GUN, [meta('root', 10)]);
      assert.equal(await text(s.getCurrent(GUN, 'root')), dec.decode(meta('root', 10).data));
      assert.equal(await s.getVersion(GUN, 'root', 1), null);
    });

    test('version rule: a version below the highest but never stored still conflicts', async (s) => {
      await s.updateMany(GUN, [meta('targets', 2), meta('targets', 5)]);
      await assert.rejects(s.updateMany(GUN, [meta('targets', 3)]), VersionConflictError);
      assert.equal(await s.getVersion(GUN, 'targets', 3), null);
    });

    test('versions are per role and per GUN', async (s) => {
      await s.updateMany(GUN, [meta('root', 1), meta('targets', 1), meta('targets/a', 1)]);
      await s.updateMany('example.com/conf/other', [meta('root', 1, 'example.com/conf/other')]);
      await s.updateMany(GUN, [meta('snapshot', 1)]);
      assert.equal(await text(s.getCurrent('example.com/conf/other', 'root')), dec.decode(meta('root', 1, 'example.com/conf/other').data));
      assert.equal(await text(s.getCurrent(GUN, 'targets/a')), dec.decode(meta('targets/a', 1).data));
    });

    test('atomicity: a batch with one stale version stores nothing and logs nothing', async (s) => {
      await s.updateMany(GUN, [meta('root', 1), meta('targets', 3), meta('timestamp', 1)]);
      const changes = await all(s);
      const batch = [meta('root', 2), meta('timestamp', 2), meta('snapshot', 1), meta('targets', 3)];
      await assert.rejects(s.updateMany(GUN, batch), VersionConflictError);
      assert.equal(await s.getVersion(GUN, 'root', 2), null);
      assert.equal(await s.getVersion(GUN, 'timestamp', 2), null);
      assert.equal(await s.getCurrent(GUN, 'snapshot'), null);
      assert.deepEqual(await all(s), changes);
      // The same batch with a good targets version goes through afterwards.
      await s.updateMany(GUN, [meta('root', 2), meta('timestamp', 2), meta('snapshot', 1), meta('targets', 4)]);
      assert.equal(await text(s.getCurrent(GUN, 'targets')), dec.decode(meta('targets', 4).data));
    });

    test('atomicity: a version repeated for one role within a batch conflicts and stores nothing', async (s) => {
      await assert.rejects(s.updateMany(GUN, [meta('root', 1), meta('targets', 2), meta('targets', 2)]), VersionConflictError);
      assert.equal(await s.getCurrent(GUN, 'root'), null);
      assert.equal(await s.getCurrent(GUN, 'targets'), null);
    });

    test('several versions of one role in one batch are all stored', async (s) => {
      await s.updateMany(GUN, [meta('root', 1)]);
      await s.updateMany(GUN, [meta('root', 3), meta('root', 2), meta('timestamp', 1), meta('timestamp', 2)]);
      assert.equal(await text(s.getCurrent(GUN, 'root')), dec.decode(meta('root', 3).data));
      assert.equal(await text(s.getVersion(GUN, 'root', 2)), dec.decode(meta('root', 2).data));
      const ts = (await all(s)).map((c) => c.version);
      assert.deepEqual(ts, [1, 2]);
    });

    test('an empty batch is accepted and changes nothing', async (s) => {
      await s.updateMany(GUN, []);
      assert.equal(await s.getCurrent(GUN, 'root'), null);
      assert.deepEqual(await all(s), []);
    });

    test('getChecksum finds the version with those bytes, only for that role and GUN', async (s) => {
      const r1 = meta('root', 1);
      const r2 = meta('root', 2);
      await s.updateMany(GUN, [r1, meta('targets', 1)]);
      await s.updateMany(GUN, [r2]);
      await s.updateMany('example.com/conf/app2', [meta('root', 1, 'example.com/conf/app2')]);
      assert.equal(await text(s.getChecksum(GUN, 'root', hex(r1))), dec.decode(r1.data));
      assert.equal(await text(s.getChecksum(GUN, 'root', hex(r2))), dec.decode(r2.data));
      const got = await s.getChecksum(GUN, 'root', hex(r1));
      assert.ok(got);
      assertRecent(got.createdAt, Date.now() - 60_000, Date.now());
      // Role mismatch (notary's memory store bug, §13.6) and foreign GUNs find nothing.
      assert.equal(await s.getChecksum(GUN, 'targets', hex(r1)), null);
      assert.equal(await s.getChecksum('example.com/conf', 'root', hex(r1)), null);
      assert.equal(await s.getChecksum(GUN, 'root', hex(meta('root', 1, 'example.com/conf/app2'))), null);
      assert.equal(await s.getChecksum(GUN, 'root', '0'.repeat(64)), null);
    });

    test('getVersion is exact about role, version and GUN', async (s) => {
      await s.updateMany(GUN, [meta('root', 1), meta('targets', 2)]);
      assert.equal(await text(s.getVersion(GUN, 'targets', 2)), dec.decode(meta('targets', 2).data));
      assert.equal(await s.getVersion(GUN, 'targets', 1), null);
      assert.equal(await s.getVersion(GUN, 'root', 2), null);
      assert.equal(await s.getVersion(`${GUN}2`, 'root', 1), null);
      assert.equal(await s.getCurrent('example.com/conf', 'root'), null);
    });

    test('delete removes exactly one GUN, never GUNs it is a prefix of', async (s) => {
      const app = 'example.com/del/app';
      const app2 = 'example.com/del/app2';
      await s.updateMany(app, [meta('root', 1, app), meta('targets', 1, app), meta('timestamp', 1, app)]);
      await s.updateMany(app2, [meta('root', 1, app2), meta('timestamp', 1, app2)]);
      await s.delete('example.com/del');
      assert.equal((await all(s)).length, 2, 'deleting an unknown GUN logs nothing');
      await s.delete(app);
      assert.equal(await s.getCurrent(app, 'root'), null);
      assert.equal(await s.getCurrent(app, 'targets'), null);
      assert.equal(await s.getVersion(app, 'timestamp', 1), null);
      assert.equal(await s.getChecksum(app, 'root', hex(meta('root', 1, app))), null);
      assert.equal(await text(s.getCurrent(app2, 'root')), dec.decode(meta('root', 1, app2).data));
      const changes = await all(s);
      assert.equal(changes.length, 3);
      const del = changes[2];
      assert.ok(del);
      assert.deepEqual([del.category, del.gun, del.version, del.sha256], ['deletion', app, 0, '']);
      assertRecent(del.createdAt, Date.now() - 60_000, Date.now());
      // After deletion the GUN starts over from version 1.
      await s.updateMany(app, [meta('root', 1, app)]);
      assert.equal(await text(s.getCurrent(app, 'root')), dec.decode(meta('root', 1, app).data));
    });

    test('changefeed: one update record per stored timestamp, none for other roles', async (s) => {
      const before = Date.now();
      const t1 = meta('timestamp', 1);
      await s.updateMany(GUN, [meta('root', 1), meta('targets', 1), meta('snapshot', 1), t1]);
      await s.updateMany(GUN, [meta('snapshot', 2)]);
      const changes = await all(s);
      assert.equal(changes.length, 1);
      const c = changes[0];
      assert.ok(c);
      assert.equal(typeof c.id, 'string');
      assert.match(c.id, /^[0-9]+$/);
      assert.deepEqual([c.category, c.gun, c.version, c.sha256], ['update', GUN, 1, hex(t1)]);
      assertRecent(c.createdAt, before, Date.now());
    });

    describe('changefeed paging', () => {
      // Six changes over two GUNs: a1 b1 a2 b2 a3 (deletion of b).
      const A = 'example.com/feed/a';
      const B = 'example.com/feed/b';
      async function seed(s: MetaStore): Promise<Change[]> {
        await s.updateMany(A, [meta('timestamp', 1, A)]);
        await s.updateMany(B, [meta('timestamp', 1, B)]);
        await s.updateMany(A, [meta('timestamp', 2, A)]);
        await s.updateMany(B, [meta('timestamp', 2, B)]);
        await s.updateMany(A, [meta('timestamp', 3, A)]);
        await s.delete(B);
        const changes = await all(s);
        assert.equal(changes.length, 6);
        const ids = changes.map((c) => Number(c.id));
        assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'ascending ids');
        assert.equal(new Set(ids).size, 6, 'unique ids');
        return changes;
      }
      const ids = (cs: Change[]): string[] => cs.map((c) => c.id);
      const idOf = (cs: Change[], i: number): number => Number(cs[i]?.id);

      test('forward pages continue after change_id, oldest first', async (s) => {
        const cs = await seed(s);
        assert.deepEqual(ids(await s.getChanges(0, 2)), ids(cs.slice(0, 2)));
        assert.deepEqual(ids(await s.getChanges(idOf(cs, 1), 2)), ids(cs.slice(2, 4)));
        assert.deepEqual(ids(await s.getChanges(idOf(cs, 3), 100)), ids(cs.slice(4)));
        assert.deepEqual(await s.getChanges(idOf(cs, 5), 100), []);
        assert.deepEqual(await s.getChanges(0, 0), [], 'records 0 is an empty page (the handler maps 0 to 100)');
      });

      test('backward pages end before change_id and are still oldest first', async (s) => {
        const cs = await seed(s);
        assert.deepEqual(ids(await s.getChanges(idOf(cs, 4), -2)), ids(cs.slice(2, 4)));
        assert.deepEqual(ids(await s.getChanges(idOf(cs, 1), -5)), ids(cs.slice(0, 1)));
        assert.deepEqual(await s.getChanges(idOf(cs, 0), -5), []);
      });

      test('change_id -1 (or 0 with negative records) means the newest changes', async (s) => {
        const cs = await seed(s);
        assert.deepEqual(ids(await s.getChanges(-1, -2)), ids(cs.slice(4)));
        assert.deepEqual(ids(await s.getChanges(-1, 2)), ids(cs.slice(4)), 'a negative change_id pages backward');
        assert.deepEqual(ids(await s.getChanges(-1, -100)), ids(cs));
        assert.deepEqual(ids(await s.getChanges(0, -3)), ids(cs.slice(3)));
      });

      test('the GUN filter applies before the page limit, in both directions', async (s) => {
        const cs = await seed(s);
        const a = cs.filter((c) => c.gun === A);
        const b = cs.filter((c) => c.gun === B);
        assert.equal(a.length, 3);
        assert.deepEqual(ids(await s.getChanges(0, 2, A)), ids(a.slice(0, 2)));
        assert.deepEqual(ids(await s.getChanges(idOf(cs, 0), 100, A)), ids(a.slice(1)));
        assert.deepEqual(ids(await s.getChanges(-1, -2, B)), ids(b.slice(1)));
        assert.deepEqual(ids(await s.getChanges(idOf(cs, 5), -1, A)), ids(a.slice(2)));
        assert.deepEqual(await s.getChanges(0, 100, 'example.com/feed'), [], 'the filter is exact, not a prefix');
        assert.deepEqual(ids(await s.getChanges(0, 100, '')), ids(cs), 'an empty filter is no filter');
        const del = b[2];
        assert.ok(del);
        assert.deepEqual([del.category, del.version, del.sha256], ['deletion', 0, '']);
      });
    });

    test('check() succeeds on a working store', async (s) => {
      await s.check();
    });
  });
}

function record(keyId: string, over: Partial<KeyRecord> = {}): KeyRecord {
  return {
    keyId,
    gun: GUN,
    role: 'timestamp',
    algorithm: 'ed25519',
    publicKey: Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + keyId.length) & 0xff),
    privateSealed: `sealed.${keyId}.not.real.jwe`,
    passphraseAlias: 'default',
    createdAt: new Date(1_700_000_000_000),
    lastUsed: null,
    ...over,
  };
}

/** Runs every KeyRecordStore contract of types.ts against stores from `factory`. */
export function runKeyRecordStoreConformance(name: string, factory: Factory<KeyRecordStore>): void {
  const test = (title: string, fn: (s: KeyRecordStore) => Promise<void>) => it(title, () => withStore(factory, fn));

  describe(`KeyRecordStore conformance: ${name}`, () => {
    test('addKey then getKey round-trips every field', async (s) => {
      const rec = record('k1', { algorithm: 'ecdsa', role: 'snapshot', passphraseAlias: 'alias1' });
      await s.addKey(rec);
      assert.deepEqual(await s.getKey('k1'), rec);
      assert.equal(await s.getKey('k2'), null);
    });

    test('adding an existing keyId fails and keeps the first record', async (s) => {
      await s.addKey(record('k1'));
      await assert.rejects(s.addKey(record('k1', { role: 'snapshot' })), StorageError);
      assert.equal((await s.getKey('k1'))?.role, 'timestamp');
    });

    test('listKeys filters by exact gun and role, oldest first', async (s) => {
      await s.addKey(record('late', { createdAt: new Date(1_700_000_002_000) }));
      await s.addKey(record('early', { createdAt: new Date(1_700_000_001_000) }));
      await s.addKey(record('other-role', { role: 'snapshot' }));
      await s.addKey(record('other-gun', { gun: `${GUN}2` }));
      assert.deepEqual((await s.listKeys(GUN, 'timestamp')).map((r) => r.keyId), ['early', 'late']);
      assert.deepEqual((await s.listKeys(GUN, 'snapshot')).map((r) => r.keyId), ['other-role']);
      assert.deepEqual((await s.listKeys('example.com/conf', 'timestamp')), []);
    });

    test('markUsed records lastUsed; unknown keys are ignored', async (s) => {
      await s.addKey(record('k1'));
      const when = new Date(1_700_000_123_000);
      await s.markUsed('k1', when);
      assert.deepEqual((await s.getKey('k1'))?.lastUsed, when);
      assert.deepEqual((await s.listKeys(GUN, 'timestamp'))[0]?.lastUsed, when);
      await s.markUsed('missing', when);
      assert.equal(await s.getKey('missing'), null);
    });

    test('deleteKey removes only that key', async (s) => {
      await s.addKey(record('k1'));
      await s.addKey(record('k2'));
      await s.deleteKey('k1');
      await s.deleteKey('missing');
      assert.equal(await s.getKey('k1'), null);
      assert.deepEqual((await s.listKeys(GUN, 'timestamp')).map((r) => r.keyId), ['k2']);
      // A deleted key id can be added again.
      await s.addKey(record('k1', { role: 'timestamp' }));
      assert.ok(await s.getKey('k1'));
    });
  });
}
