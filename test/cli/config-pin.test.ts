/**
 * The client config file shared with notary (spec §9.5) and vouch's first-contact report with
 * `vouch trust pin` (issue item 4), against each target server:
 *
 * - `-c FILE` with `remote_server.url`, a `root_ca` relative to the file and a `trust_dir`
 *   relative to the working directory works without any flag, in vouch as in notary;
 * - the first contact with a GUN prints the root key ID and certificate fingerprint on standard
 *   error and the pin command; after `vouch trust pin GUN KEYID` a fresh trust dir (a new CI
 *   machine) accepts that GUN's root and refuses any other — in vouch and in notary alike.
 *
 * Run: ./node_modules/.bin/node --test test/cli/config-pin.test.ts
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { useTarget } from '../support/e2e.ts';
import { runCommand, type RunResult } from '../support/exec.ts';
import { getMeta } from '../support/http.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { selectedTargets } from '../support/servers.ts';
import { parseEnvelope } from '../support/tuf-sign.ts';
import { describe2, VouchCli, type CliResult } from './support.ts';

/** notary with only the given arguments (no -s/-d/--tlscacert), from the CLI's home. */
function notaryBare(cli: NotaryCli, args: string[]): Promise<RunResult> {
  return runCommand('notary', args, { env: cli.env(), cwd: cli.home, timeoutMs: 60_000 });
}

async function ok(cli: VouchCli, args: string[], bare = false): Promise<CliResult> {
  const r = await cli.run(args, { bare });
  assert.equal(r.code, 0, describe2(`vouch ${args.join(' ')}`, r));
  return r;
}

for (const target of selectedTargets()) {
  describe(`client config and trust pinning, against ${target}`, { timeout: 300_000 }, () => {
    const env = useTarget(target, 'cli-config');

    it('-c: server URL, root CA relative to the config file, trust_dir relative to the working dir (JSON and YAML)', async () => {
      const home = await env.home('config-user');
      await mkdir(join(home, 'cfg', 'certs'), { recursive: true });
      await copyFile(env.server.caFile, join(home, 'cfg', 'certs', 'ca.crt'));
      await writeFile(join(home, 'cfg', 'client.json'), JSON.stringify({ trust_dir: 'td', remote_server: { url: env.server.url, root_ca: 'certs/ca.crt' } }));
      await writeFile(join(home, 'cfg', 'client.yaml'), `trust_dir: td\nremote_server:\n  url: ${env.server.url}\n  root_ca: certs/ca.crt\n`);
      const notary = new NotaryCli({ url: env.server.url, caFile: env.server.caFile, home });
      const vouch = new VouchCli({ url: env.server.url, caFile: env.server.caFile, home });
      const gun = 'example.com/config/app';
      const hello = await env.file('config-hello.txt', 'hello');

      await ok(vouch, ['-c', 'cfg/client.json', 'init', '-p', gun], true);
      await ok(vouch, ['-c', 'cfg/client.yaml', 'add', '-p', gun, 'v1', hello], true);
      assert.ok((await stat(join(home, 'td', 'tuf', 'example.com', 'config', 'app', 'metadata', 'root.json'))).isFile());
      const rn = await notaryBare(notary, ['-c', 'cfg/client.json', 'list', gun]);
      const rv = await ok(vouch, ['-c', 'cfg/client.json', 'list', gun], true);
      assert.equal(rn.code, 0);
      assert.equal(rv.stdout, rn.stdout);
      assert.match(rv.stdout, /^v1 {4}/m);
      // notary sees vouch's keys in the same trust dir
      assert.equal((await ok(vouch, ['-c', 'cfg/client.yaml', 'key', 'list'], true)).stdout, (await notaryBare(notary, ['-c', 'cfg/client.yaml', 'key', 'list'])).stdout);
    });

    it('first contact is reported, trust pin is written, and a fresh trust dir refuses any other root', async () => {
      const owner = await env.notary('pin-owner');
      const pinned = 'example.com/pin/app';
      const other = 'example.com/pin/other';
      await owner.ok('init', '-p', pinned);
      await owner.ok('init', '-p', other);
      const root = parseEnvelope((await getMeta(env.server, pinned, 'root')).body).signed as { roles: { root: { keyids: string[] } }; keys: Record<string, { keyval: { public: string } }> };
      const rootKeyId = root.roles.root.keyids[0] as string;
      const certDer = Buffer.from(
        Buffer.from(root.keys[rootKeyId]?.keyval.public ?? '', 'base64')
          .toString()
          .replace(/-----[^-]+-----/g, '')
          .replace(/\s+/g, ''),
        'base64',
      );
      const fingerprint = createHash('sha256').update(certDer).digest('hex');

      // the default config file, $HOME/.notary/config.json, does not exist yet: trust pin creates it
      const home = await env.home('pin-user');
      const config = join(home, '.notary', 'config.json');
      const machine = (name: string): VouchCli => new VouchCli({ url: env.server.url, caFile: env.server.caFile, home, trustDir: join(home, name) });

      const first = await ok(machine('laptop'), ['list', pinned]);
      assert.match(first.stderr, new RegExp(`^First contact with ${pinned}: root \\(version 1\\) trusted on first use\\.$`, 'm'));
      assert.match(first.stderr, new RegExp(`^  root key ID: +${rootKeyId}$`, 'm'));
      assert.match(first.stderr, new RegExp(`^  certificate SHA-256: +${fingerprint}$`, 'm'));
      assert.match(first.stderr, new RegExp(`^  vouch trust pin ${pinned} ${rootKeyId}$`, 'm'));
      // the second contact is not a first contact
      assert.equal((await ok(machine('laptop'), ['list', pinned])).stderr, '');

      const pin = await ok(machine('laptop'), ['trust', 'pin', pinned, rootKeyId]);
      assert.match(pin.stdout, new RegExp(`^Pinned root key ${rootKeyId} for ${pinned} in ${config} \\(created\\)$`, 'm'));
      assert.deepEqual(JSON.parse(await readFile(config, 'utf8')), { trust_pinning: { certs: { [pinned]: [rootKeyId] } } });

      const ci = await ok(machine('ci-1'), ['list', pinned]);
      assert.match(ci.stderr, /matches the pinned key/);
      assert.doesNotMatch(ci.stderr, /vouch trust pin/);

      // pin the other GUN to a key that is not its root: vouch and notary refuse it on first contact
      await ok(machine('laptop'), ['trust', 'pin', other, rootKeyId]);
      const refused = await machine('ci-2').run(['list', other]);
      assert.equal(refused.code, 1, describe2('vouch list of a GUN pinned to another key', refused));
      assert.equal(refused.stdout, '\n* fatal: could not validate the path to a trusted root: unable to match any certificates to trust_pinning config\n');
      const notary = new NotaryCli({ url: env.server.url, caFile: env.server.caFile, home, trustDir: join(home, 'ci-3') });
      const notaryRefused = await notary.run(['list', other]);
      assert.equal(notaryRefused.code, 1);
      assert.equal(notaryRefused.stdout, refused.stdout);
    });

    it('trust pin takes the canonical ID key list shows and pins the root.json key ID instead', async () => {
      const owner = await env.notary('pin-canonical');
      const gun = 'example.com/pin/canonical';
      await owner.ok('init', '-p', gun);
      const canonical = /^root {2,}([0-9a-f]{64}) /m.exec((await owner.ok('key', 'list')).stdout)?.[1] as string;
      const root = parseEnvelope((await getMeta(env.server, gun, 'root')).body).signed as { roles: { root: { keyids: string[] } } };
      const tufId = root.roles.root.keyids[0] as string;
      assert.notEqual(canonical, tufId);
      const vouch = new VouchCli({ url: owner.url, caFile: owner.caFile, home: owner.home, trustDir: owner.trustDir });
      const config = join(owner.home, 'pins.yaml');
      await writeFile(config, '# pins for CI\ntrust_pinning:\n  disable_tofu: false\n');
      const r = await ok(vouch, ['-c', config, 'trust', 'pin', gun, canonical]);
      assert.match(r.stderr, new RegExp(`${canonical} is the canonical ID of root key ${tufId}`));
      assert.match(r.stdout, new RegExp(`^Pinned root key ${tufId} for ${gun}`, 'm'));
      const text = await readFile(config, 'utf8');
      assert.match(text, /^# pins for CI\n/);
      assert.match(text, new RegExp(`${gun}:\\n\\s+- ${tufId}`));
      const again = await ok(vouch, ['-c', config, 'trust', 'pin', gun, tufId]);
      assert.match(again.stdout, /was already pinned/);
      // an explicit -c file that does not exist yet is created (other commands refuse it, as notary does)
      const created = join(owner.home, 'new', 'pins.json');
      const missing = await vouch.run(['-c', created, 'list', gun]);
      assert.equal(missing.stdout, `\n* fatal: error opening config file: open ${created}: no such file or directory\n`);
      await ok(vouch, ['-c', created, 'trust', 'pin', gun, tufId]);
      assert.deepEqual(JSON.parse(await readFile(created, 'utf8')), { trust_pinning: { certs: { [gun]: [tufId] } } });
      assert.equal((await stat(created)).mode & 0o777, 0o600);
    });
  });
}
