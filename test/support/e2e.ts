/**
 * Per-target fixture for end-to-end test files: a temp dir, a throwaway PKI and one running
 * server, plus helpers for private client homes and diagnostics.
 *
 * Example:
 *   for (const target of selectedTargets()) {
 *     describe(`thing against ${target}`, { timeout: 120_000 }, () => {
 *       const env = useTarget(target, 'thing');
 *       it('works', async () => { const cli = await env.notary('owner'); ... });
 *     });
 *   }
 *
 * `useTarget` registers before/after/afterEach hooks in the enclosing describe: the server is
 * started before the first test, stopped (and the temp dir removed) after the last, and when a
 * test fails the tail of the server's output is printed to stderr. Set VOUCH_E2E_KEEP=1 to keep
 * temp dirs.
 */
import { after, afterEach, before } from 'node:test';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DockerTrust } from './docker-cli.ts';
import { NotaryCli } from './notary-cli.ts';
import { makePki, removeDir, tempDir, type Pki } from './pki.ts';
import { startServer, type ServerHandle, type ServerOptions, type TargetName } from './servers.ts';

export interface TargetEnv {
  readonly target: TargetName;
  /** The temp dir of this describe block. */
  readonly dir: string;
  readonly pki: Pki;
  readonly server: ServerHandle;
  /** A new private directory below `dir`. */
  home(name: string): Promise<string>;
  /** A notary CLI with its own HOME and trust dir, talking to the server. */
  notary(name: string): Promise<NotaryCli>;
  /** docker trust with its own DOCKER_CONFIG, talking to the server. */
  docker(name: string): Promise<DockerTrust>;
  /** Write a file below `dir` and return its path. */
  file(name: string, content: string | Uint8Array): Promise<string>;
}

export interface UseTargetOptions {
  readonly extraConfig?: ServerOptions['extraConfig'];
}

let homeCounter = 0;

/** Register hooks that provide a running server for the enclosing describe block. */
export function useTarget(target: TargetName, label: string, opts: UseTargetOptions = {}): TargetEnv {
  let dir: string | undefined;
  let pki: Pki | undefined;
  let server: ServerHandle | undefined;

  before(async () => {
    dir = await tempDir(`${label}-${target}`);
    pki = await makePki(dir);
    server = await startServer(target, { pki, dir, extraConfig: opts.extraConfig });
  });

  afterEach((t) => {
    // `passed` exists at runtime on Node 24 but is missing from @types/node
    const passed = (t as { passed?: boolean }).passed;
    if (passed === false && server !== undefined) {
      const out = server.output();
      process.stderr.write(`\n--- ${target} server output (tail) after failed test "${t.name}" ---\n${out.slice(-6000)}\n--- end ---\n`);
    }
  });

  after(async () => {
    await server?.stop();
    if (dir !== undefined && process.env['VOUCH_E2E_KEEP'] !== '1') await removeDir(dir);
  });

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not ready (server failed to start?)`);
    return v;
  };

  const env: TargetEnv = {
    target,
    get dir() {
      return need(dir, 'temp dir');
    },
    get pki() {
      return need(pki, 'pki');
    },
    get server() {
      return need(server, `${target} server`);
    },
    async home(name: string) {
      const h = join(env.dir, `${name}-${++homeCounter}`);
      await mkdir(h, { recursive: true });
      return h;
    },
    async notary(name: string) {
      return new NotaryCli({ url: env.server.url, caFile: env.server.caFile, home: await env.home(name) });
    },
    async docker(name: string) {
      return DockerTrust.create({ url: env.server.url, caFile: env.server.caFile, home: await env.home(name) });
    },
    async file(name: string, content: string | Uint8Array) {
      const p = join(env.dir, name);
      await writeFile(p, content);
      return p;
    },
  };
  return env;
}

/** Replace every 64-hex ID with `<id1>`, `<id2>`… in order of first appearance (stable across runs). */
export function normalizeIds(text: string, known: Record<string, string> = {}): string {
  const seen = new Map<string, string>(Object.entries(known));
  return text.replace(/\b[0-9a-f]{64}\b/g, (id) => {
    let name = seen.get(id);
    if (name === undefined) {
      name = `<id${seen.size + 1}>`;
      seen.set(id, name);
    }
    return name;
  });
}
