/**
 * The Node process `vouch server` runs in. At start, `vouch server` replaces itself once
 * (`process.execve`: same pid, same arguments and stdio) with a Node tuned for a long-lived
 * server with a small heap:
 *
 * - `--max-semi-space-size=1`: V8's young generation grows to 2 × 16 MiB under load by default;
 *   capped at 1 MiB per semi-space the server's RSS after a read benchmark fell from ~133 to
 *   ~111 MiB, with no measurable change in requests/s (the read path allocates little);
 * - `NODE_COMPILE_CACHE` (unless compile caching is disabled or already directed elsewhere): the
 *   compile cache then covers the entry module too, so with a warm cache no module needs type
 *   stripping and Node never loads its TypeScript stripper (amaro, a WebAssembly module of about
 *   10 MiB plus its code: a bare `.ts` program idles at 63 MiB without a warm cache, 46 with);
 * - `MALLOC_ARENA_MAX=2`: fewer glibc malloc arenas for the few threads Node runs (about 3 MiB).
 *
 * Why re-exec: these are start-up settings. `v8.setFlagsFromString('--max-semi-space-size=…')`
 * once running left the young generation as large as before (measured), and NODE_OPTIONS in a
 * launcher script helps only processes started through that script, not `node src/bin/vouch.ts`
 * as tests, benchmarks and process managers run it. Flags given on the command line come after
 * these and win. `VOUCH_SERVER_REEXEC=0` keeps the process as started; where `process.execve`
 * does not exist (Windows, worker threads) it is skipped.
 *
 * Example (first thing `vouch server` does): reexecTunedServer(process.argv);
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Set in the environment of the replacement process (and removed from it), so it runs once. */
const MARKER = 'VOUCH_SERVER_REEXECUTED';

export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** The environment of the tuned process: compile cache and malloc settings, plus the marker. */
export function tunedServerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, [MARKER]: '1' };
  // the directory module.enableCompileCache() picks by default
  if (env['NODE_COMPILE_CACHE'] === undefined && env['NODE_DISABLE_COMPILE_CACHE'] === undefined) {
    out['NODE_COMPILE_CACHE'] = join(tmpdir(), 'node-compile-cache');
  }
  out['MALLOC_ARENA_MAX'] ??= '2';
  return out;
}

/**
 * Replace this process with the tuned one, unless it is that one already (or re-exec is off or
 * impossible); returns only when it does not replace the process.
 */
export function reexecTunedServer(argv: readonly string[]): void {
  if (process.env[MARKER] !== undefined) {
    delete process.env[MARKER]; // processes the server starts are not re-executed ones
    return;
  }
  if (process.env['VOUCH_SERVER_REEXEC'] === '0' || typeof process.execve !== 'function') return;
  const script = argv[1];
  if (script === undefined) return;
  process.execve(process.execPath, [process.execPath, ...SERVER_NODE_FLAGS, ...process.execArgv, script, ...argv.slice(2)], tunedServerEnv(process.env));
}
