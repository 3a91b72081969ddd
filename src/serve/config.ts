/**
 * `vouch serve`'s settings: flags first, then environment, then defaults; validated once (every
 * problem reported together) and frozen (STYLE.md §6).
 *
 * | setting    | flag               | environment          | default        |
 * |------------|--------------------|----------------------|----------------|
 * | data dir   | `--data-dir DIR`   | `VOUCH_DATA_DIR`     | `./vouch-data` |
 * | listen     | `--addr HOST:PORT` | `VOUCH_ADDR`         | `127.0.0.1:5000` |
 * | host names | `--hostname NAME…` | `VOUCH_HOSTNAMES` (comma-separated) | none |
 * | log level  | `--log-level L`    | `VOUCH_LOG_LEVEL`    | `info`         |
 * | token TTL  | `--token-ttl S`    | `VOUCH_TOKEN_TTL`    | 300 s          |
 * | database   | `--db URL`         | `VOUCH_DB_URL`       | SQLite `vouch.db` in the data dir |
 *
 * Host names are the names clients reach the server under besides 127.0.0.1, ::1 and localhost
 * (DNS names or IP addresses), each optionally with the port clients use when it is not the
 * listen port (`registry.example.com:443` behind a load balancer). They go into the server
 * certificate and the list of registry hosts: docker names trust data `<host[:port]>/<repository>`
 * after the name it was given, so content trust looks up a repository's signatures under each.
 *
 * The database: trust metadata, the server's sealed signing keys, users/grants/tokens and the
 * content-trust settings. `--db` takes notary's `db_url` forms: `postgres://…` or
 * `postgresql://…` (or lib/pq's `host=… dbname=…`), a MySQL/MariaDB DSN
 * (`user:pass@tcp(host:3306)/vouch?parseTime=True`) or a `mysql://user:pass@host:3306/vouch` URL,
 * which is read as that DSN. Several instances may share one such database (and one data dir).
 *
 * Example:
 *   const cfg = resolveServeConfig({ addr: '0.0.0.0:443', hostname: ['registry.example.com'] }, process.env);
 *   registryNames(cfg, 443); // ['registry.example.com:443', 'registry.example.com', '127.0.0.1:443', …] as GUN prefixes
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { deepFreeze, parseListenAddress, type LogLevel } from '../config/index.ts';
import { ConfigError } from '../errors/index.ts';
import { describeMysql, parseMysqlDsn } from '../storage/mysql-dsn.ts';
import { describePostgres, parsePostgresUrl } from '../storage/postgres-url.ts';

/** Where `vouch serve` keeps its tables: SQLite in the data dir, or a shared SQL server. */
export type ServeDatabase =
  | { readonly backend: 'sqlite3' }
  | {
      readonly backend: 'postgres' | 'mysql';
      /** A `db_url` in notary's form for the backend (a `mysql://` URL is rewritten as a DSN). */
      readonly url: string;
      /** `postgres user@host:5432/db`, for messages: never the password. */
      readonly label: string;
    };

/** A name clients use for the server; `port` null: the listen port. */
export interface PublicName {
  readonly name: string;
  readonly port: number | null;
}

export interface ServeConfig {
  readonly dataDir: string;
  /** Listen host ('' = every interface) and port (0 = any free port). */
  readonly host: string;
  readonly port: number;
  /** The names of `publicNames` (for the certificate), each once. */
  readonly hostnames: readonly string[];
  readonly publicNames: readonly PublicName[];
  readonly logLevel: LogLevel;
  readonly tokenTtlSeconds: number;
  readonly database: ServeDatabase;
}

export interface ServeOptions {
  readonly dataDir?: string;
  readonly addr?: string;
  readonly hostname?: readonly string[];
  readonly logLevel?: string;
  readonly tokenTtl?: string | number;
  readonly db?: string;
}

export const SERVE_DEFAULTS = Object.freeze({ dataDir: 'vouch-data', addr: '127.0.0.1:5000', logLevel: 'info' as LogLevel, tokenTtlSeconds: 300 });

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** @throws ConfigError listing every problem */
export function resolveServeConfig(o: ServeOptions, env: Readonly<Record<string, string | undefined>>): ServeConfig {
  const errors: string[] = [];
  const pick = (flag: string | undefined, name: string, dflt: string): string => flag ?? (env[name] !== undefined && env[name] !== '' ? env[name] : dflt);
  const addr = pick(o.addr, 'VOUCH_ADDR', SERVE_DEFAULTS.addr);
  const listen = parseListenAddress(addr);
  if (listen === null) errors.push(`--addr: not a host:port address: ${JSON.stringify(addr)}`);
  const hostnames = o.hostname ?? (env['VOUCH_HOSTNAMES'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const publicNames: PublicName[] = [];
  for (const h of hostnames) {
    const named = parsePublicName(h);
    if (named === null) errors.push(`--hostname: not a DNS name or IP address (with an optional :port): ${JSON.stringify(h)}`);
    else if (!publicNames.some((p) => p.name === named.name && p.port === named.port)) publicNames.push(named);
  }
  const level = pick(o.logLevel, 'VOUCH_LOG_LEVEL', SERVE_DEFAULTS.logLevel).toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level)) errors.push(`--log-level: one of ${LEVELS.join(', ')}`);
  const ttlRaw = o.tokenTtl ?? env['VOUCH_TOKEN_TTL'] ?? SERVE_DEFAULTS.tokenTtlSeconds;
  const ttl = Number(ttlRaw);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400) errors.push(`--token-ttl: seconds between 60 and 86400, got ${JSON.stringify(ttlRaw)}`);
  const db = pick(o.db, 'VOUCH_DB_URL', '').trim();
  let database: ServeDatabase = { backend: 'sqlite3' };
  try {
    database = parseServeDatabase(db, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    errors.push(`--db: ${err.message.replace(/^storage\.db_url: /, '')}`);
  }
  if (errors.length > 0) throw new ConfigError(`vouch serve:\n  - ${errors.join('\n  - ')}`);
  return deepFreeze({
    dataDir: resolve(pick(o.dataDir, 'VOUCH_DATA_DIR', SERVE_DEFAULTS.dataDir)),
    host: listen!.host,
    port: listen!.port,
    hostnames: [...new Set(publicNames.map((p) => p.name))],
    publicNames,
    logLevel: level as LogLevel,
    tokenTtlSeconds: ttl,
    database,
  });
}

/** `name`, `name:port`, `ip`, `[ipv6]:port` (lowercased); null when it is none of these. */
function parsePublicName(text: string): PublicName | null {
  const h = text.toLowerCase();
  if (isIP(h) !== 0 || DNS_NAME.test(h)) return { name: h, port: null };
  const withPort = parseListenAddress(h);
  if (withPort === null || withPort.port === 0) return null;
  if (isIP(withPort.host) === 0 && !DNS_NAME.test(withPort.host)) return null;
  return { name: withPort.host, port: withPort.port };
}

const MYSQL_NETS = /(?:^|@)(?:tcp[46]?|unix)\(/;

/**
 * The `--db` value: '' is SQLite in the data dir; otherwise the backend is told by the form and
 * the value is checked here with the storage layer's own parsers, so a bad URL fails at start.
 * @throws ConfigError naming what is wrong (never echoing a password)
 */
export function parseServeDatabase(db: string, env: Readonly<Record<string, string | undefined>>): ServeDatabase {
  if (db === '') return { backend: 'sqlite3' };
  if (/^postgres(ql)?:\/\//i.test(db) || /^[a-z_]+\s*=/i.test(db)) {
    return { backend: 'postgres', url: db, label: describePostgres(parsePostgresUrl(db, env as NodeJS.ProcessEnv)) };
  }
  const url = /^mysql:\/\//i.test(db) ? mysqlUrlToDsn(db) : db;
  if (url === db && !MYSQL_NETS.test(db) && !db.includes('@/')) {
    throw new ConfigError('expected postgres://…, postgresql://…, mysql://… or a MySQL DSN such as user:password@tcp(host:3306)/vouch?parseTime=True');
  }
  return { backend: 'mysql', url, label: describeMysql(parseMysqlDsn(url)) };
}

/** `mysql://user:pass@host:3306/db?params` → go-sql-driver's `user:pass@tcp(host:3306)/db?params`. */
function mysqlUrlToDsn(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ConfigError('not a valid mysql:// URL');
  }
  let user: string;
  let password: string;
  try {
    user = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch {
    throw new ConfigError('bad percent-encoding in the user name or password of the mysql:// URL');
  }
  if (u.hostname === '') throw new ConfigError('the mysql:// URL names no host');
  const db = u.pathname.replace(/^\//, '');
  if (db === '' || db.includes('/')) throw new ConfigError('the mysql:// URL must name one database: mysql://user:password@host:3306/database');
  const cred = user === '' && password === '' ? '' : `${user}${password === '' ? '' : `:${password}`}@`;
  return `${cred}tcp(${u.hostname}:${u.port === '' ? '3306' : u.port})/${db}${u.search}`;
}

const isWildcard = (host: string): boolean => host === '' || host === '0.0.0.0' || host === '::';
const withPort = (name: string, port: number): string => `${isIP(name) === 6 ? `[${name}]` : name}:${port}`;

/**
 * The registry host names docker may use for this server, as they appear in GUNs and scopes:
 * `name:port` for the configured names, the listen address and the loopback names, plus the
 * bare name when the port is 443 (docker leaves the default port out).
 */
export function registryNames(cfg: ServeConfig, port: number): string[] {
  const local = [...(isWildcard(cfg.host) ? [] : [cfg.host.toLowerCase()]), '127.0.0.1', 'localhost', '::1'];
  const names: PublicName[] = [...cfg.publicNames, ...local.map((name) => ({ name, port: null }))];
  const out = new Set<string>();
  for (const n of names) {
    const p = n.port ?? port;
    out.add(withPort(n.name, p));
    if (p === 443) out.add(isIP(n.name) === 6 ? `[${n.name}]` : n.name);
  }
  return [...out];
}
