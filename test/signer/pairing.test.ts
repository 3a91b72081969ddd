/**
 * Trust servers and signers paired across implementations (spec §5.5 `trust_service.type:
 * remote`, §8): the real notary-server signing through `vouch signer`, `vouch server` signing
 * through the real notary-signer, and vouch with vouch. Through each pair the real notary CLI
 * initialises a repository, publishes a target and lists it, and a second client with a fresh
 * trust dir lists it too. The server-managed keys must really live in the signer: the
 * timestamp key the server hands out is an ecdsa key (the local signers make ed25519) that the
 * signer reports holding, with role `timestamp`.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { keyFromJSON, tufKeyId } from '../../src/crypto/index.ts';
import { NotaryCli, parseList } from '../support/notary-cli.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { startServer, type ServerHandle, type TargetName } from '../support/servers.ts';
import { makeSignerPki, remoteFor, remoteTrustService, startSigner, type SignerHandle, type SignerKind, type SignerPki } from './support.ts';

function getJson(url: string, ca: Buffer): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const PAIRS: readonly { server: TargetName; signer: SignerKind; backend: 'memory' | 'sqlite3' }[] = [
  { server: 'notary', signer: 'vouch', backend: 'sqlite3' },
  { server: 'notary', signer: 'vouch', backend: 'memory' },
  { server: 'vouch-memory', signer: 'notary', backend: 'memory' },
  { server: 'vouch-sqlite', signer: 'vouch', backend: 'sqlite3' },
];

for (const pair of PAIRS) {
  const label = `${pair.server === 'notary' ? 'notary-server' : `vouch server (${pair.server})`} + ${pair.signer === 'notary' ? 'notary-signer' : `vouch signer (${pair.backend})`}`;
  describe(label, { timeout: 180_000 }, () => {
    let dir: string;
    let pki: SignerPki;
    let signer: SignerHandle | undefined;
    let server: ServerHandle | undefined;
    let homes = 0;

    before(async () => {
      dir = await tempDir(`pair-${pair.server}-${pair.signer}`);
      pki = await makeSignerPki(dir);
      signer = await startSigner(pair.signer, { dir, pki, backend: pair.backend });
      server = await startServer(pair.server, { pki, dir, extraConfig: { trust_service: remoteTrustService(pki, signer.port) } });
    });
    afterEach((t) => {
      if ((t as { passed?: boolean }).passed === false) {
        process.stderr.write(`\n--- server output ---\n${server?.output().slice(-4000)}\n--- signer output ---\n${signer?.output().slice(-4000)}\n`);
      }
    });
    after(async () => {
      await server?.stop();
      await signer?.stop();
      if (process.env['VOUCH_E2E_KEEP'] !== '1') await removeDir(dir);
    });

    const cli = (name: string): NotaryCli => {
      if (server === undefined) throw new Error('server not started');
      return new NotaryCli({ url: server.url, caFile: pki.caFile, home: `${dir}/${name}-${++homes}` });
    };

    it('notary init -p, add -p and list go through the signer; a fresh client lists the same', async () => {
      const gun = 'example.com/pair/app';
      const owner = cli('owner');
      await owner.ok('init', '-p', gun);
      const file = `${dir}/payload.txt`;
      await import('node:fs/promises').then((fs) => fs.writeFile(file, 'hello from the pairing test\n'));
      await owner.ok('add', '-p', gun, 'v1', file);
      await owner.ok('add', '-p', gun, 'v2', file);
      const listed = parseList((await owner.ok('list', gun)).stdout);
      assert.deepEqual(listed.map((r) => r[0]).sort(), ['v1', 'v2']);

      const reader = cli('reader');
      const fresh = parseList((await reader.ok('list', gun)).stdout);
      assert.deepEqual(fresh.map((r) => [r[0], r[1], r[2]]).sort(), listed.map((r) => [r[0], r[1], r[2]]).sort());
    });

    it("the server's timestamp key is an ecdsa key held by the signer with role timestamp", async () => {
      const gun = 'example.com/pair/app';
      const ca = await readFile(pki.caFile);
      const res = await getJson(`${server!.url}/v2/${gun}/_trust/tuf/timestamp.key`, ca);
      assert.equal(res.status, 200);
      const key = keyFromJSON(res.body);
      assert.equal(key.keytype, 'ecdsa');
      const remote = remoteFor(pki, signer!.port);
      try {
        const held = await remote.getKey(tufKeyId(key));
        assert.ok(held !== null, 'the signer holds the timestamp key');
        assert.equal(held.role, 'timestamp');
        assert.deepEqual(new Uint8Array(held.key.public), new Uint8Array(key.public));
      } finally {
        remote.close();
      }
    });

    it('a client-side key rotation to a server-managed snapshot key is signed by the signer', async () => {
      const gun = 'example.com/pair/rotated';
      const owner = cli('rotator');
      await owner.ok('init', '-p', gun);
      await owner.ok('key', 'rotate', gun, 'snapshot', '-r');
      const file = `${dir}/payload2.txt`;
      await import('node:fs/promises').then((fs) => fs.writeFile(file, 'server-managed snapshot\n'));
      await owner.ok('add', '-p', gun, 'v1', file);
      const fresh = parseList((await cli('reader2').ok('list', gun)).stdout);
      assert.deepEqual(fresh.map((r) => r[0]), ['v1']);
    });
  });
}
