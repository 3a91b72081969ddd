/**
 * Run a command to completion with a hard timeout and no terminal: standard input is a pipe that
 * receives `input` (or nothing) and is then closed, so any prompt reads EOF instead of waiting.
 */
import { spawn } from 'node:child_process';

export interface RunResult {
  /** Exit code, or null when killed by a signal (e.g. on timeout). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface RunOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Written to standard input, which is then closed. */
  readonly input?: string | Buffer;
  /** Milliseconds before SIGKILL; default 60 s. */
  readonly timeoutMs?: number;
}

export function runCommand(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      // the command may exit without reading its input
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A readable one-paragraph description of a result, for assertion messages. */
export function describeResult(args: readonly string[], r: RunResult): string {
  return `command: ${args.join(' ')}\nexit: ${r.code} signal: ${r.signal}${r.timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}
