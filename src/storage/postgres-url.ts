/**
 * notary's PostgreSQL `db_url` (spec §5.5), in the two forms its driver (lib/pq) accepts:
 *
 *   postgres://user:pass@host:5432/notaryserver?sslmode=verify-ca&sslrootcert=/ca.pem
 *   host=127.0.0.1 port=5432 user=server dbname=notaryserver sslmode=disable
 *
 * lib/pq's rules are kept where they differ from libpq and node-postgres: `sslmode` defaults to
 * `require` (not `prefer`), `require` with an `sslrootcert` verifies the chain like `verify-ca`,
 * and `PG*` environment variables fill what the URL leaves out. Parameters the driver does not
 * interpret itself become run-time parameters of the session (e.g. `search_path`), as in lib/pq.
 * `allow` and `prefer`, which lib/pq does not support, are refused.
 *
 * @example
 *   parsePostgresUrl('postgres://server@db:5432/notaryserver?sslmode=disable')
 *   // → { host: 'db', port: 5432, user: 'server', database: 'notaryserver', sslmode: 'disable', ... }
 */
import { ConfigError } from '../errors/index.ts';

export type PostgresSslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

export interface PostgresTarget {
  /** Host name, address, or a Unix socket directory (starts with `/`). */
  readonly host: string;
  readonly port: number;
  /** Absent: the driver's default (the OS user). */
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Absent: the server's default (the user name). */
  readonly database: string | undefined;
  readonly sslmode: PostgresSslMode;
  /** File paths, read when connecting. */
  readonly sslrootcert: string | undefined;
  readonly sslcert: string | undefined;
  readonly sslkey: string | undefined;
  readonly connectTimeoutSeconds: number | undefined;
  readonly applicationName: string | undefined;
  /** Other parameters, sent as session run-time parameters. */
  readonly runtimeParams: Readonly<Record<string, string>>;
}

const SSL_MODES: readonly string[] = ['disable', 'require', 'verify-ca', 'verify-full'];

/** Environment variables lib/pq reads for settings the URL does not give. */
const ENV_DEFAULTS: Readonly<Record<string, string>> = {
  PGHOST: 'host',
  PGPORT: 'port',
  PGDATABASE: 'dbname',
  PGUSER: 'user',
  PGPASSWORD: 'password',
  PGSSLMODE: 'sslmode',
  PGSSLCERT: 'sslcert',
  PGSSLKEY: 'sslkey',
  PGSSLROOTCERT: 'sslrootcert',
  PGCONNECT_TIMEOUT: 'connect_timeout',
  PGAPPNAME: 'application_name',
};

/** Settings the driver consumes itself; everything else is a run-time parameter. */
const KNOWN = new Set(['host', 'port', 'dbname', 'user', 'password', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'connect_timeout', 'application_name', 'fallback_application_name', 'sslinline', 'sslsni', 'disable_prepared_binary_result', 'binary_parameters', 'krbsrvname', 'krbspn']);

/**
 * Parses a PostgreSQL `db_url`.
 * @param env where `PG*` defaults come from (default `process.env`)
 * @throws ConfigError naming what is wrong (never echoing the password)
 */
export function parsePostgresUrl(dbUrl: string, env: NodeJS.ProcessEnv = process.env): PostgresTarget {
  const s = dbUrl.trim();
  const given = /^postgres(ql)?:\/\//i.test(s) ? fromUrl(s) : fromKeywords(s);
  const o = new Map<string, string>();
  for (const [name, key] of Object.entries(ENV_DEFAULTS)) {
    const v = env[name];
    if (v !== undefined && v !== '') o.set(key, v);
  }
  for (const [k, v] of given) o.set(k, v);

  const sslmode = o.get('sslmode') ?? 'require';
  if (!SSL_MODES.includes(sslmode)) {
    throw new ConfigError(`storage.db_url: unsupported sslmode "${sslmode}" (use ${SSL_MODES.join(', ')})`);
  }
  const portText = o.get('port') ?? '5432';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new ConfigError(`storage.db_url: invalid port "${portText}"`);
  let connectTimeoutSeconds: number | undefined;
  const timeout = o.get('connect_timeout');
  if (timeout !== undefined) {
    if (!/^\d+$/.test(timeout)) throw new ConfigError(`storage.db_url: invalid connect_timeout "${timeout}"`);
    connectTimeoutSeconds = Number(timeout) === 0 ? undefined : Number(timeout);
  }
  const runtimeParams: Record<string, string> = {};
  for (const [k, v] of o) {
    if (!KNOWN.has(k)) runtimeParams[k] = v;
  }
  const nonEmpty = (k: string): string | undefined => {
    const v = o.get(k);
    return v === undefined || v === '' ? undefined : v;
  };
  return {
    host: nonEmpty('host') ?? 'localhost',
    port,
    user: nonEmpty('user'),
    password: o.get('password'),
    database: nonEmpty('dbname'),
    sslmode: sslmode as PostgresSslMode,
    sslrootcert: nonEmpty('sslrootcert'),
    sslcert: nonEmpty('sslcert'),
    sslkey: nonEmpty('sslkey'),
    connectTimeoutSeconds,
    applicationName: nonEmpty('application_name') ?? nonEmpty('fallback_application_name'),
    runtimeParams,
  };
}

/** `user@host:port/db` for messages: never the password. */
export function describePostgres(t: PostgresTarget): string {
  const host = t.host.includes(':') && !t.host.startsWith('/') ? `[${t.host}]` : t.host;
  return `postgres ${t.user !== undefined ? `${t.user}@` : ''}${host}:${t.port}/${t.database ?? ''}`;
}

function fromUrl(s: string): Map<string, string> {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new ConfigError('storage.db_url: not a valid postgres:// URL');
  }
  const o = new Map<string, string>();
  const decode = (v: string, what: string): string => {
    try {
      return decodeURIComponent(v);
    } catch {
      throw new ConfigError(`storage.db_url: bad percent-encoding in the ${what}`);
    }
  };
  if (u.username !== '') o.set('user', decode(u.username, 'user name'));
  if (u.password !== '') o.set('password', decode(u.password, 'password'));
  if (u.hostname !== '') o.set('host', u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname);
  if (u.port !== '') o.set('port', u.port);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '') o.set('dbname', decode(db, 'database name'));
  for (const [k, v] of u.searchParams) o.set(k, v);
  return o;
}

/** lib/pq's `key=value` form: whitespace separated, values optionally single-quoted, `\` escapes. */
function fromKeywords(s: string): Map<string, string> {
  const o = new Map<string, string>();
  let i = 0;
  const skipSpace = (): void => {
    while (i < s.length && /\s/.test(s[i] ?? '')) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= s.length) return o;
    const keyStart = i;
    while (i < s.length && s[i] !== '=' && !/\s/.test(s[i] ?? '')) i++;
    const key = s.slice(keyStart, i);
    skipSpace();
    if (key === '' || s[i] !== '=') {
      throw new ConfigError(`storage.db_url: expected key=value at "${key || s.slice(keyStart, keyStart + 10)}" (or use a postgres:// URL)`);
    }
    i++;
    skipSpace();
    let value = '';
    const quoted = s[i] === "'";
    if (quoted) i++;
    for (;;) {
      const c = s[i];
      if (c === undefined) {
        if (quoted) throw new ConfigError(`storage.db_url: unterminated quoted value for ${key}`);
        break;
      }
      if (quoted ? c === "'" : /\s/.test(c)) {
        if (quoted) i++;
        break;
      }
      if (c === '\\') {
        i++;
        const next = s[i];
        if (next === undefined) throw new ConfigError(`storage.db_url: dangling backslash in the value of ${key}`);
        value += next;
      } else {
        value += c;
      }
      i++;
    }
    o.set(key, value);
  }
}
