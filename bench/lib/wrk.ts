/**
 * Run `wrk` against one HTTPS URL and parse its report.
 *
 * wrk does not verify the server certificate; that is fine here, because every URL is first
 * fetched once with the test CA (see trust-server.ts) before it is measured. A run with any
 * non-2xx response or socket error is reported with `errors > 0`: its requests/s count
 * responses that were not the metadata, so it must not be compared.
 *
 * Example:
 *   const r = await runWrk(url, { threads: 2, connections: 16, durationS: 10 });
 *   r.requestsPerSec; r.latencyMs.p99; r.errors;
 */
import { runProcess } from './processes.ts';

export interface WrkOptions {
  readonly threads: number;
  readonly connections: number;
  readonly durationS: number;
}

export interface WrkResult {
  readonly url: string;
  readonly threads: number;
  readonly connections: number;
  readonly durationS: number;
  readonly requests: number;
  readonly requestsPerSec: number;
  /** Response bytes per second as wrk reports it, converted to bytes. */
  readonly transferPerSec: number;
  readonly latencyMs: { readonly avg: number; readonly max: number; readonly p50: number; readonly p75: number; readonly p90: number; readonly p99: number };
  readonly non2xx: number;
  readonly socketErrors: { readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number };
  /** non2xx plus every socket error. */
  readonly errors: number;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (m === null) throw new Error(`wrk: unreadable duration ${JSON.stringify(text)}`);
  return Number(m[1]) * (TIME_UNITS[m[2] ?? ''] ?? Number.NaN);
}

function toBytes(text: string): number {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text);
  if (m === null) throw new Error(`wrk: unreadable size ${JSON.stringify(text)}`);
  return Number(m[1]) * (SIZE_UNITS[m[2] ?? ''] ?? Number.NaN);
}

function match(text: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (m === null) throw new Error(`wrk: no ${what} in its output:\n${text}`);
  return m;
}

/** Parse the text wrk prints with `--latency`. */
export function parseWrk(text: string, url: string, opts: WrkOptions): WrkResult {
  const rps = Number(match(text, /^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')[1]);
  const requests = Number(match(text, /^\s*(\d+) requests in /m, 'request count')[1]);
  const transfer = toBytes(match(text, /^Transfer\/sec:\s+(\S+)/m, 'Transfer/sec')[1] ?? '');
  const lat = match(text, /^\s+Latency\s+(\S+)\s+\S+\s+(\S+)/m, 'latency line');
  const pct = (p: number): number => toMs(match(text, new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm'), `${p}% latency`)[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = { connect: Number(se?.[1] ?? 0), read: Number(se?.[2] ?? 0), write: Number(se?.[3] ?? 0), timeout: Number(se?.[4] ?? 0) };
  return {
    url,
    threads: opts.threads,
    connections: opts.connections,
    durationS: opts.durationS,
    requests,
    requestsPerSec: rps,
    transferPerSec: transfer,
    latencyMs: { avg: toMs(lat[1] ?? ''), max: toMs(lat[2] ?? ''), p50: pct(50), p75: pct(75), p90: pct(90), p99: pct(99) },
    non2xx,
    socketErrors,
    errors: non2xx + socketErrors.connect + socketErrors.read + socketErrors.write + socketErrors.timeout,
  };
}

/** `wrk -t<threads> -c<connections> -d<durationS>s --latency <url>`. */
export async function runWrk(url: string, opts: WrkOptions): Promise<WrkResult> {
  const args = [`-t${opts.threads}`, `-c${opts.connections}`, `-d${opts.durationS}s`, '--latency', url];
  const r = await runProcess('wrk', args, { timeoutMs: (opts.durationS + 30) * 1000 });
  if (r.code !== 0) throw new Error(`wrk ${args.join(' ')} failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n${r.stdout}${r.stderr}`);
  return parseWrk(r.stdout, url, opts);
}
