/**
 * `vouch server` with no configuration (the README's main command): it makes its own CA and
 * server certificate in a data dir, prints how to trust them, serves over TLS on SQLite, and
 * keeps both the CA and the published data across restarts. The real notary CLI is the client.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotaryCli } from '../support/notary-cli.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { VOUCH_BIN, freePort } from '../support/servers.ts';

interface Started {
  readonly child: ChildProcess;
  readonly stdout: string;
}

function startDefault(dataDir: string, port: number): Promise<Started> {
  const child = spawn(process.execPath, [VOUCH_BIN, 'server'], {
    env: { ...process.env, VOUCH_DATA_DIR: dataDir, NOTARY_SERVER_SERVER_HTTP_ADDR: `127.0.0.1:${port}`, NOTARY_SERVER_LOGGING_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no startup within 20 s\n${out}\n${err}`)), 20_000);
    child.stderr?.on('data', (c: Buffer) => (err += c));
    child.stdout?.on('data', (c: Buffer) => {
      out += c;
      if (out.includes('docker:')) {
        clearTimeout(timer);
        resolve({ child, stdout: out });
      }
    });
    child.on('exit', (code) => reject(new Error(`vouch server exited ${code}\n${out}\n${err}`)));
  });
}

async function stop(s: Started): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

describe('vouch server with no configuration', () => {
  let home: string;
  let dataDir: string;
  const running: Started[] = [];

  before(async () => {
    home = await tempDir('vouch-default-');
    dataDir = join(home, 'data');
  });
  after(async () => {
    for (const s of running) await stop(s);
    await removeDir(home);
  });

  it('makes a CA, serves notary over TLS, and keeps CA and data across a restart', async () => {
    const port = await freePort();
    const first = await startDefault(dataDir, port);
    running.push(first);
    const url = `https://127.0.0.1:${port}`;
    const caFile = join(dataDir, 'tls', 'ca.crt');
    assert.match(first.stdout, new RegExp(`vouch server listening on ${url.replace(/\./g, '\\.')}`));
    assert.ok(first.stdout.includes(`CA certificate clients must trust: ${caFile}`), first.stdout);
    assert.equal((await stat(join(dataDir, 'tls', 'ca.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dataDir, 'tls', 'server.key'))).mode & 0o777, 0o600);
    const config = JSON.parse(await readFile(join(dataDir, 'notary-server.json'), 'utf8')) as { storage: { backend: string } };
    assert.equal(config.storage.backend, 'sqlite3');
    const caBefore = await readFile(caFile, 'utf8');

    const notary = new NotaryCli({ url, caFile, home });
    await notary.ok('init', '-p', 'example.com/default/app');
    await notary.ok('addhash', '-p', 'example.com/default/app', 'v1', '11', '--sha256', 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');

    await stop(first);
    const second = await startDefault(dataDir, port);
    running.push(second);
    assert.equal(await readFile(caFile, 'utf8'), caBefore, 'the CA clients trust must survive a restart');
    const fresh = new NotaryCli({ url, caFile, home: join(home, 'other') });
    const list = await fresh.ok('list', 'example.com/default/app');
    assert.match(list.stdout, /^v1\s+b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\s+11\s+targets$/m);
    // the server still holds its timestamp key after the restart: publishing goes on
    await notary.ok('addhash', '-p', 'example.com/default/app', 'v2', '11', '--sha256', 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
  });
});
