/**
 * Several `vouch server` processes on one PostgreSQL database (storage.backend postgres), with
 * the real notary CLI publishing to one GUN from several trust dirs at once, spread over both
 * servers. Every publish must either succeed or be refused with notary's version error (then the
 * client publishes again, as a user would); afterwards every acknowledged target is listed by
 * both servers and both serve byte-identical root/targets/snapshot/timestamp.
 *
 * Runs once with a client-managed snapshot (clients race on targets and snapshot versions) and
 * once with a server-managed one (the two servers race to generate the next snapshot/timestamp).
 */
import assert from 'node:assert/strict';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult } from '../support/exec.ts';
import { getMeta } from '../support/http.ts';
import { NotaryCli, parseList } from '../support/notary-cli.ts';
import { makePki, removeDir, tempDir, type Pki } from '../support/pki.ts';
import { startServer, type ServerHandle } from '../support/servers.ts';
import { freshPostgres, type FreshDatabase } from './databases.ts';

const CLIENTS = 4;
const TARGETS_PER_CLIENT = 3;
const MAX_ATTEMPTS = 25;
/** What notary prints when the server answers 400 VERSION (detail `{}`, spec §5.3). */
const VERSION_ERROR = /trust server rejected operation\.$/m;

describe('two vouch servers on one PostgreSQL database', { timeout: 900_000 }, () => {
  let db: FreshDatabase | undefined;
  let dir: string | undefined;
  let pki: Pki | undefined;
  const servers: ServerHandle[] = [];

  before(async () => {
    db = await freshPostgres();
    dir = await tempDir('multi-instance');
    pki = await makePki(dir);
    const extraConfig = {
      storage: { backend: 'postgres', db_url: db.url },
      trust_service: { key_passphrase: 'multi-instance-shared-passphrase' },
      logging: { level: 'info' }, // refused requests are logged with their error code
    };
    // Started together: both migrate the fresh database at once.
    const dirs = [join(dir, 'server-a'), join(dir, 'server-b')];
    await Promise.all(dirs.map((d) => mkdir(d)));
    const started = await Promise.allSettled(dirs.map((d) => startServer('vouch-memory', { pki: pki!, dir: d, extraConfig })));
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    if (dir !== undefined && process.env['VOUCH_E2E_KEEP'] !== '1') await removeDir(dir);
    await db?.drop();
  });

  /** Requests both servers refused with this error code so far (from their logs). */
  const logged = (code: string): number =>
    servers.reduce((n, s) => n + s.output().split('\n').filter((l) => l.includes(`"code":"${code}"`)).length, 0);
  const serverErrors = (): string[] => servers.flatMap((s) => s.output().split('\n').filter((l) => l.includes('"level":50')));

  const server = (i: number): ServerHandle => {
    const s = servers[i % 2];
    if (s === undefined || servers.length < 2) throw new Error('the two servers did not start (see the before hook)');
    return s;
  };

  for (const snapshot of ['client-managed', 'server-managed'] as const) {
    it(`concurrent publishes to one GUN through both servers (${snapshot} snapshot): none lost`, async () => {
      const gun = `example.com/multi/${snapshot}`;
      const base = join(dir!, snapshot);
      const payload = join(base, 'payload.bin');
      await mkdir(base, { recursive: true });
      await writeFile(payload, 'vouch multi-instance payload\n');

      const owner = new NotaryCli({ url: server(0).url, caFile: pki!.caFile, home: join(base, 'owner') });
      await owner.ok('init', '-p', gun);
      if (snapshot === 'server-managed') await owner.ok('key', 'rotate', gun, 'snapshot', '-r');

      // Every client holds the owner's keys and cache, and talks to server A or B.
      const clients: NotaryCli[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        const home = join(base, `client-${i}`);
        await cp(owner.home, home, { recursive: true });
        clients.push(new NotaryCli({ url: server(i).url, caFile: pki!.caFile, home }));
      }

      const acknowledged: string[] = [];
      let refused = 0;
      const versionErrorsBefore = logged('VERSION');
      const publishAll = async (cli: NotaryCli, i: number): Promise<void> => {
        for (let t = 0; t < TARGETS_PER_CLIENT; t++) {
          const name = `c${i}-t${t}`;
          await cli.ok('add', gun, name, payload);
          for (let attempt = 1; ; attempt++) {
            const r = await cli.run(['publish', gun]);
            if (r.code === 0) {
              acknowledged.push(name);
              break;
            }
            assert.match(r.stderr + r.stdout, VERSION_ERROR, `a refused publish names the version error\n${describeResult(['notary', 'publish', gun], r)}`);
            refused++;
            assert.ok(attempt < MAX_ATTEMPTS, `${name} still refused after ${attempt} attempts`);
          }
        }
      };
      await Promise.all(clients.map((c, i) => publishAll(c, i)));

      const expected = Array.from({ length: CLIENTS }, (_, i) => Array.from({ length: TARGETS_PER_CLIENT }, (_, t) => `c${i}-t${t}`)).flat().sort();
      assert.deepEqual([...acknowledged].sort(), expected);
      process.stderr.write(`# ${snapshot}: ${expected.length} publishes acknowledged, ${refused} refused with the version error first\n`);
      assert.equal(logged('VERSION') - versionErrorsBefore, refused, 'each refusal was a VERSION error on the server');
      assert.deepEqual(serverErrors(), [], 'no server failed a request');

      for (const i of [0, 1]) {
        const lister = new NotaryCli({ url: server(i).url, caFile: pki!.caFile, home: join(base, `lister-${i}`) });
        const listed = parseList((await lister.ok('list', gun)).stdout).map((row) => row[0] ?? '').sort();
        assert.deepEqual(listed, expected, `server ${'AB'[i]} lists every acknowledged target`);
      }
      for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
        const [ra, rb] = await Promise.all([getMeta(server(0), gun, role), getMeta(server(1), gun, role)]);
        assert.equal(ra.status, 200, `${role} from A`);
        assert.equal(rb.status, 200, `${role} from B`);
        assert.ok(ra.body.equals(rb.body), `both servers serve the same ${role}.json`);
      }
    });
  }
});
