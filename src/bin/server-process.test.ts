/**
 * `vouch server` re-executes itself once into the tuned Node process (server-process.ts): same
 * pid, the flags first, the compile cache and malloc settings in its environment; and not with
 * VOUCH_SERVER_REEXEC=0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS, tunedServerEnv } from './server-process.ts';

const VOUCH = fileURLToPath(new URL('./vouch.ts', import.meta.url));

test('the tuned environment: compile cache unless disabled or set, two malloc arenas unless set', () => {
  const env = tunedServerEnv({ PATH: '/bin' });
  assert.match(env['NODE_COMPILE_CACHE'] ?? '', /node-compile-cache$/);
  assert.equal(env['MALLOC_ARENA_MAX'], '2');
  assert.equal(env['PATH'], '/bin');
  assert.equal(tunedServerEnv({ NODE_DISABLE_COMPILE_CACHE: '1' })['NODE_COMPILE_CACHE'], undefined);
  assert.equal(tunedServerEnv({ NODE_COMPILE_CACHE: '/x' })['NODE_COMPILE_CACHE'], '/x');
  assert.equal(tunedServerEnv({ MALLOC_ARENA_MAX: '8' })['MALLOC_ARENA_MAX'], '8');
});

/** Start `vouch server` on a free port; resolve with its pid, /proc cmdline and environment once it listens. */
async function startAndInspect(env: NodeJS.ProcessEnv): Promise<{ pid: number; cmdline: string[]; environ: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-reexec-'));
  const config = join(dir, 'server.json');
  await writeFile(config, JSON.stringify({ server: { http_addr: '127.0.0.1:0' }, storage: { backend: 'memory' }, logging: { level: 'error' } }));
  const child = spawn(process.execPath, [VOUCH, 'server', '--config', config], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    while (!out.includes('listening on')) {
      const [what] = await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => ['exit'])]);
      if (what === 'exit') throw new Error(`vouch server exited: ${out}`);
    }
    const pid = child.pid!;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
    const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
    return { pid, cmdline, environ };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

test('vouch server runs with the tuning flags first, as the same process', { skip: process.platform !== 'linux' }, async () => {
  const { cmdline, environ } = await startAndInspect({});
  assert.deepEqual(cmdline.slice(1, 1 + SERVER_NODE_FLAGS.length), [...SERVER_NODE_FLAGS]);
  assert.equal(cmdline.at(-4), VOUCH);
  assert.ok(environ.includes('MALLOC_ARENA_MAX=2'));
  assert.ok(environ.some((e) => e.startsWith('NODE_COMPILE_CACHE=')));
});

test('VOUCH_SERVER_REEXEC=0 keeps the process as started', { skip: process.platform !== 'linux' }, async () => {
  const { cmdline } = await startAndInspect({ VOUCH_SERVER_REEXEC: '0' });
  assert.ok(!cmdline.some((a) => SERVER_NODE_FLAGS.includes(a)));
});
