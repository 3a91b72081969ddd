/**
 * Times as notary writes them (spec §4.1): `expires` is Go RFC3339Nano in the signer's zone,
 * e.g. `2036-11-18T23:04:14.053595817-05:00`. Parsed values keep their original text so that
 * re-emitted metadata round-trips verbatim (§13.4) and keep nanoseconds for exact comparisons.
 *
 * Does not read the clock: callers pass `now`.
 *
 * @example
 *   const t = parseGoTime('2029-11-21T03:57:54.66563612Z');
 *   isExpiredAt(t, now);
 *   formatGoTime(new Date(0)) // '1970-01-01T00:00:00Z'
 */
import { DeserializationError } from '../errors/index.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** notary's default expiries (Go durations: a year is 365 days). Delegations use `targets`. */
export const DEFAULT_EXPIRY_MS = {
  root: 3650 * DAY_MS,
  targets: 1095 * DAY_MS,
  snapshot: 1095 * DAY_MS,
  timestamp: 14 * DAY_MS,
} as const;

export interface GoTime {
  /** The text as received (or as formatted when created here). */
  readonly text: string;
  /** Milliseconds since the epoch, rounded down. */
  readonly unixMs: number;
  /** Nanoseconds beyond `unixMs` (0 … 999 999). */
  readonly subMsNanos: number;
  /** Offset from UTC in seconds, as written (0 for `Z`). */
  readonly offsetSeconds: number;
  /** True when written with `Z`. */
  readonly utc: boolean;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/;

function daysInMonth(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0);
  return d.getUTCDate();
}

/**
 * Parse an RFC 3339 time with optional fraction (up to nanoseconds; more digits are truncated,
 * as Go does) and `Z` or `±hh:mm`.
 * @throws DeserializationError for anything else
 */
export function parseGoTime(text: string): GoTime {
  const m = RFC3339.exec(text);
  if (m === null) throw new DeserializationError(`invalid time ${JSON.stringify(text)}: expected RFC 3339`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const frac = m[7] ?? '';
  const zone = m[8] as string;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new DeserializationError(`invalid time ${JSON.stringify(text)}: field out of range`);
  }
  let offsetSeconds = 0;
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) throw new DeserializationError(`invalid time ${JSON.stringify(text)}: bad offset`);
    offsetSeconds = (zone[0] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const nanos = Number(frac.slice(0, 9).padEnd(9, '0'));
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, Math.floor(nanos / 1e6));
  return {
    text,
    unixMs: d.getTime() - offsetSeconds * 1000,
    subMsNanos: nanos % 1e6,
    offsetSeconds,
    utc: zone === 'Z',
  };
}

/** A GoTime for a Date, formatted in UTC (`formatGoTime`). */
export function goTimeFromDate(date: Date): GoTime {
  return { text: formatGoTime(date), unixMs: date.getTime(), subMsNanos: 0, offsetSeconds: 0, utc: true };
}

/** The instant as a Date (sub-millisecond digits dropped). */
export function goTimeToDate(t: GoTime): Date {
  return new Date(t.unixMs);
}

/** Go's RFC3339Nano in UTC: `2036-11-19T03:57:11.364Z`; trailing zeros trimmed, no dot when zero. */
export function formatGoTime(date: Date): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const [main, fracZ] = iso.split('.') as [string, string];
  const frac = fracZ.slice(0, -1).replace(/0+$/, '');
  return frac === '' ? `${main}Z` : `${main}.${frac}Z`;
}

/** Go's `t.Before(now)`: notary's IsExpired. Exact despite nanoseconds (now has ms precision). */
export function isExpiredAt(t: GoTime, now: Date): boolean {
  return t.unixMs < now.getTime();
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Go's `Mon Jan 2 15:04:05 MST 2006` in the time's own offset, as used in
 * `<role> expired at …`. Zone: `UTC` for `Z`, else `±hhmm` (Go prints the local zone's
 * abbreviation when the offset happens to equal the process's zone; a pure library cannot).
 */
export function formatExpiredAt(t: GoTime): string {
  const wall = new Date(t.unixMs + t.offsetSeconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  let zone = 'UTC';
  if (!t.utc) {
    const abs = Math.abs(t.offsetSeconds);
    zone = `${t.offsetSeconds < 0 ? '-' : '+'}${p2(Math.floor(abs / 3600))}${p2(Math.floor((abs % 3600) / 60))}`;
  }
  return `${WEEKDAYS[wall.getUTCDay()]} ${MONTHS[wall.getUTCMonth()]} ${wall.getUTCDate()} ` +
    `${p2(wall.getUTCHours())}:${p2(wall.getUTCMinutes())}:${p2(wall.getUTCSeconds())} ${zone} ${wall.getUTCFullYear()}`;
}

/** `now` + notary's default lifetime for the role (delegations use the targets lifetime). */
export function defaultExpiry(role: string, now: Date): Date {
  const key = role === 'root' || role === 'snapshot' || role === 'timestamp' ? role : 'targets';
  return new Date(now.getTime() + DEFAULT_EXPIRY_MS[key]);
}
