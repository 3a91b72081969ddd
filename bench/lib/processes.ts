/**
 * Processes the benchmark starts itself (nginx, wrk), and the memory of a process tree.
 *
 * Every child started through `runProcess` or `spawnTracked` is SIGKILLed, with its descendants,
 * when the benchmark exits, however it exits: normally, on an exception, or on
 * SIGINT/SIGTERM/SIGHUP (which are turned into `process.exit`, so the `exit` hooks of
 * test/support/servers.ts run as well).
 * Nothing here kills anything the benchmark did not start.
 *
 * Memory is read from `/proc/<pid>/status` (VmRSS, VmHWM) for a process and all of its
 * descendants, so a server that forks workers is measured in full; CPU time likewise from
 * `/proc/<pid>/stat` (user + system, all threads).
 *
 * Example:
 *   installCleanup();
 *   const r = await runProcess('wrk', ['-t2', url], { timeoutMs: 30_000 });
 *   const mem = treeMemory(pid); // { rssKiB, hwmKiB, processes }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();
const exitHooks: (() => void)[] = [];
let installed = false;

/** Kill tracked children and run exit hooks on every way out of the process. Idempotent. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    // Descendants too: nginx's workers outlive a SIGKILLed master.
    for (const child of live) {
      const pids = child.pid === undefined ? [] : processTree(child.pid);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const hook of exitHooks) {
      try {
        hook();
      } catch {
        // best effort on the way out
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping every process this benchmark started\n`);
      process.exit(130);
    });
  }
}

/** Run `fn` synchronously when the process exits (after tracked children are killed). */
export function onExit(fn: () => void): void {
  exitHooks.push(fn);
}

/** Spawn a long-running child that is killed on exit; standard output and error are captured. */
export function spawnTracked(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): { child: ChildProcess; output: () => string; exited: Promise<string> } {
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const append = (b: Buffer): void => {
    out += b.toString('utf8');
    if (out.length > 100_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve(`exited with code ${code} signal ${signal}`);
    });
    child.on('error', (err) => {
      live.delete(child);
      resolve(`failed to start: ${err.message}`);
    });
  });
  return { child, output: () => out, exited };
}

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Run a command to completion (SIGKILL after `timeoutMs`), standard input closed. */
export function runProcess(cmd: string, args: readonly string[], opts: { timeoutMs: number; cwd?: string }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut });
    });
  });
}

export interface Memory {
  /** Sum of VmRSS over the process and its descendants, KiB. */
  readonly rssKiB: number;
  /** Sum of VmHWM (peak resident set) over the same processes, KiB. */
  readonly hwmKiB: number;
  /** How many processes were summed. */
  readonly processes: number;
}

function statusField(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (m === null) throw new Error(`/proc status has no ${field}`);
  return Number(m[1]);
}

/** Parent pid of every process, from /proc/<pid>/stat (field 4, after the parenthesised name). */
function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(rest[1]));
    } catch {
      // the process ended while we looked
    }
  }
  return parents;
}

/** The pid and all of its descendants. */
export function processTree(pid: number): number[] {
  const parents = parentMap();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const p = tree[i];
    for (const [child, parent] of parents) if (parent === p) tree.push(child);
  }
  return tree;
}

/** VmRSS and VmHWM of a process and its descendants. */
export function treeMemory(pid: number): Memory {
  let rssKiB = 0;
  let hwmKiB = 0;
  let processes = 0;
  for (const p of processTree(pid)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${p}/status`, 'utf8');
    } catch {
      continue;
    }
    rssKiB += statusField(status, 'VmRSS');
    hwmKiB += statusField(status, 'VmHWM');
    processes++;
  }
  if (processes === 0) throw new Error(`process ${pid} is gone`);
  return { rssKiB, hwmKiB, processes };
}

/** Linux's USER_HZ: /proc times are in these ticks (100 on every mainstream kernel build). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, every thread) used so far by a process and its descendants, in ms;
 * 10 ms resolution. Differences of it show how much work a server did for a measured load,
 * which a busy machine disturbs far less than requests/s or latency.
 */
export function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended while we looked
    }
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}
