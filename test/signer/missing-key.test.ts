/**
 * What the trust server makes of the signer's answers (spec §6.2 step 5), and RemoteCryptoService
 * when the signer is gone.
 *
 * A memory signer that restarts forgets the server's timestamp key; the next publish must fail.
 * - notary-server turns the signer's NOT_FOUND into ErrValidation "rpc error: code = NotFound …";
 * - vouch server (deliberately) treats NOT_FOUND as "key not held", so the client sees the same
 *   ErrBadRoot "no  timestamp keys exist on the server" as with its local signer — and the fix
 *   notary documents for that state (`key rotate GUN timestamp -r`) works through the signer.
 * With the signer down, RemoteCryptoService never mistakes the outage for a missing key
 * (UNAVAILABLE errors, not null), and vouch server's health check reports it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { KeyNotFoundError } from '../../src/errors/index.ts';
import { RemoteSignerError } from '../../src/signer/index.ts';
import { describeResult } from '../support/exec.ts';
import { NotaryCli, parseList } from '../support/notary-cli.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { startServer, type ServerHandle, type TargetName } from '../support/servers.ts';
import { makeSignerPki, remoteFor, remoteTrustService, startSigner, type SignerHandle, type SignerPki } from './support.ts';

function healthStatus(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/_notary_server/health`, { ca, timeout: 20_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Retry `fn` until it resolves, for at most 10 s. */
async function eventually(fn: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fn();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const EXPECTED: Record<'notary' | 'vouch-memory', RegExp> = {
  notary: /rpc error: code = NotFound desc = key [0-9a-f]{64} not found/,
  'vouch-memory': /no {2}timestamp keys exist on the server/,
};

for (const target of ['notary', 'vouch-memory'] as const satisfies readonly TargetName[]) {
  describe(`a signer that lost the timestamp key, behind ${target === 'notary' ? 'notary-server' : 'vouch server'}`, { timeout: 120_000 }, () => {
    let dir: string;
    let pki: SignerPki;
    let signer: SignerHandle | undefined;
    let server: ServerHandle | undefined;

    before(async () => {
      dir = await tempDir(`signer-missing-${target}`);
      pki = await makeSignerPki(dir);
      signer = await startSigner('vouch', { dir, pki, backend: 'memory' });
      server = await startServer(target, { pki, dir, extraConfig: { trust_service: remoteTrustService(pki, signer.port) } });
    });
    after(async () => {
      await server?.stop();
      await signer?.stop();
      await removeDir(dir);
    });

    it('publishing fails with the expected error; rotating the timestamp key recovers', async () => {
      const gun = 'example.com/missing/app';
      const owner = new NotaryCli({ url: server!.url, caFile: pki.caFile, home: `${dir}/owner` });
      const file = `${dir}/payload.txt`;
      await writeFile(file, 'payload\n');
      await owner.ok('init', '-p', gun);
      await signer!.stop();
      await signer!.restart(); // memory store: every key is gone

      // until the server has reconnected to the restarted signer (grpc backoff), publishes fail as
      // "Unavailable" instead; retry those for a while
      let r = await owner.run(['add', '-p', gun, 'v1', file]);
      for (const deadline = Date.now() + 60_000; r.code !== 0 && !EXPECTED[target].test(r.stdout + r.stderr) && Date.now() < deadline; ) {
        await new Promise((res) => setTimeout(res, 500));
        r = await owner.run(['publish', gun]);
      }
      assert.notEqual(r.code, 0, describeResult(['add -p or publish', gun], r));
      assert.match(r.stderr + r.stdout, EXPECTED[target], describeResult(['add -p or publish', gun], r));

      await owner.ok('key', 'rotate', gun, 'timestamp', '-r');
      await owner.ok('publish', gun);
      const fresh = new NotaryCli({ url: server!.url, caFile: pki.caFile, home: `${dir}/reader-${target}` });
      assert.deepEqual(parseList((await fresh.ok('list', gun)).stdout).map((row) => row[0]), ['v1']);
    });
  });
}

describe('RemoteCryptoService with the signer down', { timeout: 120_000 }, () => {
  let dir: string;
  let pki: SignerPki;
  let signer: SignerHandle | undefined;
  let server: ServerHandle | undefined;

  before(async () => {
    dir = await tempDir('signer-down');
    pki = await makeSignerPki(dir);
    signer = await startSigner('vouch', { dir, pki });
    server = await startServer('vouch-memory', { pki, dir, extraConfig: { trust_service: remoteTrustService(pki, signer.port) } });
  });
  after(async () => {
    await server?.stop();
    await signer?.stop();
    await removeDir(dir);
  });

  it('NOT_FOUND means "not held"; UNAVAILABLE is an error, never a missing key; the server health follows the signer', async () => {
    const ca = readFileSync(pki.caFile);
    assert.equal(await healthStatus(server!.url, ca), 200);
    const remote = remoteFor(pki, signer!.port, { callTimeoutMs: 5000 });
    try {
      const id = 'a'.repeat(64);
      assert.equal(await remote.getKey(id), null);
      await assert.rejects(remote.sign(id, new Uint8Array(1)), KeyNotFoundError);
      await remote.checkHealth();

      await signer!.kill('SIGKILL');
      const down = (e: unknown): boolean => e instanceof RemoteSignerError && e.grpcCode === status.UNAVAILABLE && /^rpc error: code = Unavailable desc = /.test(e.message);
      await assert.rejects(remote.getKey(id), down);
      await assert.rejects(remote.sign(id, new Uint8Array(1)), down);
      await assert.rejects(remote.create('timestamp', 'g', 'ecdsa'), down);
      await assert.rejects(remote.checkHealth(2000), down);
      assert.notEqual(await healthStatus(server!.url, ca), 200, 'the trust server reports the signer outage');

      // calls fail fast while the channel waits out its (capped) reconnection backoff
      await signer!.restart();
      await eventually(() => remote.checkHealth(2000));
      await eventually(async () => assert.equal(await healthStatus(server!.url, ca), 200));
    } finally {
      remote.close();
    }
  });
});
