/**
 * notary's MySQL `db_url` (spec §5.5): the DSN of go-sql-driver/mysql,
 *
 *   [user[:password]@][net[(addr)]]/dbname[?param1=value1&paramN=valueN]
 *   e.g. server@tcp(mysql:3306)/notaryserver?parseTime=True
 *
 * read with that driver's rules: the database name follows the last `/`; the credentials end
 * at the last `@` before it, the password after the first `:`; `net` is `tcp` (default, address
 * 127.0.0.1:3306, port 3306 when missing), `tcp6` or `unix` (default /tmp/mysql.sock); parameter
 * values are URL-decoded. Parameters that only steer Go's driver (`parseTime`, `loc`, …) are
 * accepted and have no effect here; vouch always reads and writes UTC. `tls` takes
 * `true`/`false`/`skip-verify` (a named TLS config exists only inside a Go program and is
 * refused). Unknown parameters are session system variables, set on every connection, as the Go
 * driver does (`sql_mode='ANSI'`).
 *
 * @example
 *   parseMysqlDsn('server:pw@tcp(mysql:3306)/notaryserver?parseTime=True')
 *   // → { host: 'mysql', port: 3306, user: 'server', password: 'pw', database: 'notaryserver', ... }
 */
import { ConfigError } from '../errors/index.ts';

export interface MysqlTarget {
  readonly user: string;
  readonly password: string;
  /** `tcp` (also for `tcp6`) or `unix`. */
  readonly net: 'tcp' | 'unix';
  readonly host: string;
  readonly port: number;
  /** For `unix`. */
  readonly socketPath: string | undefined;
  readonly database: string;
  readonly tls: 'off' | 'verify' | 'skip-verify';
  readonly connectTimeoutMs: number | undefined;
  /** First of `charset`'s comma list, or undefined. */
  readonly charset: string | undefined;
  /** Session variables to SET on each connection: name → value as written (SQL). */
  readonly systemVars: Readonly<Record<string, string>>;
}

const BOOL_PARAMS = new Set([
  'allowAllFiles', 'allowCleartextPasswords', 'allowFallbackToPlaintext', 'allowNativePasswords', 'allowOldPasswords',
  'checkConnLiveness', 'clientFoundRows', 'columnsWithAlias', 'interpolateParams', 'multiStatements', 'parseTime',
  'rejectReadOnly',
]);
/** Settings of Go's driver with no meaning for vouch's connections. */
const IGNORED_PARAMS = new Set(['collation', 'loc', 'readTimeout', 'writeTimeout', 'maxAllowedPacket', 'serverPubKey', 'connectionAttributes', 'timeTruncate']);

function readBool(key: string, v: string): boolean {
  if (['1', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new ConfigError(`storage.db_url: invalid bool value for ${key}: ${v}`);
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`30s`, `1m30s`, `500ms`) in milliseconds. */
export function goDurationMs(text: string): number {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? NaN);
    end = re.lastIndex;
  }
  if (text === '' || end !== text.length || !Number.isFinite(total)) throw new ConfigError(`storage.db_url: invalid duration "${text}"`);
  return total;
}

/** Go's url.QueryUnescape (`+` is a space) or, for the database name, url.PathUnescape. */
function unescape(v: string, key: string, plusIsSpace = true): string {
  try {
    return decodeURIComponent(plusIsSpace ? v.replace(/\+/g, ' ') : v);
  } catch {
    throw new ConfigError(`storage.db_url: bad percent-encoding in parameter ${key}`);
  }
}

/**
 * Parses a go-sql-driver DSN.
 * @throws ConfigError naming what is wrong (never echoing the password)
 */
export function parseMysqlDsn(dsn: string): MysqlTarget {
  const slash = dsn.lastIndexOf('/');
  if (slash < 0) throw new ConfigError('storage.db_url: invalid DSN: missing the slash separating the database name');
  const left = dsn.slice(0, slash);
  const right = dsn.slice(slash + 1);

  let user = '';
  let password = '';
  const at = left.lastIndexOf('@');
  if (at >= 0) {
    const cred = left.slice(0, at);
    const colon = cred.indexOf(':');
    user = colon < 0 ? cred : cred.slice(0, colon);
    password = colon < 0 ? '' : cred.slice(colon + 1);
  }
  const netAddr = left.slice(at + 1);
  let net = netAddr;
  let addr = '';
  const paren = netAddr.indexOf('(');
  if (paren >= 0) {
    if (!netAddr.endsWith(')')) {
      throw new ConfigError('storage.db_url: invalid DSN: network address not terminated (missing closing brace)');
    }
    net = netAddr.slice(0, paren);
    addr = netAddr.slice(paren + 1, -1);
  }
  if (net === '') net = 'tcp';

  const q = right.indexOf('?');
  const database = unescape(q < 0 ? right : right.slice(0, q), 'dbname', false);
  const params = q < 0 ? '' : right.slice(q + 1);

  let tls: MysqlTarget['tls'] = 'off';
  let connectTimeoutMs: number | undefined;
  let charset: string | undefined;
  const systemVars: Record<string, string> = {};
  for (const part of params.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) continue; // Go's driver skips a parameter without a value
    const key = part.slice(0, eq);
    const value = unescape(part.slice(eq + 1), key);
    if (BOOL_PARAMS.has(key)) readBool(key, value);
    else if (IGNORED_PARAMS.has(key)) continue;
    else if (key === 'timeout') connectTimeoutMs = goDurationMs(value);
    else if (key === 'charset') charset = value.split(',')[0];
    else if (key === 'tls') {
      const v = value.toLowerCase();
      if (v === 'skip-verify') tls = 'skip-verify';
      else if (['1', 'true'].includes(v)) tls = 'verify';
      else if (['0', 'false'].includes(v)) tls = 'off';
      else throw new ConfigError(`storage.db_url: tls=${value} is not supported (use true, false or skip-verify)`);
    } else {
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key)) throw new ConfigError(`storage.db_url: invalid parameter name "${key}"`);
      systemVars[key] = value;
    }
  }

  if (net === 'unix') {
    return { user, password, net: 'unix', host: 'localhost', port: 3306, socketPath: addr === '' ? '/tmp/mysql.sock' : addr, database, tls, connectTimeoutMs, charset, systemVars };
  }
  if (net !== 'tcp' && net !== 'tcp6' && net !== 'tcp4') throw new ConfigError(`storage.db_url: unsupported network "${net}" (use tcp or unix)`);
  let host = '127.0.0.1';
  let port = 3306;
  if (addr !== '') {
    const bracketed = /^\[([^\]]*)\](?::([^:]*))?$/.exec(addr);
    let portText: string | undefined;
    if (bracketed !== null) {
      host = bracketed[1] ?? '';
      portText = bracketed[2];
    } else if (addr.indexOf(':') !== addr.lastIndexOf(':')) {
      host = addr; // a bare IPv6 address: Go's driver appends the default port
    } else {
      const colon = addr.indexOf(':');
      host = colon < 0 ? addr : addr.slice(0, colon);
      portText = colon < 0 ? undefined : addr.slice(colon + 1);
    }
    if (host === '') host = '127.0.0.1';
    if (portText !== undefined) {
      port = Number(portText);
      if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new ConfigError(`storage.db_url: invalid port in "${addr}"`);
    }
  }
  return { user, password, net: 'tcp', host, port, socketPath: undefined, database, tls, connectTimeoutMs, charset, systemVars };
}

/** `user@host:port/db` for messages: never the password. */
export function describeMysql(t: MysqlTarget): string {
  const where = t.net === 'unix' ? `unix(${t.socketPath ?? ''})` : `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  return `mysql ${t.user !== '' ? `${t.user}@` : ''}${where}/${t.database}`;
}
