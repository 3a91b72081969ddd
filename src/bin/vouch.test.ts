import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FakeTrustService } from '../server/fake-trust-service.ts';
import { buildProgram, normaliseArgv, runServer } from './vouch.ts';

test("notary-server's single-dash flags are accepted", () => {
  assert.deepEqual(normaliseArgv(['server', '-config', 'a.json', '-logf=json', '-debug']), ['server', '--config', 'a.json', '--logf=json', '--debug']);
  assert.deepEqual(normaliseArgv(['server', '--config', 'a.json', '-x']), ['server', '--config', 'a.json', '-x']);
});

test('vouch server loads the config, serves with the factory’s service and prints its address', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bin-'));
  try {
    const file = join(dir, 'server.yaml');
    await writeFile(file, 'server:\n  http_addr: "127.0.0.1:4443"\nlogging:\n  level: fatal\n');
    const lines: string[] = [];
    let closed = false;
    const running = await runServer(
      { config: file },
      {
        env: { NOTARY_SERVER_SERVER_HTTP_ADDR: '127.0.0.1:0' },
        createTrustService: () => ({ service: new FakeTrustService(), close: async () => void (closed = true) }),
        handleSignals: false,
        stdout: (l) => lines.push(l),
      },
    );
    try {
      assert.deepEqual(lines, [`vouch server listening on ${running.url}`]);
      assert.equal((await fetch(`${running.url}/v2/`)).status, 200);
    } finally {
      await running.close();
    }
    assert.equal(closed, true);
    await assert.rejects(runServer({ config: join(dir, 'missing.json') }, { handleSignals: false }), /could not read config/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bin/vouch.js runs vouch with the compile cache on, and without it where the cache dir is unusable', async () => {
  const launcher = fileURLToPath(new URL('../../bin/vouch.js', import.meta.url));
  const dir = await mkdtemp(join(tmpdir(), 'vouch-launcher-'));
  try {
    const notADir = join(dir, 'file');
    await writeFile(notADir, '');
    for (const cache of [join(dir, 'cache'), join(notADir, 'cache')]) {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [launcher, '--version'], { env: { ...process.env, NODE_COMPILE_CACHE: cache }, timeout: 60_000 });
      assert.equal(stdout, 'vouch 0.1.0\n');
      assert.equal(stderr, '');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a closed standard output ends vouch quietly with the status a shell shows for notary (SIGPIPE)', async () => {
  const launcher = fileURLToPath(new URL('../../bin/vouch.js', import.meta.url));
  const child = spawn(process.execPath, [launcher, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before vouch writes
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 141);
  assert.equal(stderr, '');
});

test("a command loads only its own group of commands; help loads every command", async () => {
  const names = async (args: string[]): Promise<string[]> => (await buildProgram({}, { args })).commands.map((c) => c.name());
  const all = await names(['--help']);
  for (const c of ['server', 'serve', 'policy', 'user', 'signer', 'trust', 'push', 'pull', 'login', 'logout', 'list', 'init']) assert.ok(all.includes(c), c);
  const push = await names(['push', 'example.com/app:1']);
  assert.ok(push.includes('push') && push.includes('pull') && push.includes('list'));
  assert.ok(!push.includes('signer') && !push.includes('serve'), push.join(' '));
  const trust = await names(['-D', 'trust', 'inspect', 'x']);
  assert.ok(trust.includes('trust') && !trust.includes('push') && !trust.includes('signer'), trust.join(' '));
  const list = await names(['-s', 'https://h', 'list', 'g']);
  assert.ok(list.includes('list') && !list.includes('push') && !list.includes('serve'), list.join(' '));
  assert.deepEqual(await names(['policy', 'list']), await names(['serve']));
});
