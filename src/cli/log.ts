/**
 * The notary CLI's log lines (spec §11): logrus's text format on standard error,
 * `time="2026-01-02T15:04:05Z" level=warning msg="…"`, at level warning by default, info with
 * `-v`, debug with `-D`. Values are quoted as logrus quotes them: bare when made only of
 * letters, digits and `-._/@^+`, else Go-quoted.
 *
 * @example
 *   const log = new CliLogger(io.stderr, 'warning', io.now);
 *   log.error(`could not reach ${url}: ${reason}`);
 */
import type { Writable } from 'node:stream';
import { goQuote } from '../http/index.ts';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warning: 2, error: 3 };

/** RFC 3339 in the local zone, seconds precision (Go's time.RFC3339, logrus's default). */
export function rfc3339Local(d: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}

function logrusValue(s: string): string {
  return s !== '' && /^[A-Za-z0-9\-._/@^+]+$/.test(s) ? s : goQuote(s);
}

export class CliLogger {
  readonly level: LogLevel;
  readonly #out: Writable;
  readonly #now: () => Date;

  constructor(out: Writable, level: LogLevel, now: () => Date = () => new Date()) {
    this.#out = out;
    this.level = level;
    this.#now = now;
  }

  /** The level notary picks from `-D` / `-v`. */
  static levelFor(o: { debug?: boolean; verbose?: boolean }): LogLevel {
    return o.debug === true ? 'debug' : o.verbose === true ? 'info' : 'warning';
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  log(level: LogLevel, msg: string): void {
    if (!this.enabled(level)) return;
    this.#out.write(`time=${logrusValue(rfc3339Local(this.#now()))} level=${level} msg=${logrusValue(msg)}\n`);
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }
  info(msg: string): void {
    this.log('info', msg);
  }
  warn(msg: string): void {
    this.log('warning', msg);
  }
  error(msg: string): void {
    this.log('error', msg);
  }
}
