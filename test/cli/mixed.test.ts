/**
 * One trust dir, three tools (issue: "keys and staged changes written by vouch open in notary and
 * in the docker CLI, and theirs open in vouch"), against each target server:
 *
 * - notary publishes, vouch lists and stages, notary sees vouch's staged changes and vice versa,
 *   vouch publishes both, notary reads again; `vouch key list` and `notary key list` print the
 *   same bytes on the shared dir;
 * - a delegate's key imported by vouch signs when notary publishes, and one imported by notary
 *   signs when vouch publishes;
 * - on docker's trust dir, vouch signs with the keys docker made (docker's passphrase variables
 *   only), and docker signs with a key vouch imported.
 *
 * Run: ./node_modules/.bin/node --test test/cli/mixed.test.ts
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { useTarget } from '../support/e2e.ts';
import { describeResult } from '../support/exec.ts';
import { NotaryCli, parseList } from '../support/notary-cli.ts';
import { makeDelegationKey } from '../support/pki.ts';
import { selectedTargets } from '../support/servers.ts';
import { sha256Hex } from '../support/tuf-sign.ts';
import { describe2, VouchCli, type CliResult } from './support.ts';

async function ok(cli: VouchCli, args: string[], input?: string): Promise<CliResult> {
  const r = await cli.run(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, describe2(`vouch ${args.join(' ')}`, r));
  return r;
}

interface InspectTag {
  SignedTag: string;
  Digest: string;
  Signers: string[];
}

for (const target of selectedTargets()) {
  describe(`a trust dir shared by notary, docker and vouch, against ${target}`, { timeout: 600_000 }, () => {
    const env = useTarget(target, 'cli-mixed');
    const gun = 'example.com/mixed/app';

    it('notary publishes, vouch lists and stages, each sees the other’s staged changes, notary reads what vouch published', async () => {
      const notary = await env.notary('shared');
      const vouch = new VouchCli({ url: notary.url, caFile: notary.caFile, home: notary.home, trustDir: notary.trustDir });
      const hello = await env.file('hello.txt', 'hello world');
      const two = await env.file('two.txt', 'two\n');
      await notary.ok('init', '-p', gun);
      await notary.ok('add', '-p', gun, 'v1', hello);

      const nList = await notary.ok('list', gun);
      assert.equal((await ok(vouch, ['list', gun])).stdout, nList.stdout);

      await ok(vouch, ['add', gun, 'v2', two]);
      await notary.ok('addhash', gun, 'v3', '11', '--sha256', sha256Hex('hello world'));
      const nStatus = await notary.ok('status', gun);
      assert.match(nStatus.stdout, /^0 {4}create {4}targets {4}target {4}v2$/m);
      assert.match(nStatus.stdout, /^1 {4}create {4}targets {4}target {4}v3$/m);
      assert.equal((await ok(vouch, ['status', gun])).stdout, nStatus.stdout);

      await ok(vouch, ['publish', gun]);
      assert.equal((await notary.ok('status', gun)).stdout, `No unpublished changes for ${gun}\n`);
      const after = await notary.ok('list', gun);
      assert.deepEqual(
        parseList(after.stdout).map((r) => r[0]),
        ['v1', 'v2', 'v3'],
      );
      assert.equal((await ok(vouch, ['list', gun])).stdout, after.stdout);
      assert.equal((await ok(vouch, ['lookup', gun, 'v2'])).stdout, (await notary.ok('lookup', gun, 'v2')).stdout);

      const nKeys = await notary.ok('key', 'list');
      assert.equal((await ok(vouch, ['key', 'list'])).stdout, nKeys.stdout);
      const json = JSON.parse((await ok(vouch, ['key', 'list', '--output', 'json'])).stdout) as { role: string; gun: string; keyId: string }[];
      assert.deepEqual(
        json.map((k) => `${k.role} ${k.gun} ${k.keyId}`),
        parseList(nKeys.stdout.replace(/^ROLE.*$/m, '')).map((r) => (r.length === 4 ? `${r[0]} ${r[1]} ${r[2]}` : `${r[0]}  ${r[1]}`)),
      );

      // notary removes what vouch added; vouch sees it
      await notary.ok('remove', '-p', gun, 'v2');
      assert.equal((await ok(vouch, ['list', gun])).stdout, (await notary.ok('list', gun)).stdout);
    });

    it('a delegate key imported by vouch signs for notary, one imported by notary signs for vouch', async () => {
      const owner = await env.notary('owner');
      const alice = await makeDelegationKey(env.dir, 'alice-mixed');
      const bob = await makeDelegationKey(env.dir, 'bob-mixed');
      const file = await env.file('rel.txt', 'release\n');
      const g = 'example.com/mixed/delegated';
      await owner.ok('init', '-p', g);
      // delegates hold no snapshot key: let the server sign snapshots
      await owner.ok('key', 'rotate', g, 'snapshot', '-r');
      await owner.ok('delegation', 'add', '-p', g, 'targets/releases', alice.certFile, '--all-paths');
      await owner.ok('delegation', 'add', '-p', g, 'targets/bob', bob.pubFile, '--all-paths');

      // alice: vouch imports her key, notary publishes with it
      const aliceNotary = await env.notary('alice');
      const aliceVouch = new VouchCli({ url: aliceNotary.url, caFile: aliceNotary.caFile, home: aliceNotary.home, trustDir: aliceNotary.trustDir });
      await ok(aliceVouch, ['key', 'import', alice.keyFile, '--role', 'targets/releases']);
      const imported = await aliceNotary.ok('key', 'list');
      assert.match(imported.stdout, /^targets\/releases {2,}[0-9a-f]{64} /m);
      const r1 = await aliceNotary.ok('add', '-p', g, 'rel1', file, '-r', 'targets/releases');
      assert.match(r1.stdout, /Successfully published changes/);

      // bob: notary imports his key, vouch publishes with it
      const bobNotary = await env.notary('bob');
      const bobVouch = new VouchCli({ url: bobNotary.url, caFile: bobNotary.caFile, home: bobNotary.home, trustDir: bobNotary.trustDir });
      await bobNotary.ok('key', 'import', bob.keyFile, '--role', 'targets/bob');
      assert.equal((await ok(bobVouch, ['key', 'list'])).stdout, (await bobNotary.ok('key', 'list')).stdout);
      const r2 = await ok(bobVouch, ['add', '-p', g, 'rel2', file, '-r', 'targets/bob']);
      assert.match(r2.stdout, /Auto-publishing changes to example.com\/mixed\/delegated\nSuccessfully published changes for repository example.com\/mixed\/delegated\n$/);

      const list = await owner.ok('list', g);
      assert.deepEqual(parseList(list.stdout).map((r) => [r[0], r[3]]), [
        ['rel1', 'targets/releases'],
        ['rel2', 'targets/bob'],
      ]);
      const owners = new VouchCli({ url: owner.url, caFile: owner.caFile, home: owner.home, trustDir: owner.trustDir });
      assert.equal((await ok(owners, ['list', g])).stdout, list.stdout);
      assert.equal((await ok(owners, ['delegation', 'list', g])).stdout, (await owner.ok('delegation', 'list', g)).stdout);
    });

    it('docker’s trust dir: vouch signs with docker’s keys, docker signs with a key vouch imported', async () => {
      const repo = 'registry.mixed.test/app/img';
      const docker = await env.docker('docker-user');
      const keysDir = await env.home('docker-keys');
      await docker.ok('trust', 'key', 'generate', 'alice', '--dir', keysDir);
      await docker.ok('trust', 'signer', 'add', '--key', join(keysDir, 'alice.pub'), 'alice', repo);

      // vouch on docker's dir with docker's passphrase variables only
      const vouch = new VouchCli({ url: docker.url, caFile: join(docker.configDir, 'tls', new URL(docker.url).host, 'ca.crt'), home: docker.home, trustDir: docker.trustDir });
      const dockerEnv = { ...docker.env(), HOME: docker.home };
      const notary = new NotaryCli({ url: docker.url, caFile: vouch.caFile, home: docker.home, trustDir: docker.trustDir });
      const keyList = await vouch.run(['key', 'list'], { env: dockerEnv });
      assert.equal(keyList.code, 0, describe2('vouch key list', keyList));
      assert.equal(keyList.stdout, (await notary.ok('key', 'list')).stdout);
      assert.match(keyList.stdout, /^alice {2,}[0-9a-f]{64} /m);

      const manifest = await env.file('manifest.json', '{"manifest":"mixed"}');
      const digest = sha256Hex('{"manifest":"mixed"}');
      let r = await vouch.run(['addhash', '-p', repo, 'v1', '20', '--sha256', digest], { env: dockerEnv });
      assert.equal(r.code, 0, describe2('vouch addhash -p (targets key made by docker)', r));
      r = await vouch.run(['add', '-p', repo, 'v2', manifest, '-r', 'targets/releases', '-r', 'targets/alice'], { env: dockerEnv });
      assert.equal(r.code, 0, describe2('vouch add -p into targets/releases and targets/alice (alice key made by docker)', r));

      let inspect = await docker.ok('trust', 'inspect', repo);
      let tags = (JSON.parse(inspect.stdout) as { SignedTags: InspectTag[] }[])[0]?.SignedTags ?? [];
      assert.deepEqual(
        tags.map((t) => [t.SignedTag, t.Digest, t.Signers]),
        [
          ['v1', digest, ['Repo Admin']],
          ['v2', digest, ['alice']],
        ],
        inspect.stdout,
      );

      // a key vouch imports into docker's dir signs when docker signs
      const bob = await makeDelegationKey(env.dir, 'bob-docker');
      r = await vouch.run(['key', 'import', bob.keyFile, '--role', 'bob'], { env: dockerEnv });
      assert.equal(r.code, 0, describe2('vouch key import', r));
      await docker.ok('trust', 'signer', 'add', '--key', bob.pubFile, 'bob', repo);
      const sign = await docker.run(['trust', 'sign', `${repo}:v1`]);
      assert.equal(sign.code, 0, describeResult(['docker', 'trust', 'sign', `${repo}:v1`], sign));
      inspect = await docker.ok('trust', 'inspect', repo);
      tags = (JSON.parse(inspect.stdout) as { SignedTags: InspectTag[] }[])[0]?.SignedTags ?? [];
      // docker signs with every delegation key it holds: alice's (its own) and bob's (imported by vouch)
      assert.deepEqual(tags.find((t) => t.SignedTag === 'v1')?.Signers, ['alice', 'bob'], inspect.stdout);
    });
  });
}
