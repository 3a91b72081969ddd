/**
 * Drive the real `notary` 0.7 CLI against a server (spec §11, peers.md).
 *
 * Each `NotaryCli` has its own trust dir and HOME, talks to one server with
 * `-s URL --tlscacert CA -d TRUSTDIR`, and answers passphrase prompts through the
 * `NOTARY_*_PASSPHRASE` variables. There is no terminal: a question the CLI asks reads the
 * `input` given to `run` (e.g. `'yes\n'`) or EOF.
 *
 * Example:
 *   const cli = new NotaryCli({ url: srv.url, caFile: srv.caFile, home });
 *   const r = await cli.ok('init', '-p', gun);
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeResult, runCommand, type RunResult } from './exec.ts';

export const PASSPHRASE = 'vouch-e2e-passphrase';

export interface NotaryCliOptions {
  readonly url: string;
  readonly caFile: string;
  /** A private directory: HOME, and the trust dir below it unless trustDir is given. */
  readonly home: string;
  readonly trustDir?: string;
  /** Passphrase for every key role; default PASSPHRASE. */
  readonly passphrase?: string;
}

export interface RunOpts {
  readonly input?: string;
  readonly timeoutMs?: number;
}

export class NotaryCli {
  readonly url: string;
  readonly caFile: string;
  readonly home: string;
  readonly trustDir: string;
  readonly passphrase: string;

  constructor(opts: NotaryCliOptions) {
    this.url = opts.url;
    this.caFile = opts.caFile;
    this.home = opts.home;
    this.trustDir = opts.trustDir ?? join(opts.home, 'trust');
    this.passphrase = opts.passphrase ?? PASSPHRASE;
  }

  /** Same keys and trust dir, another server (e.g. after a restart on a new port). */
  withServer(url: string, caFile: string = this.caFile): NotaryCli {
    return new NotaryCli({ url, caFile, home: this.home, trustDir: this.trustDir, passphrase: this.passphrase });
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

  /** Run `notary <global flags> <args>`. */
  async run(args: readonly string[], opts: RunOpts = {}): Promise<RunResult> {
    await mkdir(this.trustDir, { recursive: true });
    const full = ['-s', this.url, '--tlscacert', this.caFile, '-d', this.trustDir, ...args];
    return runCommand('notary', full, { env: this.env(), cwd: this.home, input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
  }

  /** Run and assert exit code 0; returns the result. */
  async ok(...args: string[]): Promise<RunResult> {
    const r = await this.run(args);
    assert.equal(r.code, 0, describeResult(['notary', ...args], r));
    return r;
  }

  /** Run with standard input and assert exit code 0. */
  async okWithInput(input: string, ...args: string[]): Promise<RunResult> {
    const r = await this.run(args, { input });
    assert.equal(r.code, 0, describeResult(['notary', ...args], r));
    return r;
  }

  /** Run and assert a non-zero exit; returns the result. */
  async fails(...args: string[]): Promise<RunResult> {
    const r = await this.run(args);
    assert.notEqual(r.code, 0, describeResult(['notary', ...args], r));
    return r;
  }
}

/** Split a notary tabwriter table into rows of cells (columns separated by 2+ spaces). */
export function parseTable(stdout: string): string[][] {
  return stdout
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s{2,}/));
}

/** The target rows of `notary list` (without header and dash rows): [name, digest, size, role]. */
export function parseList(stdout: string): string[][] {
  return parseTable(stdout).filter((row) => row[0] !== 'NAME' && !/^-+$/.test(row[0] ?? ''));
}

/** The canonical key IDs named in a text (64 hex chars). */
export function keyIdsIn(text: string): string[] {
  return [...text.matchAll(/\b[0-9a-f]{64}\b/g)].map((m) => m[0]);
}
