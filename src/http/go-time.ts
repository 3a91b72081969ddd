/**
 * Go's time layouts as notary-server writes them (spec §5.2, §13.5):
 * - `Last-Modified` uses `time.RFC1123` (`Mon, 02 Jan 2006 15:04:05 MST`) in the *server's local
 *   zone* with that zone's abbreviation (`UTC` under TZ=UTC, `EST` under America/New_York), not
 *   `GMT` as HTTP would;
 * - changefeed `CreatedAt` uses `time.RFC3339Nano` (trailing zeros of the fraction dropped,
 *   `Z` for a zero offset).
 *
 * The local zone is the process's (`TZ`, else /etc/localtime), as Go resolves it. Offsets come
 * from the JS Date (which follows TZ); abbreviations come from the zone file's POSIX footer,
 * which is where Go's come from, with Intl as a fallback, then a numeric `+hh[mm]` name (Go's
 * spelling for zones without an abbreviation).
 *
 * Example: formatRfc1123Local(new Date(0)) === 'Thu, 01 Jan 1970 00:00:00 UTC' (TZ=UTC)
 */
import { readFileSync } from 'node:fs';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Go's `t.Local().Format(time.RFC1123)`. */
export function formatRfc1123Local(d: Date): string {
  return (
    `${DAYS[d.getDay()]!}, ${pad(d.getDate())} ${MONTHS[d.getMonth()]!} ${pad(d.getFullYear(), 4)} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${localZoneAbbreviation(d)}`
  );
}

/** Go's zero time under RFC1123 (what notary sends when no Last-Modified is known). */
export const GO_ZERO_TIME_RFC1123 = 'Mon, 01 Jan 0001 00:00:00 UTC';

/** Go's `t.Format(time.RFC3339Nano)` for a local-zone time (millisecond precision here). */
export function formatRfc3339NanoLocal(d: Date): string {
  const ms = d.getMilliseconds();
  const frac = ms === 0 ? '' : '.' + pad(ms, 3).replace(/0+$/, '');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return (
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${frac}${zone}`
  );
}

interface ZoneNames {
  readonly std: string;
  readonly dst: string | undefined;
  /** Standard offset in minutes east of UTC. */
  readonly stdOffset: number;
}

let cached: { tz: string | undefined; names: ZoneNames | null } | undefined;

/** The abbreviation Go would print for the local zone at `d`. */
export function localZoneAbbreviation(d: Date): string {
  const tz = process.env['TZ'];
  if (cached === undefined || cached.tz !== tz) cached = { tz, names: zoneNamesFor(tz) };
  const offset = -d.getTimezoneOffset();
  const names = cached.names;
  if (names !== null) {
    if (offset === names.stdOffset) return names.std;
    if (names.dst !== undefined) return names.dst;
  }
  return intlAbbreviation(d, offset);
}

/** Go's local-zone resolution: TZ unset → /etc/localtime; "" or "UTC" → UTC; else the zone file. */
function zoneNamesFor(tz: string | undefined): ZoneNames | null {
  if (tz === '' || tz === 'UTC' || tz === ':UTC') return { std: 'UTC', dst: undefined, stdOffset: 0 };
  let file: string;
  if (tz === undefined) file = '/etc/localtime';
  else {
    const name = tz.startsWith(':') ? tz.slice(1) : tz;
    file = name.startsWith('/') ? name : `/usr/share/zoneinfo/${name}`;
  }
  try {
    return parseTzifFooter(readFileSync(file));
  } catch {
    // Go falls back to UTC when the zone cannot be loaded; the JS Date does the same for an
    // unknown TZ, so the offset check above still lines up.
    return tz === undefined ? null : { std: 'UTC', dst: undefined, stdOffset: 0 };
  }
}

/**
 * Names from a TZif v2+ footer (`\n<POSIX TZ string>\n`), e.g. `CET-1CEST,M3.5.0,M10.5.0/3`,
 * `<+09>-9`, `EST5EDT,M3.2.0,M11.1.0`. Returns null for v1 files or an unparsable footer.
 */
export function parseTzifFooter(file: Uint8Array): ZoneNames | null {
  if (file.length < 6 || String.fromCharCode(...file.subarray(0, 4)) !== 'TZif') return null;
  if (file[file.length - 1] !== 0x0a) return null;
  const prev = file.lastIndexOf(0x0a, file.length - 2);
  if (prev < 0) return null;
  const footer = new TextDecoder().decode(file.subarray(prev + 1, file.length - 1));
  return parsePosixTz(footer);
}

export function parsePosixTz(s: string): ZoneNames | null {
  const m = /^(<[^>]+>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{1,2}(?::\d{1,2})?)?)(<[^>]+>|[A-Za-z]{3,})?/.exec(s);
  if (m === null) return null;
  const strip = (n: string): string => (n.startsWith('<') ? n.slice(1, -1) : n);
  const [h = '0', mi = '0'] = m[2]!.replace(/^[+-]/, '').split(':');
  const west = (Number(h) * 60 + Number(mi)) * (m[2]!.startsWith('-') ? -1 : 1);
  return { std: strip(m[1]!), dst: m[3] === undefined ? undefined : strip(m[3]), stdOffset: -west };
}

function intlAbbreviation(d: Date, offsetMinutes: number): string {
  for (const locale of ['en-US', 'en-GB']) {
    const name = new Intl.DateTimeFormat(locale, { timeZoneName: 'short' })
      .formatToParts(d)
      .find((p) => p.type === 'timeZoneName')?.value;
    if (name !== undefined && /^[A-Z]{2,5}$/.test(name) && !(name === 'GMT' && offsetMinutes !== 0)) return name;
  }
  const a = Math.abs(offsetMinutes);
  return `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}${a % 60 === 0 ? '' : pad(a % 60)}`;
}
