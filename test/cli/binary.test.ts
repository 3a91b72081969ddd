/**
 * The real `vouch` binary (src/bin/vouch.ts, as users run it) next to the real `notary` binary
 * on the same scenario against each target server: same standard output and exit code for a
 * publish/read round trip, usage and flag errors, answers read from a pipe, and the vouch-only
 * `--output json`. Every run has a hard timeout and a closed standard input.
 *
 * Run: ./node_modules/.bin/node --test test/cli/binary.test.ts
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { useTarget } from '../support/e2e.ts';
import { describeResult, type RunResult } from '../support/exec.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { selectedTargets } from '../support/servers.ts';
import { normalise, VouchCli } from './support.ts';

const GUN_N = 'example.com/bin-n/app';
const GUN_V = 'example.com/bin-v/app';

for (const target of selectedTargets()) {
  describe(`the vouch binary next to the notary binary, against ${target}`, { timeout: 300_000 }, () => {
    const env = useTarget(target, 'cli-binary');
    let n: NotaryCli;
    let v: VouchCli;
    let hello = '';

    before(async () => {
      n = new NotaryCli({ url: env.server.url, caFile: env.server.caFile, home: join(env.dir, 'bin-n') });
      v = new VouchCli({ url: env.server.url, caFile: env.server.caFile, home: join(env.dir, 'bin-v') });
      hello = await env.file('hello.txt', 'hello world');
    });

    const text = (r: RunResult, gun: string, home: string): string =>
      normalise(r.stdout, [
        [gun, '<gun>'],
        [home, '<home>'],
        [/bin-[nv]\//g, 'bin-x/'],
        [/^( {2})vouch /gm, '$1notary '],
      ]);

    const same = async (args: (gun: string) => string[], input?: string): Promise<RunResult> => {
      const rn = await n.run(args(GUN_N), input === undefined ? {} : { input });
      const rv = await v.spawn(args(GUN_V), { ...(input === undefined ? {} : { input }), timeoutMs: 60_000 });
      const label = ['vouch', ...args(GUN_V)];
      assert.equal(rv.timedOut, false, describeResult(label, rv));
      assert.equal(text(rv, GUN_V, v.home), text(rn, GUN_N, n.home), `${describeResult(label, rv)}\n${describeResult(['notary'], rn)}`);
      assert.equal(rv.code, rn.code, describeResult(label, rv));
      return rv;
    };

    it('publishes, reads and verifies like notary', async () => {
      await same((g) => ['init', '-p', g]);
      await same((g) => ['add', '-p', g, 'v1', hello]);
      await same((g) => ['list', g]);
      await same((g) => ['lookup', g, 'v1']);
      await same((g) => ['verify', g, 'v1'], 'hello world');
      await same(() => ['key', 'list']);
    });

    it('errors, usage and answers from a pipe like notary', async () => {
      await same(() => ['publish']);
      await same((g) => ['list', g, '--bogus']);
      await same((g) => ['key', 'rotate', g, 'root'], 'no\n');
      await same((g) => ['delegation', 'remove', g, 'targets/x'], '\n');
    });

    it('--output json on the table commands', async () => {
      await v.spawn(['addhash', GUN_V, 'v2', '11', '--sha256', 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9']);
      const status = await v.spawn(['status', GUN_V, '--output', 'json']);
      assert.equal(status.code, 0, describeResult(['vouch', 'status'], status));
      assert.deepEqual(JSON.parse(status.stdout), [{ number: 0, action: 'create', scope: 'targets', type: 'target', path: 'v2' }]);
      const list = await v.spawn(['list', GUN_V, '--output', 'json']);
      assert.deepEqual(JSON.parse(list.stdout), [{ name: 'v1', digest: 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9', size: 11, role: 'targets' }]);
      const keys = JSON.parse((await v.spawn(['key', 'list', '--output', 'json'])).stdout) as { role: string; gun: string; location: string }[];
      assert.deepEqual(keys.map((k) => [k.role, k.gun]), [['root', ''], ['snapshot', GUN_V], ['targets', GUN_V]]);
      assert.ok(keys.every((k) => k.location === join(v.trustDir, 'private')));
      const delegations = await v.spawn(['delegation', 'list', GUN_V, '--output', 'json']);
      assert.equal(delegations.stdout, '[]\n');
      const bad = await v.spawn(['list', GUN_V, '--output', 'yaml']);
      assert.equal(bad.code, 1);
      assert.equal(bad.stdout, '\n* fatal: invalid output format "yaml": use "table" or "json"\n');
    });
  });
}
