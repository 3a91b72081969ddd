/**
 * Crash safety of the sqlite3 backend (issue "Trust server: a drop-in notary-server", last
 * requirement): while notary CLIs publish in a loop to several repositories, the server is killed
 * with SIGKILL; it is restarted on the same database file, and then every publish that had been
 * acknowledged must still be there, the repositories must verify for existing and fresh clients,
 * and publishing must go on.
 *
 * Runs only for `vouch-sqlite` (notary-server's Debian build has no sqlite3). Setting
 * VOUCH_E2E_CRASH_TARGET=notary runs it against notary-server with memory storage instead, which
 * loses everything on a kill: a way to see this test fail.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useTarget } from '../support/e2e.ts';
import { NotaryCli, parseList } from '../support/notary-cli.ts';
import { selectedTargets, type TargetName } from '../support/servers.ts';

const HELLO = 'hello world';
const REPOS = ['example.com/e2e/crash-a', 'example.com/e2e/crash-b', 'example.com/e2e/crash-c'];
/** Acknowledged publishes (over all repositories) before the kill. */
const KILL_AFTER = Number(process.env['VOUCH_E2E_CRASH_AFTER'] ?? '24');

const override = process.env['VOUCH_E2E_CRASH_TARGET'] as TargetName | undefined;
const targets: TargetName[] = override !== undefined ? [override] : selectedTargets().filter((t) => t === 'vouch-sqlite');

for (const target of targets) {
  describe(`SIGKILL during publishes against ${target}`, { timeout: 300_000 }, () => {
    const env = useTarget(target, 'crash');
    let owner: NotaryCli;
    let hello: string;
    const acked = new Map<string, string[]>(REPOS.map((g) => [g, []]));
    const attempted = new Map<string, string[]>(REPOS.map((g) => [g, []]));

    it('publishes are acknowledged until the server is killed', async () => {
      owner = await env.notary('owner');
      hello = await env.file('hello.txt', HELLO);
      for (const gun of REPOS) {
        await owner.ok('init', '-p', gun);
        // half of the repositories sign their own snapshot, half leave it to the server
        if (gun.endsWith('-b')) await owner.ok('key', 'rotate', gun, 'snapshot', '-r');
      }
      let total = 0;
      let killed = false;
      let killing: Promise<void> | undefined;
      const loop = async (gun: string): Promise<void> => {
        for (let i = 0; !killed && i < 500; i++) {
          const name = `t${i}`;
          attempted.get(gun)?.push(name);
          const r = await owner.run(['add', '-p', gun, name, hello], { timeoutMs: 30_000 });
          if (r.code === 0 && r.stdout.includes(`Successfully published changes for repository ${gun}`)) {
            acked.get(gun)?.push(name);
            total++;
            if (total >= KILL_AFTER && killing === undefined) {
              // kill while the other loops are in the middle of their publishes
              killing = env.server.kill('SIGKILL').then(() => {
                killed = true;
              });
            }
          } else {
            // the server went away under this publish; stop the loop
            await killing;
            return;
          }
        }
      };
      await Promise.all(REPOS.map(loop));
      await killing;
      assert.ok(killed, 'the server was killed during the publishes');
      assert.ok(total >= KILL_AFTER, `only ${total} publishes acknowledged`);
    });

    it('restarts on the same database and has lost no acknowledged publish', async () => {
      await env.server.restart();
      for (const gun of REPOS) {
        const names = acked.get(gun) ?? [];
        const r = await owner.ok('list', gun);
        const listed = new Set(parseList(r.stdout).map((row) => row[0]));
        for (const n of names) assert.ok(listed.has(n), `acknowledged target ${n} of ${gun} is missing after the restart:\n${r.stdout}`);
        // nothing that was never sent may appear
        for (const n of listed) assert.ok(attempted.get(gun)?.includes(n ?? ''), `unexpected target ${n} in ${gun}`);
        const last = names.at(-1);
        if (last !== undefined) {
          const v = await owner.ok('verify', gun, last, '-i', hello);
          assert.equal(v.stdout, HELLO);
        }
      }
    });

    it('a fresh client bootstraps and verifies every repository', async () => {
      const fresh = await env.notary('fresh');
      for (const gun of REPOS) {
        const r = await fresh.ok('list', gun);
        const listed = new Set(parseList(r.stdout).map((row) => row[0]));
        for (const n of acked.get(gun) ?? []) assert.ok(listed.has(n), `${n} missing for a fresh client of ${gun}`);
        const first = acked.get(gun)?.[0];
        if (first !== undefined) {
          const l = await fresh.ok('lookup', gun, first);
          assert.equal(l.stdout, `${first} sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9 11\n`);
        }
      }
    });

    it('publishing goes on after the restart', async () => {
      for (const gun of REPOS) {
        // the documented recovery when a server may have lost its timestamp key (spec §13.20);
        // harmless when it kept it
        await owner.ok('key', 'rotate', gun, 'timestamp', '-r');
        const r = await owner.ok('add', '-p', gun, 'after-restart', hello);
        assert.match(r.stdout, new RegExp(`Successfully published changes for repository ${gun.replace(/\./g, '\\.')}\\n$`));
        const l = await (await env.notary(`reader-${gun.slice(-1)}`)).ok('list', gun);
        assert.match(l.stdout, /^after-restart +b94d27b9/m);
      }
    });
  });
}
