/**
 * What the SQL server backends promise beyond one process (sql-store.ts), checked with several
 * stores — each with its own connection pool, as separate vouch instances have — on one database:
 *
 *   runSharedDatabaseSuite('postgres', async () => { await reset(); return () => PostgresMetaStore.open(url); });
 *
 * `fresh` empties the database and returns an opener; every opened store is closed by the suite.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VersionConflictError } from '../errors/index.ts';
import type { Change, MetaStore, MetaUpdate } from './types.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function part(role: string, version: number, writer: string): MetaUpdate {
  return { role, version, data: enc.encode(`${role}:${version}:${writer}`) };
}

async function withStores(open: () => Promise<MetaStore>, n: number, fn: (stores: MetaStore[]) => Promise<void>): Promise<void> {
  const opened = await Promise.allSettled(Array.from({ length: n }, () => open()));
  const stores = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    for (const r of opened) if (r.status === 'rejected') throw r.reason;
    await fn(stores);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

export function runSharedDatabaseSuite(name: string, fresh: () => Promise<() => Promise<MetaStore>>): void {
  describe(`MetaStore on a shared database: ${name}`, () => {
    it('racing publishers to one GUN: every version stored once, by one writer, whole', async () => {
      const open = await fresh();
      const gun = 'example.com/race/app';
      const target = 40;
      await withStores(open, 3, async (stores) => {
        let conflicts = 0;
        const worker = async (store: MetaStore, w: number): Promise<number[]> => {
          const won: number[] = [];
          for (;;) {
            const cur = await store.getCurrent(gun, 'timestamp');
            const v = cur === null ? 1 : Number(dec.decode(cur.data).split(':')[1]) + 1;
            if (v > target) return won;
            const writer = `w${w}`;
            try {
              await store.updateMany(gun, [part('targets', v, writer), part('snapshot', v, writer), part('timestamp', v, writer)]);
              won.push(v);
            } catch (err) {
              assert.ok(err instanceof VersionConflictError, `only version conflicts, got ${String(err)}`);
              conflicts++;
            }
          }
        };
        // Six writers over three pools.
        const results = await Promise.all(Array.from({ length: 6 }, (_, w) => worker(stores[w % 3]!, w)));
        const all = results.flat().sort((a, b) => a - b);
        assert.deepEqual(all, Array.from({ length: target }, (_, i) => i + 1), 'each version won by exactly one writer');
        assert.ok(conflicts > 0, 'the writers really raced');
        const check = stores[0]!;
        for (let v = 1; v <= target; v++) {
          const writers = new Set<string>();
          for (const role of ['targets', 'snapshot', 'timestamp']) {
            const got = await check.getVersion(gun, role, v);
            assert.ok(got, `${role} v${v} stored`);
            writers.add(dec.decode(got.data).split(':')[2] ?? '');
          }
          assert.equal(writers.size, 1, `version ${v} came whole from one writer`);
        }
        const feed = await check.getChanges(0, 1000, gun);
        assert.deepEqual(feed.map((c) => c.version), Array.from({ length: target }, (_, i) => i + 1));
      });
    });

    it('crossed batches (write skew): exactly one of two wins, the loser stores nothing', async () => {
      const open = await fresh();
      const gun = 'example.com/race/skew';
      await withStores(open, 2, async ([a, b]) => {
        await a!.updateMany(gun, [part('targets', 2, 'x'), part('snapshot', 2, 'x')]);
        // From targets k / snapshot k, a writes (k+1, k+2) and b writes (k+2, k+1): in either
        // serial order the second batch has one version below the first's, so it must lose.
        for (let k = 2; k < 62; k += 2) {
          const results = await Promise.allSettled([
            a!.updateMany(gun, [part('targets', k + 1, 'a'), part('snapshot', k + 2, 'a')]),
            b!.updateMany(gun, [part('targets', k + 2, 'b'), part('snapshot', k + 1, 'b')]),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled').length;
          assert.equal(won, 1, `k=${k}: exactly one crossed batch is stored`);
          const loser = results.find((r) => r.status === 'rejected');
          assert.ok(loser?.status === 'rejected' && loser.reason instanceof VersionConflictError);
          const t = dec.decode((await a!.getCurrent(gun, 'targets'))!.data);
          const sn = dec.decode((await a!.getCurrent(gun, 'snapshot'))!.data);
          assert.equal(Math.max(Number(t.split(':')[1]), Number(sn.split(':')[1])), k + 2);
          assert.equal(t.split(':')[2], sn.split(':')[2], `k=${k}: both roles come from the winner`);
          const loserName = t.split(':')[2] === 'a' ? 'b' : 'a';
          for (const role of ['targets', 'snapshot']) {
            for (const v of [k + 1, k + 2]) {
              const got = await a!.getVersion(gun, role, v);
              assert.ok(got === null || !dec.decode(got.data).endsWith(`:${loserName}`), `k=${k}: nothing of ${loserName} stored`);
            }
          }
        }
      });
    });

    it('a reader following the changefeed while GUNs are written in parallel misses nothing', async () => {
      const open = await fresh();
      await withStores(open, 3, async (stores) => {
        const seen: Change[] = [];
        let done = false;
        const follow = async (): Promise<void> => {
          let last = 0;
          for (;;) {
            const finished = done;
            const page = await stores[2]!.getChanges(last, 50);
            for (const c of page) {
              assert.ok(Number(c.id) > last, 'ids ascend');
              last = Number(c.id);
              seen.push(c);
            }
            if (finished && page.length === 0) return;
            if (page.length === 0) await new Promise((r) => setTimeout(r, 2));
          }
        };
        const writer = async (store: MetaStore, g: number): Promise<void> => {
          const gun = `example.com/feed/g${g}`;
          for (let v = 1; v <= 15; v++) await store.updateMany(gun, [part('targets', v, 'w'), part('timestamp', v, 'w')]);
          await store.delete(gun);
        };
        const reader = follow();
        await Promise.all(Array.from({ length: 8 }, (_, g) => writer(stores[g % 2]!, g)));
        done = true;
        await reader;
        const all = await stores[0]!.getChanges(0, 10_000);
        assert.equal(all.length, 8 * 16);
        assert.deepEqual(seen.map((c) => c.id), all.map((c) => c.id), 'the follower saw every record, in order');
      });
    });

    it('delete racing a publish: afterwards the GUN is either gone or whole', async () => {
      const open = await fresh();
      const gun = 'example.com/race/del';
      await withStores(open, 2, async ([a, b]) => {
        for (let round = 0; round < 10; round++) {
          await a!.updateMany(gun, [part('root', 1, 'a'), part('timestamp', 1, 'a')]);
          await Promise.allSettled([b!.delete(gun), a!.updateMany(gun, [part('targets', 1, 'a'), part('timestamp', 2, 'a')])]);
          const ts = await a!.getCurrent(gun, 'timestamp');
          const root = await a!.getCurrent(gun, 'root');
          const targets = await a!.getCurrent(gun, 'targets');
          if (root === null) {
            // Deleted last; a publish after the delete would have stored targets and timestamp 2 only.
            assert.ok(ts === null || dec.decode(ts.data) === 'timestamp:2:a');
            assert.equal(ts === null, targets === null, 'targets and timestamp go together');
          } else {
            assert.equal(dec.decode(ts!.data), 'timestamp:2:a');
            assert.ok(targets);
          }
          await a!.delete(gun);
        }
      });
    });
  });
}
