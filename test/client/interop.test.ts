/**
 * Interop: the vouch updater reads a repository published by the real notary 0.7 CLI, through
 * each target server (the real notary-server and `vouch server`; VOUCH_E2E_TARGETS selects).
 * It must see exactly what `notary list` shows, share the cache layout with the notary CLI in
 * both directions, and follow a root rotation done with `notary key rotate … root`.
 *
 * Run: ./node_modules/.bin/node --test test/client/interop.test.ts
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileMetadataCache } from '../../src/client/cache.ts';
import type { FirstContactInfo } from '../../src/client/pinning.ts';
import type { TrustedRepo } from '../../src/client/types.ts';
import { Updater } from '../../src/client/updater.ts';
import { getDockerTarget, listTargets } from '../../src/client/walk.ts';
import { connectTrustServer, OfflineRemoteStore } from '../../src/http/remote-store.ts';
import { useTarget } from '../support/e2e.ts';
import { NotaryCli, parseList } from '../support/notary-cli.ts';
import { makeDelegationKey } from '../support/pki.ts';
import { selectedTargets } from '../support/servers.ts';

/** `notary list` rows as [name, sha256 hex, size, role], sorted by name. */
function rowsOf(repo: TrustedRepo): string[][] {
  return listTargets(repo, ['targets']).map((t) => [t.name, Buffer.from(t.hashes.get('sha256') as Uint8Array).toString('hex'), String(t.length), t.role]);
}

function sortRows(rows: string[][]): string[][] {
  return [...rows].sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
}

for (const target of selectedTargets()) {
  describe(`vouch updater reads what the notary CLI published, through ${target}`, { timeout: 300_000 }, () => {
    const env = useTarget(target, 'client-interop');
    const gun = 'example.com/client/interop';
    let owner: NotaryCli;
    let vouchTrustDir = '';
    const firstContacts: FirstContactInfo[] = [];

    const update = async (trustDir: string, o: { offline?: boolean } = {}): Promise<TrustedRepo> => {
      const remote = o.offline === true
        ? new OfflineRemoteStore()
        : (await connectTrustServer({ serverUrl: env.server.url, gun, access: 'readOnly', tls: { rootCA: env.server.caFile } })).remote;
      return new Updater({ gun, remote, cache: new FileMetadataCache(trustDir, gun), onFirstContact: (i) => firstContacts.push(i) }).update();
    };

    it('publishes with the notary CLI: targets, a delegation with a target, a path-restricted delegation', async () => {
      owner = await env.notary('owner');
      const hello = await env.file('hello.txt', 'hello world');
      const rel = await env.file('release.txt', 'release 2\n');
      const alice = await makeDelegationKey(env.dir, 'alice');
      const carol = await makeDelegationKey(env.dir, 'carol');
      await owner.ok('init', '-p', gun);
      await owner.ok('add', '-p', gun, 'v1', hello);
      await owner.ok('delegation', 'add', '-p', gun, 'targets/releases', alice.pubFile, '--all-paths');
      await owner.ok('delegation', 'add', '-p', gun, 'targets/qa', carol.pubFile, '--paths', 'qa/');
      await owner.ok('key', 'import', alice.keyFile, '--role', 'targets/releases');
      await owner.ok('add', '-p', gun, 'v2', rel, '--roles', 'targets/releases');
    });

    it('first contact: the updater sees exactly what `notary list` shows and reports the root it trusted', async () => {
      vouchTrustDir = await env.home('vouch-reader');
      const repo = await update(vouchTrustDir);
      const listed = parseList((await owner.ok('list', gun)).stdout);
      assert.deepEqual(rowsOf(repo), sortRows(listed));
      assert.equal(getDockerTarget(repo, 'v2').role, 'targets/releases');
      // targets/qa has no file yet (notary creates a delegation's metadata with its first target),
      // so the snapshot does not list it and there is nothing to load
      assert.deepEqual([...repo.targets.keys()].sort(), ['targets', 'targets/releases']);
      assert.equal(repo.snapshot.signed.meta.has('targets/qa'), false);
      assert.equal(firstContacts.length, 1);
      assert.equal(firstContacts[0]?.trustedBy, 'tofu');
      assert.deepEqual(firstContacts[0]?.keys.map((k) => k.keyId), repo.root.signed.roles.get('root')?.keyids);
    });

    it("reads the notary CLI's own cache offline (same layout)", async () => {
      await owner.ok('list', gun); // the CLI caches what it downloaded
      const repo = await update(owner.trustDir, { offline: true });
      assert.deepEqual(rowsOf(repo), sortRows(parseList((await owner.ok('list', gun)).stdout)));
    });

    it('the notary CLI reads the cache vouch wrote, offline', async () => {
      const offlineCli = new NotaryCli({ url: 'https://127.0.0.1:1', caFile: env.server.caFile, home: await env.home('cli-on-vouch-cache'), trustDir: vouchTrustDir });
      await mkdir(join(vouchTrustDir, 'private'), { recursive: true, mode: 0o700 });
      const r = await offlineCli.ok('list', gun);
      assert.deepEqual(sortRows(parseList(r.stdout)), sortRows(parseList((await owner.ok('list', gun)).stdout)));
    });

    it('follows a root rotation made with `notary key rotate … root` and a later publish', async () => {
      await owner.okWithInput('yes\n', 'key', 'rotate', gun, 'root');
      const hello = await env.file('after.txt', 'after rotation');
      await owner.ok('add', '-p', gun, 'after-rotate', hello);
      const repo = await update(vouchTrustDir);
      assert.equal(repo.root.signed.version, 2);
      assert.ok(listTargets(repo).some((t) => t.name === 'after-rotate'));
      const cached = await new FileMetadataCache(vouchTrustDir, gun).get('root');
      assert.deepEqual(cached, repo.root.bytes);
      assert.equal(firstContacts.length, 1);
    });
  });
}
