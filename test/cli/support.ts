/**
 * Drive the `vouch` notary commands the way test/support/notary-cli.ts drives the real notary CLI:
 * same global flags (`-s URL --tlscacert CA -d TRUSTDIR`), same passphrase variables, no
 * terminal. Two ways to run:
 *
 * - `run`: in-process through `runNotaryCli` with injected streams (fast; the same command
 *   code the binary runs), standard input a closed pipe holding `input`;
 * - `spawn`: the real binary (`node src/bin/vouch.ts …`) with a hard timeout.
 *
 * Plus `normalise`, which makes two outputs of the same scenario comparable: 64-hex IDs become
 * `<id1>`, `<id2>`… in order of appearance, and given strings (GUNs, homes) are replaced.
 *
 * Example:
 *   const v = new VouchCli({ url, caFile, home });
 *   const r = await v.run(['list', gun]);
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { runNotaryCli } from '../../src/cli/index.ts';
import { runCommand, type RunResult } from '../support/exec.ts';
import { PASSPHRASE } from '../support/notary-cli.ts';
import { VOUCH_BIN } from '../support/servers.ts';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface VouchCliOptions {
  readonly url: string;
  readonly caFile: string;
  readonly home: string;
  readonly trustDir?: string;
  readonly passphrase?: string;
}

export interface VouchRunOptions {
  readonly input?: string;
  /** Replaces the default environment entirely. */
  readonly env?: NodeJS.ProcessEnv;
  readonly isTTY?: boolean;
  /** Leave out `-s/--tlscacert/-d`. */
  readonly bare?: boolean;
  readonly timeoutMs?: number;
}

function collector(): { stream: Writable; text: () => string } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

export class VouchCli {
  readonly url: string;
  readonly caFile: string;
  readonly home: string;
  readonly trustDir: string;
  readonly passphrase: string;

  constructor(o: VouchCliOptions) {
    this.url = o.url;
    this.caFile = o.caFile;
    this.home = o.home;
    this.trustDir = o.trustDir ?? join(o.home, 'trust');
    this.passphrase = o.passphrase ?? PASSPHRASE;
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: this.home,
      TZ: 'UTC',
      NOTARY_ROOT_PASSPHRASE: this.passphrase,
      NOTARY_TARGETS_PASSPHRASE: this.passphrase,
      NOTARY_SNAPSHOT_PASSPHRASE: this.passphrase,
      NOTARY_DELEGATION_PASSPHRASE: this.passphrase,
    };
  }

  #argv(args: readonly string[], o: VouchRunOptions): string[] {
    return o.bare === true ? [...args] : ['-s', this.url, '--tlscacert', this.caFile, '-d', this.trustDir, ...args];
  }

  /** In-process run; resolves with exit code and output. */
  async run(args: readonly string[], o: VouchRunOptions = {}): Promise<CliResult> {
    await mkdir(this.home, { recursive: true });
    const out = collector();
    const err = collector();
    const stdin = new PassThrough();
    stdin.end(o.input ?? '');
    const code = await runNotaryCli(this.#argv(args, o), {
      io: { stdout: out.stream, stderr: err.stream, stdin, isTTY: o.isTTY ?? false, env: o.env ?? this.env(), cwd: this.home, now: () => new Date() },
    });
    return { code, stdout: out.text(), stderr: err.text() };
  }

  /** The real binary, no terminal, killed after `timeoutMs` (default 60 s). */
  async spawn(args: readonly string[], o: VouchRunOptions = {}): Promise<RunResult> {
    await mkdir(this.home, { recursive: true });
    return runCommand(process.execPath, ['--disable-warning=ExperimentalWarning', VOUCH_BIN, ...this.#argv(args, o)], {
      env: o.env ?? this.env(),
      cwd: this.home,
      input: o.input,
      timeoutMs: o.timeoutMs ?? 60_000,
    });
  }
}

/**
 * Make output comparable across tools and runs: `replace` pairs first, then each 64-hex ID
 * (and 128-hex sha512) becomes `<idN>` by order of first appearance.
 */
export function normalise(text: string, replace: readonly (readonly [string | RegExp, string])[] = []): string {
  let t = text;
  for (const [from, to] of replace) t = typeof from === 'string' ? t.split(from).join(to) : t.replace(from, to);
  const seen = new Map<string, string>();
  return t.replace(/\b(?:[0-9a-f]{128}|[0-9a-f]{64})\b/g, (id) => {
    let name = seen.get(id);
    if (name === undefined) {
      name = `<id${seen.size + 1}>`;
      seen.set(id, name);
    }
    return name;
  });
}

/** A compact description of a result for assertion messages. */
export function describe2(label: string, r: CliResult): string {
  return `${label}: exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}
