/**
 * The vouch write path against real trust servers, checked with the real notary 0.7 CLI
 * (spec §10.4, §11): repositories vouch initialises and publishes are listed, looked up and
 * verified by notary; vouch adds targets to, rotates keys of and publishes changes staged by
 * notary in a repository notary made, sharing notary's trust dir (keys, cache, changelist).
 *
 * Servers: VOUCH_E2E_TARGETS (default notary-server, vouch memory and sqlite).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { sha256, toHex } from '../../src/canonical/index.ts';
import { FileMetadataCache } from '../../src/client/cache.ts';
import { Repository } from '../../src/client/repo.ts';
import { Updater } from '../../src/client/updater.ts';
import { connectTrustServer } from '../../src/http/remote-store.ts';
import { FileKeyStore, envPassphraseRetriever } from '../../src/keystore/index.ts';
import { useTarget } from '../support/e2e.ts';
import { PASSPHRASE, parseList, parseTable, type NotaryCli } from '../support/notary-cli.ts';
import { makeDelegationKey } from '../support/pki.ts';
import { selectedTargets } from '../support/servers.ts';
import { decodePublicKeyPem } from '../../src/keystore/index.ts';

const enc = new TextEncoder();

function meta(content: string): { length: number; hashes: Map<string, Uint8Array> } {
  const b = enc.encode(content);
  return { length: b.length, hashes: new Map([['sha256', sha256(b)]]) };
}

for (const target of selectedTargets()) {
  describe(`vouch write path against ${target}, checked by the notary CLI`, { timeout: 240_000 }, () => {
    const env = useTarget(target, 'client-write');

    /** A vouch Repository over a trust dir (shared with a notary CLI when given its dir). */
    async function vouch(trustDir: string, gun: string): Promise<Repository> {
      const { remote, online } = await connectTrustServer({ serverUrl: env.server.url, gun, access: 'admin', tls: { rootCA: env.server.caFile } });
      assert.ok(online);
      const passphrases = {
        NOTARY_ROOT_PASSPHRASE: PASSPHRASE,
        NOTARY_TARGETS_PASSPHRASE: PASSPHRASE,
        NOTARY_SNAPSHOT_PASSPHRASE: PASSPHRASE,
        NOTARY_DELEGATION_PASSPHRASE: PASSPHRASE,
      };
      const keys = await FileKeyStore.open(trustDir, { retriever: envPassphraseRetriever(passphrases) });
      const cache = new FileMetadataCache(trustDir, gun);
      const updater = new Updater({ gun, remote, cache });
      return new Repository({ gun, trustDir, remote, keys, cache, update: (forWrite) => updater.update({ forWrite }) });
    }

    async function list(cli: NotaryCli, gun: string, ...roles: string[]): Promise<string[][]> {
      return parseList((await cli.ok('list', gun, ...roles.flatMap((r) => ['-r', r]))).stdout);
    }

    it('a repository vouch initialised and published is listed, looked up and verified by notary', async () => {
      const gun = `example.com/vouch-made/${target}`;
      const owner = await env.notary('vouch-owner');
      const repo = await vouch(owner.trustDir, gun);
      const init = await repo.initialize();
      assert.equal(init.createdRootKey, true);
      const alice = await makeDelegationKey(await env.home('alice'), 'alice');
      const alicePub = decodePublicKeyPem(await readFile(alice.pubFile, 'utf8')).key;
      await repo.addTarget({ name: 'v1', ...meta('hello world') });
      await repo.addDelegation('targets/releases', [alicePub], ['']);
      const first = await repo.publish();
      assert.deepEqual([...first.files.keys()], ['root', 'targets', 'snapshot']);

      const reader = await env.notary('reader');
      assert.deepEqual(await list(reader, gun), [['v1', toHex(sha256(enc.encode('hello world'))), '11', 'targets']]);
      const lookup = await reader.ok('lookup', gun, 'v1');
      assert.equal(lookup.stdout.trim(), `v1 sha256:${toHex(sha256(enc.encode('hello world')))} 11`);
      const verified = await reader.okWithInput('hello world', 'verify', gun, 'v1');
      assert.equal(verified.stdout, 'hello world');
      const bad = await reader.run(['verify', gun, 'v1'], { input: 'tampered' });
      assert.notEqual(bad.code, 0);
      const delegations = await reader.ok('delegation', 'list', gun);
      assert.match(delegations.stdout, /targets\/releases\s+"" <all paths>/);

      // the owner's own notary CLI reads the cache and keys vouch wrote and publishes on top
      const file = await env.file('v2.txt', 'second');
      await owner.ok('add', '-p', gun, 'v2', file);
      assert.deepEqual((await list(reader, gun)).map((r) => r[0]), ['v1', 'v2']);
    });

    it('vouch adds a target to a repository notary made, sharing its trust dir', async () => {
      const gun = `example.com/notary-made/${target}`;
      const cli = await env.notary('notary-owner');
      await cli.ok('init', '-p', gun);
      const file = await env.file('n1.txt', 'from notary');
      await cli.ok('add', '-p', gun, 'n1', file);
      const repo = await vouch(cli.trustDir, gun);
      await repo.addTarget({ name: 'from-vouch', ...meta('from vouch') });
      const out = await repo.publish();
      assert.equal(out.initialPublish, false);
      assert.deepEqual([...out.files.keys()], ['targets', 'snapshot']);
      const rows = await list(cli, gun);
      assert.deepEqual(rows.map((r) => r[0]), ['from-vouch', 'n1']);
      assert.deepEqual(rows[0], ['from-vouch', toHex(sha256(enc.encode('from vouch'))), '10', 'targets']);
    });

    it('changes staged by one tool are published by the other', async () => {
      const gun = `example.com/staged/${target}`;
      const cli = await env.notary('stager');
      await cli.ok('init', '-p', gun);
      const repo = await vouch(cli.trustDir, gun);
      const keyDir = await env.home('stage-keys');
      const alice = await makeDelegationKey(keyDir, 'alice');
      const bob = await makeDelegationKey(keyDir, 'bob');
      const alicePub = decodePublicKeyPem(await readFile(alice.pubFile, 'utf8')).key;
      // vouch stages, notary publishes
      await repo.addTarget({ name: 'staged-by-vouch', ...meta('a') });
      await repo.addDelegation('targets/alice', [alicePub], ['a/', 'shared/']);
      await cli.ok('publish', gun);
      // notary stages, vouch publishes
      const file = await env.file('b.txt', 'b');
      await cli.ok('add', gun, 'staged-by-notary', file);
      await cli.ok('delegation', 'add', gun, 'targets/bob', bob.certFile, '--paths', 'b/');
      await cli.ok('delegation', 'remove', gun, 'targets/alice', '--paths', 'shared/');
      await repo.publish();
      assert.equal((await cli.ok('status', gun)).stdout.trim(), `No unpublished changes for ${gun}`);
      assert.deepEqual((await list(cli, gun)).map((r) => r[0]), ['staged-by-notary', 'staged-by-vouch']);
      const delegations = parseTable((await cli.ok('delegation', 'list', gun)).stdout).filter((r) => r[0]?.startsWith('targets/'));
      assert.deepEqual(
        delegations.map((r) => [r[0], r[1]]),
        [
          ['targets/alice', 'a/'],
          ['targets/bob', 'b/'],
        ],
      );
    });

    it('key rotations by vouch are followed by notary (root rotation, server-managed snapshot)', async () => {
      const gun = `example.com/rotated/${target}`;
      const cli = await env.notary('rotator');
      await cli.ok('init', '-p', gun);
      const file = await env.file('r.txt', 'r');
      await cli.ok('add', '-p', gun, 'r1', file);
      const reader = await env.notary('follower');
      assert.deepEqual((await list(reader, gun)).map((r) => r[0]), ['r1']);

      const repo = await vouch(cli.trustDir, gun);
      await repo.rotateKey('root');
      await repo.rotateKey('snapshot', { serverManaged: true });
      await repo.rotateKey('targets');
      // the follower trusted the first root: it must accept the rotation
      assert.deepEqual((await list(reader, gun)).map((r) => r[0]), ['r1']);
      // notary publishes with the rotated keys (server signs the snapshot now)
      await cli.ok('add', '-p', gun, 'r2', file);
      assert.deepEqual((await list(reader, gun)).map((r) => r[0]), ['r1', 'r2']);
    });
  });
}
