/**
 * SIGKILL of one of two `vouch server` processes that share a PostgreSQL database, in the middle
 * of publishes (issue "Beyond one machine", the crash case for the multi-instance shape).
 *
 * Four notary CLI clients publish `add -p` of distinct targets in loops to two GUNs (one with a
 * client-managed snapshot, one with a server-managed one); each GUN has a client on server A and
 * one on server B, so they also race each other (a publish refused with notary's version error is
 * published again, as a user would). A failed publish stays in the client's changelist and the
 * next successful one publishes it too: a client's targets are acknowledged by its next success.
 *
 * Server A is killed twice, each time followed by the same checks:
 * 1. mid-transaction: B's clients are held back, the test locks the `changefeed` table, and A's
 *    clients publish until PostgreSQL shows their transactions waiting on it, their metadata rows
 *    already inserted; then A is killed and the lock released. Those publishes cannot have
 *    committed, so what is served afterwards is exactly what was acknowledged.
 * 2. mid-request: all clients publish freely and A is killed part way through one of its
 *    publishes. A publish whose client got an error may or may not have been committed (A may
 *    die between the commit and its answer), so the served targets are every acknowledged one
 *    plus, at most, targets of the publishes through A that were under way at the kill.
 * After each kill: the clients on A get errors while it is down and the clients on B go on
 * succeeding; with the loops paused a fresh client (new trust dir) through B verifies and lists
 * the GUNs; A is restarted on the same database and a fresh client through it lists the same;
 * then publishing through A goes on. At the end every target was acknowledged, fresh clients
 * list exactly those through A and B, both servers serve byte-identical root, targets, snapshot
 * and timestamp, and no publish failed other than through A while it was down, or for its version.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, afterEach, before, describe, it } from 'node:test';
import pg from 'pg';
import { describeResult, type RunResult } from '../support/exec.ts';
import { getMeta } from '../support/http.ts';
import { NotaryCli, parseList } from '../support/notary-cli.ts';
import { makePki, removeDir, tempDir, type Pki } from '../support/pki.ts';
import { startServer, type ServerHandle } from '../support/servers.ts';
import { freshPostgres, type FreshDatabase } from './databases.ts';

const PAYLOAD = 'vouch multi-instance crash payload\n';
const GUNS = ['example.com/multi-crash/client-snapshot', 'example.com/multi-crash/server-snapshot'] as const;
/** What notary prints when the server answers 400 VERSION (detail `{}`, spec §5.3). */
const VERSION_ERROR = /trust server rejected operation\.$/m;
const PUBLISHED = /Successfully published changes for repository /;
/** Version refusals in a row after which a client gives up (the test fails). */
const MAX_VERSION_REFUSALS = 25;
/** Successful publishes through each server before a kill. */
const ACKED_BEFORE_KILL = 3;
/** How far into a publish through A (as a fraction of a typical one) the mid-request kill comes. */
const KILL_AT = Number(process.env['VOUCH_CRASH_KILL_AT'] ?? '0.8');

type Side = 'A' | 'B';

interface Attempt {
  readonly side: Side;
  readonly gun: string;
  readonly args: readonly string[];
  /** Names in the client's changelist when the command started (what it tries to publish). */
  readonly pending: readonly string[];
  readonly start: number;
  end: number;
  result: RunResult | undefined;
}

const succeeded = (a: Attempt): boolean => a.result?.code === 0 && PUBLISHED.test(a.result.stdout);
const refusedForVersion = (a: Attempt): boolean => a.result !== undefined && a.result.code !== 0 && VERSION_ERROR.test(a.result.stderr + a.result.stdout);
/** The line notary ends a failure with (`* fatal: …`). */
const fatal = (a: Attempt): string => (a.result?.stdout + '\n' + a.result?.stderr).match(/^\* fatal: .*$/m)?.[0] ?? `exit ${a.result?.code}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One notary trust dir publishing to one GUN through one server. */
class Client {
  readonly cli: NotaryCli;
  readonly gun: string;
  readonly side: Side;
  readonly tag: string;
  readonly acked: string[] = [];
  pending: string[] = [];
  readonly attempts: Attempt[] = [];
  current: Attempt | undefined;
  constructor(cli: NotaryCli, gun: string, side: Side, tag: string) {
    this.cli = cli;
    this.gun = gun;
    this.side = side;
    this.tag = tag;
  }

  async run(args: readonly string[]): Promise<Attempt> {
    const a: Attempt = { side: this.side, gun: this.gun, args, pending: [...this.pending], start: performance.now(), end: Infinity, result: undefined };
    this.attempts.push(a);
    this.current = a;
    a.result = await this.cli.run(args, { timeoutMs: 90_000 });
    a.end = performance.now();
    this.current = undefined;
    if (succeeded(a)) {
      this.acked.push(...this.pending);
      this.pending = [];
    }
    return a;
  }
}

describe('SIGKILL of one of two vouch servers on one PostgreSQL database during publishes', { timeout: 900_000 }, () => {
  let db: FreshDatabase | undefined;
  let dir: string | undefined;
  let pki: Pki | undefined;
  let payload: string;
  const servers: ServerHandle[] = [];
  const sql: pg.Client[] = [];
  let homes = 0;

  before(async () => {
    db = await freshPostgres();
    dir = await tempDir('multi-instance-crash');
    pki = await makePki(dir);
    payload = join(dir, 'payload.bin');
    await writeFile(payload, PAYLOAD);
    const extraConfig = {
      storage: { backend: 'postgres', db_url: db.url },
      trust_service: { key_passphrase: 'multi-instance-crash-shared-passphrase' },
      logging: { level: 'info' },
    };
    const dirs = [join(dir, 'server-a'), join(dir, 'server-b')];
    await Promise.all(dirs.map((d) => mkdir(d)));
    const started = await Promise.allSettled(dirs.map((d) => startServer('vouch-memory', { pki: pki!, dir: d, extraConfig })));
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });

  afterEach((t) => {
    if ((t as { passed?: boolean }).passed === false) {
      servers.forEach((s, i) => process.stderr.write(`\n--- server ${'AB'[i]} output ---\n${s.output().slice(-6000)}\n`));
    }
  });

  after(async () => {
    await Promise.all(sql.map((c) => c.end().catch(() => {})));
    await Promise.all(servers.map((s) => s.stop()));
    if (dir !== undefined && process.env['VOUCH_E2E_KEEP'] !== '1') await removeDir(dir);
    await db?.drop();
  });

  const server = (side: Side): ServerHandle => {
    const s = servers[side === 'A' ? 0 : 1];
    if (s === undefined || servers.length < 2) throw new Error('the two servers did not start (see the before hook)');
    return s;
  };
  const fresh = (side: Side, name: string): NotaryCli =>
    new NotaryCli({ url: server(side).url, caFile: pki!.caFile, home: join(dir!, `${name}-${++homes}`) });
  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: db!.url });
    sql.push(c);
    await c.connect();
    return c;
  };

  /** What a fresh client (new trust dir) lists for `gun` through `side`, after verifying one target. */
  const servedTo = async (side: Side, gun: string, check: string | undefined): Promise<string[]> => {
    const cli = fresh(side, `reader-${side}`);
    const listed = parseList((await cli.ok('list', gun)).stdout).map((row) => row[0] ?? '').sort();
    if (check !== undefined) {
      const v = await cli.ok('verify', gun, check, '-i', payload);
      assert.equal(v.stdout, PAYLOAD, `${side} serves ${check} of ${gun} with its content`);
    }
    return listed;
  };

  it('clients on A fail while it is down, B goes on, nothing half-written is served, and A publishes again after a restart', async () => {
    const owners = new Map<string, NotaryCli>();
    for (const gun of GUNS) {
      const owner = fresh('A', 'owner');
      await owner.ok('init', '-p', gun);
      if (gun.endsWith('server-snapshot')) await owner.ok('key', 'rotate', gun, 'snapshot', '-r');
      owners.set(gun, owner);
    }
    // per GUN one client on A and one on B, each with the owner's keys and cache
    const clients: Client[] = [];
    for (const [g, gun] of GUNS.entries()) {
      for (const side of ['A', 'B'] as const) {
        const tag = `g${g}-${side.toLowerCase()}`;
        const home = join(dir!, `client-${tag}`);
        await cp(owners.get(gun)!.home, home, { recursive: true });
        clients.push(new Client(new NotaryCli({ url: server(side).url, caFile: pki!.caFile, home }), gun, side, tag));
      }
    }
    const onA = clients.filter((c) => c.side === 'A');
    const onB = clients.filter((c) => c.side === 'B');
    const all = (cs: readonly Client[]): Attempt[] => cs.flatMap((c) => c.attempts);
    const idle = (cs: readonly Client[]) => (): boolean => cs.every((c) => c.current === undefined);

    // Loops: `add -p` a new target; on failure publish again (after a moment unless it was a
    // version refusal) until it succeeds. A paused side holds its loops before their next command.
    let stopping = false; // finish the current target, then stop
    let aborted = false; // the test failed: stop at once
    const gates = new Map<Side, { held: Promise<void>; open: () => void }>();
    const pause = (...sides: Side[]): void => {
      for (const side of sides) {
        if (gates.has(side)) continue;
        let open = (): void => {};
        const held = new Promise<void>((r) => (open = r));
        gates.set(side, { held, open });
      }
    };
    const unpause = (...sides: Side[]): void => {
      for (const side of sides) {
        gates.get(side)?.open();
        gates.delete(side);
      }
    };
    const loop = async (c: Client): Promise<void> => {
      for (let n = 1; !stopping; n++) {
        const name = `${c.tag}-${n}`;
        c.pending.push(name);
        let args: string[] = ['add', '-p', c.gun, name, payload];
        for (let refusals = 0; ; ) {
          for (let g = gates.get(c.side); g !== undefined; g = gates.get(c.side)) await g.held;
          if (aborted) return;
          const a = await c.run(args);
          if (succeeded(a)) break;
          if (refusedForVersion(a)) {
            refusals++;
            if (refusals >= MAX_VERSION_REFUSALS) throw new Error(`${name} refused ${refusals} times in a row\n${describeResult(args, a.result!)}`);
          } else {
            refusals = 0;
            await sleep(200);
          }
          args = ['publish', c.gun];
        }
      }
    };
    const loops = Promise.all(clients.map(loop));
    let loopsFailed: unknown;
    loops.catch((err: unknown) => (loopsFailed = err));
    const wait = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        if (loopsFailed !== undefined) throw loopsFailed;
        if (await cond()) return;
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(10);
      }
    };
    const ackedThrough = (cs: readonly Client[], since: number): number => all(cs).filter((a) => a.start > since && succeeded(a)).length;

    /** When A was killed and when it was back, per kill: failures through A in between are expected. */
    const downtimes: { from: number; to: number }[] = [];
    let failedWhileDown = 0;
    const monitor = await connect();

    /**
     * Kills A by `kill` (which returns the time the signal was sent), then checks as described at
     * the top. `mayBeCommitted(inFlight)`: the unacknowledged targets the kill may have let through.
     */
    const crashRound = async (round: string, kill: () => Promise<number>, mayBeCommitted: (inFlight: Attempt[]) => Set<string>): Promise<void> => {
      const roundStart = performance.now();
      await wait(`${round}: publishes through both servers`, () => ackedThrough(onA, roundStart) >= ACKED_BEFORE_KILL && ackedThrough(onB, roundStart) >= ACKED_BEFORE_KILL);
      const killSent = await kill();
      const killDone = performance.now();

      // While A is down: its clients fail, B's clients go on.
      const sinceKill = (c: Client, ok: boolean): number => c.attempts.filter((a) => a.start > killDone && a.result !== undefined && succeeded(a) === ok).length;
      await wait(`${round}: failures on A and successes on B while A is down`, () => onA.every((c) => sinceKill(c, false) >= 2) && onB.every((c) => sinceKill(c, true) >= 2));
      pause('A', 'B');
      await wait(`${round}: the loops to pause`, idle(clients));

      const overlapping = all(onA).filter((a) => a.start < killDone && a.end > killSent);
      assert.ok(overlapping.length >= 1, `${round}: a publish through A was under way at the kill`);
      const inFlight = overlapping.filter((a) => !succeeded(a) && !refusedForVersion(a));
      const down = all(onA).filter((a) => a.start >= killDone);
      for (const a of down) assert.notEqual(a.result?.code, 0, `${round}: a publish through A while it is down fails\n${describeResult(a.args, a.result!)}`);
      failedWhileDown += down.length;
      const allowed = mayBeCommitted(inFlight);

      const served = new Map<string, string[]>();
      for (const gun of GUNS) {
        const acked = clients.filter((c) => c.gun === gun).flatMap((c) => c.acked);
        const listed = await servedTo('B', gun, acked.at(-1));
        served.set(gun, listed);
        assert.deepEqual(acked.filter((n) => !listed.includes(n)), [], `${round}: B lists every acknowledged target of ${gun} while A is down`);
        const extra = listed.filter((n) => !acked.includes(n));
        assert.deepEqual(extra.filter((n) => !allowed.has(n)), [], `${round}: B lists no unacknowledged target of ${gun} beyond what the kill may have let through`);
        const flying = inFlight.filter((a) => a.gun === gun).map((a) => `${a.pending} (${fatal(a)})`);
        process.stderr.write(`# ${round}, ${gun}: ${acked.length} acknowledged; failed at the kill: [${flying.join('; ')}]; served without acknowledgement: [${extra}]\n`);
      }

      await server('A').restart();
      const restarted = performance.now();
      downtimes.push({ from: killSent, to: restarted });
      for (const gun of GUNS) {
        assert.deepEqual(await servedTo('A', gun, served.get(gun)!.at(-1)), served.get(gun), `${round}: restarted A serves what B served for ${gun}`);
      }
      unpause('A', 'B');
      await wait(`${round}: publishes through the restarted A`, () => onA.every((c) => c.attempts.filter((a) => a.start > restarted && succeeded(a)).length >= 2));
    };

    let roundsDone = false;
    try {
      await crashRound(
        'mid-transaction',
        async () => {
          pause('B');
          await wait('the clients on B to hold back', idle(onB));
          const holder = await connect();
          await holder.query('BEGIN');
          await holder.query('LOCK TABLE changefeed IN EXCLUSIVE MODE'); // readers go on, writers wait
          const waiting = async (): Promise<number> =>
            Number((await monitor.query('SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()')).rows[0].n);
          try {
            // each A client's publish is inside its transaction, its rows inserted, waiting to commit
            await wait('the publishes through A to wait on the lock', async () => (await waiting()) >= onA.length, 60_000);
            const sent = performance.now();
            await server('A').kill('SIGKILL');
            return sent;
          } finally {
            await holder.query('ROLLBACK');
            unpause('B');
          }
        },
        // the killed transactions were still waiting on the lock: none of them can have committed
        () => new Set(),
      );
      await crashRound(
        'mid-request',
        async () => {
          const durations = all(onA).filter(succeeded).map((a) => a.end - a.start).sort((x, y) => x - y);
          const typical = durations[Math.floor(durations.length / 2)] ?? 500;
          await wait('a publish under way on A', () => onA.some((c) => c.current !== undefined && performance.now() - c.current.start >= typical * KILL_AT));
          const sent = performance.now();
          await server('A').kill('SIGKILL');
          return sent;
        },
        (inFlight) => new Set(inFlight.flatMap((a) => a.pending)),
      );
      roundsDone = true;
    } finally {
      stopping = true; // each loop finishes its current target
      aborted = !roundsDone;
      unpause('A', 'B');
      if (aborted) await loops.catch(() => {});
    }
    await loops;

    const unexpected = all(clients).filter((a) => !succeeded(a) && !refusedForVersion(a) && !(a.side === 'A' && downtimes.some((d) => a.start < d.to && a.end > d.from)));
    assert.deepEqual(unexpected.map((a) => describeResult(['notary', ...a.args], a.result!)), [], 'no publish failed except through A while it was down, or for its version');
    const refused = all(clients).filter(refusedForVersion).length;
    process.stderr.write(`# ${all(clients).filter(succeeded).length} publishes acknowledged, ${refused} refused with the version error, ${failedWhileDown} failed while A was down\n`);

    // Everything was published in the end: exactly that is served through both servers.
    for (const c of clients) assert.deepEqual(c.pending, [], `${c.tag} has nothing left to publish`);
    for (const gun of GUNS) {
      const expected = clients.filter((c) => c.gun === gun).flatMap((c) => c.acked).sort();
      for (const side of ['A', 'B'] as const) {
        assert.deepEqual(await servedTo(side, gun, expected.at(-1)), expected, `${side} serves exactly the published targets of ${gun}`);
      }
      for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
        const [ra, rb] = await Promise.all([getMeta(server('A'), gun, role), getMeta(server('B'), gun, role)]);
        assert.equal(ra.status, 200, `${role} of ${gun} from A`);
        assert.equal(rb.status, 200, `${role} of ${gun} from B`);
        assert.ok(ra.body.equals(rb.body), `both servers serve the same ${role}.json for ${gun}`);
      }
    }
    const errors = servers.flatMap((s, i) => s.output().split('\n').filter((l) => l.includes('"level":50')).map((l) => `${'AB'[i]}: ${l}`));
    assert.deepEqual(errors, [], 'no server logged an error');
  });
});
