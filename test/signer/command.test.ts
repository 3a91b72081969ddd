/**
 * The `vouch signer` command as a process: notary-signer's single-dash flags, startup failures
 * (exit 1, the reason on stderr), a clean exit 0 on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../support/exec.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { freePort, VOUCH_BIN } from '../support/servers.ts';
import { makeSignerPki, remoteFor, type SignerPki } from './support.ts';

const NODE_ARGS = ['--disable-warning=ExperimentalWarning', VOUCH_BIN, 'signer'];

describe('vouch signer command', { timeout: 120_000 }, () => {
  let dir: string;
  let pki: SignerPki;
  let n = 0;

  const config = async (c: Record<string, unknown>): Promise<string> => {
    const file = `${dir}/config-${++n}.json`;
    await writeFile(file, JSON.stringify(c));
    return file;
  };
  const valid = (port: number): Record<string, unknown> => ({
    server: { grpc_addr: `127.0.0.1:${port}`, tls_cert_file: pki.certFile, tls_key_file: pki.keyFile, client_ca_file: pki.caFile },
    storage: { backend: 'memory' },
  });
  const failsWith = async (args: string[], re: RegExp): Promise<void> => {
    const r = await runCommand(process.execPath, [...NODE_ARGS, ...args], { env: { ...process.env }, timeoutMs: 30_000 });
    assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, re);
  };

  before(async () => {
    dir = await tempDir('signer-command');
    pki = await makeSignerPki(dir);
  });
  after(async () => {
    await removeDir(dir);
  });

  it('-config and -logf (single dash, as notary-signer) start it; SIGTERM stops it with exit 0', async () => {
    const port = await freePort();
    const file = await config(valid(port));
    const child = spawn(process.execPath, [...NODE_ARGS, '-config', file, '-logf', 'logfmt'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const deadline = Date.now() + 20_000;
      while (!out.includes(`vouch signer listening on 127.0.0.1:${port}`)) {
        assert.ok(Date.now() < deadline, `no listening line; output: ${out}`);
        assert.equal(child.exitCode, null, 'still running');
        await new Promise((r) => setTimeout(r, 50));
      }
      const remote = remoteFor(pki, port);
      try {
        await remote.checkHealth();
      } finally {
        remote.close();
      }
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('startup failures exit 1 with the reason', async () => {
    await failsWith([], /required option '--config <file>'/);
    await failsWith(['--config', `${dir}/missing.json`], /could not read config at/);
    const noAddr = valid(1);
    delete (noAddr['server'] as Record<string, unknown>)['grpc_addr'];
    await failsWith(['--config', await config(noAddr)], /grpc listen address required for server/);
    await failsWith(['--config', await config({ ...valid(1), storage: { backend: 'postgres', db_url: 'postgres://x/y' } })], /must provide a default alias for the key DB/);
    const badTls = valid(await freePort());
    (badTls['server'] as Record<string, unknown>)['tls_key_file'] = `${dir}/nope.key`;
    await failsWith(['--config', await config(badTls)], /unable to set up TLS: cannot read server.tls_key_file/);

    const busy = createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    try {
      const addr = busy.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      await failsWith(['--config', await config(valid(port))], /grpc server failed to listen on 127\.0\.0\.1:\d+/);
    } finally {
      busy.close();
    }
  });
});
