/**
 * Every notary command, run by the real notary 0.7 CLI and by `vouch` on the same scenario
 * against the same server (the real notary-server, and `vouch server`; VOUCH_E2E_TARGETS picks),
 * must print the same standard output and exit with the same code.
 *
 * The two tools work on two GUNs of equal length (`example.com/cli-n/app`, `…/cli-v/app`) with
 * two trust dirs of equal length, so tables line up identically; outputs are compared after the
 * GUN and home become placeholders and key IDs become `<id1>`, `<id2>`… in order of appearance.
 * Notary's own randomness (Go map order in a checksum error) is normalised where it shows.
 *
 * Run: ./node_modules/.bin/node --test test/cli/parity.test.ts
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useTarget } from '../support/e2e.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { makeDelegationKey, makePki, makeRootCert, removeDir, tempDir, type DelegationKey, type Pki } from '../support/pki.ts';
import { selectedTargets } from '../support/servers.ts';
import { describe2, normalise, VouchCli, type CliResult } from './support.ts';

const GUN_N = 'example.com/cli-n/app';
const GUN_V = 'example.com/cli-v/app';
const SHA_11 = 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';

interface Step {
  readonly input?: string;
  /** Compare a usage text: vouch's `--output` flag line dropped, flag columns re-spaced. */
  readonly usage?: boolean;
  /** Only the exit code and this many first lines. */
  readonly lines?: number;
}

/** Usage texts differ only where vouch adds `--output`; compare them without it. */
function usageComparable(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.includes('--output string'))
    .map((l) => (/^ {2}(-\w, |    )--/.test(l) ? l.replace(/ {2,}/g, '  ') : l))
    .join('\n');
}

for (const target of selectedTargets()) {
  describe(`vouch prints what notary prints, against ${target}`, { timeout: 600_000 }, () => {
    const env = useTarget(target, 'cli-parity');
    let n: NotaryCli;
    let v: VouchCli;
    let hello = '';
    let custom = '';
    let alice: DelegationKey;

    before(async () => {
      n = new NotaryCli({ url: env.server.url, caFile: env.server.caFile, home: join(env.dir, 'cli-n') });
      v = new VouchCli({ url: env.server.url, caFile: env.server.caFile, home: join(env.dir, 'cli-v') });
      hello = await env.file('hello.txt', 'hello world');
      custom = await env.file('custom.json', '{"a":1,"b":[true,null]}');
      alice = await makeDelegationKey(env.dir, 'alice');
    });

    const comparable = (r: CliResult, gun: string, home: string, o: Step): string => {
      let text = normalise(r.stdout, [
        [gun, '<gun>'],
        [home, '<home>'],
        [/cli-[nv]\//g, 'cli-x/'],
        [/^( {2})vouch /gm, '$1notary '],
        [/(sha256|sha512) checksum for (\S+) did not match: expected [0-9a-f]+/g, '<alg> checksum for $2 did not match'],
      ]);
      if (o.usage === true) text = usageComparable(text);
      if (o.lines !== undefined) text = text.split('\n').slice(0, o.lines).join('\n');
      return text;
    };

    /** Run `args(gun)` with both tools; stdout and exit code must agree. Returns vouch's result. */
    const same = async (args: (gun: string) => string[], o: Step = {}): Promise<CliResult> => {
      const rn = await n.run(args(GUN_N), o.input === undefined ? {} : { input: o.input });
      const rv = await v.run(args(GUN_V), o.input === undefined ? {} : { input: o.input });
      const label = `vouch ${args('GUN').join(' ')}`;
      assert.equal(comparable(rv, GUN_V, v.home, o), comparable(rn, GUN_N, n.home, o), `${describe2(label, rv)}\n${describe2('notary', rn)}`);
      assert.equal(rv.code, rn.code, `${describe2(label, rv)}\n${describe2('notary', rn)}`);
      return rv;
    };

    it('init, add, addhash, status, list before publish, publish, list, lookup', async () => {
      await same((g) => ['init', g]);
      await same((g) => ['status', g]);
      await same((g) => ['add', g, 'v1', hello]);
      await same((g) => ['addhash', g, 'v2', '11', '--sha256', SHA_11]);
      await same((g) => ['add', g, 'c1', hello, '--custom', custom]);
      await same((g) => ['addhash', g, 'v3', '0x0b', '--sha256', SHA_11]);
      await same((g) => ['status', g]);
      await same((g) => ['list', g]);
      await same((g) => ['publish', g]);
      await same((g) => ['list', g]);
      await same((g) => ['lookup', g, 'v1']);
      await same((g) => ['lookup', g, 'nope']);
      await same((g) => ['status', g]);
    });

    it('verify: stdin echoed, mismatches and unknown targets refused, -q quiet', async () => {
      await same((g) => ['verify', g, 'v1'], { input: 'hello world' });
      await same((g) => ['verify', g, 'v1'], { input: 'something else' });
      await same((g) => ['verify', g, 'nope'], { input: 'hello world' });
      await same((g) => ['verify', '-q', g, 'v1'], { input: 'hello world' });
      await same((g) => ['verify', g, 'v1', '-i', hello]);
    });

    it('delegations: add with a certificate and a public key, list, key import, publish into a delegation', async () => {
      await same((g) => ['delegation', 'add', g, 'targets/releases', alice.certFile, '--all-paths']);
      await same((g) => ['delegation', 'add', g, 'targets/alice', alice.pubFile, '--paths', 'a/,b/']);
      await same((g) => ['status', g]);
      await same((g) => ['publish', g]);
      await same((g) => ['delegation', 'list', g]);
      await same(() => ['key', 'import', alice.keyFile]);
      await same(() => ['key', 'list']);
      await same((g) => ['add', g, 'rel1', hello, '-r', 'targets/releases', '-p']);
      await same((g) => ['add', g, 'a/x', hello, '--roles', 'targets/alice', '--publish']);
      await same((g) => ['list', g]);
      await same((g) => ['list', g, '-r', 'targets/releases']);
      await same((g) => ['list', g, '--roles', 'targets/alice,targets/releases']);
    });

    it('witness, reset, remove', async () => {
      await same((g) => ['witness', g, 'targets/releases', 'targets']);
      await same((g) => ['witness', g, 'root']);
      await same((g) => ['status', g]);
      await same((g) => ['reset', g, '-n', '0,7']);
      await same((g) => ['status', g]);
      await same((g) => ['reset', g], { usage: true });
      await same((g) => ['reset', g, '-n', 'x']);
      await same((g) => ['reset', g, '--all']);
      await same((g) => ['remove', g, 'v2']);
      await same((g) => ['remove', g, 'rel1', '-r', 'targets/releases']);
      await same((g) => ['status', g]);
      await same((g) => ['publish', g]);
      await same((g) => ['list', g]);
      await same((g) => ['witness', g, 'targets', '-p']);
      await same((g) => ['remove', g]);
    });

    it('delegation remove and purge, with and without confirmation', async () => {
      await same((g) => ['delegation', 'remove', g, 'targets/alice']);
      await same((g) => ['delegation', 'remove', g, 'targets/alice'], { input: 'no\n' });
      await same((g) => ['delegation', 'remove', g, 'targets/alice'], { input: 'yes\n' });
      await same((g) => ['delegation', 'remove', g, 'targets/alice', '-y']);
      await same((g) => ['delegation', 'remove', g, 'targets/releases', '--paths', 'x/,y/']);
      await same((g) => ['delegation', 'remove', g, 'targets/releases', '--all-paths']);
      await same((g) => ['delegation', 'remove', g, 'releases']);
      await same((g) => ['delegation', 'purge', g, '--key', 'a'.repeat(64), '--key', 'abc']);
      await same((g) => ['delegation', 'purge', g], { usage: true });
      await same((g) => ['status', g]);
      await same((g) => ['reset', g, '-n', '1,2,3,4,5,6']);
      await same((g) => ['publish', g]);
      await same((g) => ['delegation', 'list', g]);
      await same((g) => ['list', g]);
    });

    it('key rotate (server-managed snapshot, targets, root with confirmation) and the refusals', async () => {
      await same((g) => ['key', 'rotate', g, 'snapshot', '-r']);
      await same((g) => ['key', 'rotate', g, 'targets']);
      await same((g) => ['key', 'rotate', g, 'timestamp']);
      await same((g) => ['key', 'rotate', g, 'targets/releases']);
      await same((g) => ['key', 'rotate', g, 'root'], { input: 'no\n' });
      await same((g) => ['key', 'rotate', g, 'root'], { input: 'yes\n' });
      await same((g) => ['key', 'rotate', g], { usage: true });
      await same(() => ['key', 'list']);
      await same((g) => ['list', g]);
      await same((g) => ['add', g, 'after-rotation', hello, '-p']);
      await same((g) => ['lookup', g, 'after-rotation']);
    });

    it('key generate, export, remove, passwd', async () => {
      await same(() => ['key', 'generate', '-r', 'targets/bob']);
      await same(() => ['key', 'generate', 'rsa']);
      await same(() => ['key', 'generate', 'a', 'b'], { usage: true });
      await same(() => ['key', 'list']);
      await same(() => ['key', 'export', '--gun', 'x', '--key', 'y']);
      await same(() => ['key', 'export', 'extra'], { usage: true });
      await same(() => ['key', 'remove', 'abc']);
      await same(() => ['key', 'remove', 'c'.repeat(64)]);
      await same(() => ['key', 'passwd', 'c'.repeat(64)]);
      await same(() => ['key', 'list', 'extra'], { usage: true });
    });

    it('usage errors and flag errors', async () => {
      await same(() => ['list'], { usage: true });
      await same(() => ['init'], { usage: true });
      await same(() => ['add', 'x'], { usage: true });
      await same(() => ['addhash', 'x', 't', '1'], { usage: true });
      await same((g) => ['addhash', g, 't', 'ten', '--sha256', SHA_11]);
      await same((g) => ['addhash', g, 't', '1', '--sha256', 'abc']);
      await same((g) => ['addhash', g, 't', '1', '--sha256', 'z'.repeat(64)]);
      await same(() => ['lookup', 'x'], { usage: true });
      await same(() => ['verify', 'x'], { usage: true });
      await same(() => ['publish'], { usage: true });
      await same(() => ['status'], { usage: true });
      await same(() => ['delete'], { usage: true });
      await same(() => ['witness', 'x'], { usage: true });
      await same(() => ['delegation', 'list'], { usage: true });
      await same(() => ['delegation', 'add', 'x', 'targets/y'], { usage: true });
      await same(() => ['delegation', 'remove', 'x'], { usage: true });
      await same((g) => ['delegation', 'add', g, 'targets/y', '/nonexistent.pem']);
      await same((g) => ['add', g, 'v9', '/nonexistent.txt']);
      await same((g) => ['list', g, '--bogus']);
      await same((g) => ['list', g, '-x']);
      await same((g) => ['list', g, '--roles']);
      await same(() => ['key', 'import', '/nonexistent.pem']);
    });

    it('delete (local, then remote) and what list says afterwards', async () => {
      await same((g) => ['delete', g]);
      await same((g) => ['list', g]);
      await same((g) => ['delete', g, '--remote']);
      await same((g) => ['list', g]);
      await same(() => ['delete', 'example.com/never/was']);
    });

    it('init --rootkey and --rootcert, bad --custom data', async () => {
      await same(() => ['key', 'generate', '-o', 'newroot']);
      await same((g) => ['init', `${g}4`, '--rootkey', 'newroot-key.pem']);
      await same((g) => ['init', `${g}5`, '--rootkey', alice.keyFile]);
      await same((g) => ['init', `${g}5`, '--rootkey', '/nonexistent.pem']);
      const certN = await makeRootCert(env.dir, 'root-n', `${GUN_N}6`);
      const certV = await makeRootCert(env.dir, 'root-v', `${GUN_V}6`);
      const own = (g: string): { keyFile: string; certFile: string } => (g === GUN_N ? certN : certV);
      await same((g) => ['key', 'import', own(g).keyFile, '-r', 'root']);
      await same((g) => ['init', `${g}6`, '--rootcert', own(g).certFile]);
      await same((g) => ['publish', `${g}6`]);
      await same((g) => ['list', `${g}6`]);
      await same((g) => ['init', `${g}7`, '--rootcert', alice.certFile]);
      await same((g) => ['init', `${g}7`, '--rootcert', hello]);
      const bad = await env.file('bad-custom.json', '{bad');
      const empty = await env.file('empty-custom.json', '');
      await same((g) => ['add', `${g}6`, 't1', hello, '--custom', bad]);
      await same((g) => ['addhash', `${g}6`, 't2', '11', '--sha256', SHA_11, '--custom', empty]);
      await same((g) => ['add', `${g}6`, 't3', hello, '--custom', '/nonexistent.json']);
    });

    it('publish of a GUN never initialised initialises it on the spot; init -p', async () => {
      await same((g) => ['publish', `${g}2`]);
      await same((g) => ['list', `${g}2`]);
      await same((g) => ['init', '-p', `${g}3`]);
      await same((g) => ['list', `${g}3`]);
    });
  });
}

describe('vouch and notary against an unreachable server', { timeout: 120_000 }, () => {
  let dir = '';
  let pki: Pki;
  before(async () => {
    dir = await tempDir('cli-offline');
    pki = await makePki(dir);
  });
  after(async () => {
    await removeDir(dir);
  });
  it('offline mode: same error on stdout, the reason logged on stderr', async () => {
    const n = new NotaryCli({ url: 'https://127.0.0.1:1', caFile: pki.caFile, home: join(dir, 'off-n') });
    const v = new VouchCli({ url: 'https://127.0.0.1:1', caFile: pki.caFile, home: join(dir, 'off-v') });
    for (const args of [['list', 'example.com/off/app'], ['lookup', 'example.com/off/app', 'v1'], ['init', 'example.com/off/app']]) {
      const rn = await n.run(args);
      const rv = await v.run(args);
      assert.equal(rv.stdout, rn.stdout, describe2('vouch', rv));
      assert.equal(rv.code, rn.code);
      assert.match(rv.stderr, /level=error msg="could not reach https:\/\/127\.0\.0\.1:1: /);
    }
  });
});
