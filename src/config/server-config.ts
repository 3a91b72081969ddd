/**
 * The trust server's configuration: notary-server's config file (spec §5.5), read as notary reads
 * it, validated once at startup, given defaults and deep-frozen.
 *
 * - JSON or YAML by extension; keys case-insensitive (viper).
 * - `NOTARY_SERVER_<PATH_WITH_UNDERSCORES>` overrides any leaf (`NOTARY_SERVER_STORAGE_DB_URL`);
 *   `VOUCH_SERVER_KEY_PASSPHRASE` sets `trust_service.key_passphrase`.
 * - Relative file paths resolve against the config file's directory (notary does this for the
 *   TLS files; vouch also does it for `auth.options.rootcertbundle`, which notary opens relative
 *   to the working directory, and for a sqlite3 `db_url`).
 * - Every key notary-server accepts is accepted (including ones vouch does not use:
 *   `reporting.bugsnag.*`, rethinkdb's storage fields); anything else is an error.
 *
 * Deliberate differences from notary (documented, lenient only):
 * - `trust_service.type` defaults to `local` and `storage.backend` to `memory` (notary refuses
 *   to start without them);
 * - `rethinkdb` is refused with a clear message (not implemented by vouch).
 *
 * vouch's own keys:
 * - `server.max_upload_bytes` (default 100 MiB, `DEFAULT_MAX_UPLOAD_BYTES`): the largest publish
 *   body accepted; notary has no limit. Larger bodies get 413 (see src/server/errors.ts).
 * - `trust_service.key_passphrase`: passphrase sealing the server-managed private keys.
 *
 * Example:
 *   const config = await loadServerConfig('server.json');   // throws ConfigError
 *   config.storage.backend  // 'memory'
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import { deepFreeze, lowercaseKeys, readConfigFile, walkSchema, type Flat, type SchemaNode } from './load.ts';

export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
export const DEFAULT_CURRENT_MAX_AGE = 300;
export const DEFAULT_CONSISTENT_MAX_AGE = 2592000;
export const MAX_CACHE_MAX_AGE = 31536000;
export const SERVER_ENV_PREFIX = 'NOTARY_SERVER';
export const KEY_PASSPHRASE_ENV = 'VOUCH_SERVER_KEY_PASSPHRASE';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type StorageBackend = 'memory' | 'sqlite3' | 'postgres' | 'mysql';
export type KeyAlgorithm = 'ed25519' | 'ecdsa' | 'rsa';

export interface ServerTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** When set, clients must present a certificate signed by this CA. */
  readonly clientCaFile: string | null;
}

export interface TokenAuthConfig {
  readonly type: 'token';
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly rootCertBundle: string;
  readonly autoRedirect: boolean;
}

export interface ServerConfig {
  /** Absolute path of the file read, or null when built from an object. */
  readonly configFile: string | null;
  readonly server: {
    readonly httpAddr: string;
    readonly tls: ServerTlsConfig | null;
    readonly maxUploadBytes: number;
  };
  readonly trustService: {
    readonly type: 'local' | 'remote';
    /** Effective algorithm: `ed25519` for `local` (notary ignores key_algorithm there). */
    readonly keyAlgorithm: KeyAlgorithm;
    readonly hostname: string | null;
    readonly port: number | null;
    readonly tlsCaFile: string | null;
    readonly tlsClientCert: string | null;
    readonly tlsClientKey: string | null;
    /** null: not configured (the trust service decides its default). */
    readonly keyPassphrase: string | null;
  };
  readonly storage: {
    readonly backend: StorageBackend;
    readonly dbUrl: string | null;
  };
  readonly logging: { readonly level: LogLevel };
  readonly caching: {
    readonly maxAge: { readonly currentMetadata: number; readonly consistentMetadata: number };
  };
  readonly repositories: { readonly gunPrefixes: readonly string[] };
  /** null: no authentication (notary wires only `auth.type: token`). */
  readonly auth: TokenAuthConfig | null;
  /** Things worth logging at startup (ignored settings). */
  readonly warnings: readonly string[];
}

const SCHEMA: SchemaNode = {
  server: { http_addr: 'string', tls_cert_file: 'string', tls_key_file: 'string', client_ca_file: 'string', max_upload_bytes: 'int' },
  trust_service: {
    type: 'string',
    key_algorithm: 'string',
    hostname: 'string',
    port: 'string',
    tls_ca_file: 'string',
    tls_client_cert: 'string',
    tls_client_key: 'string',
    key_passphrase: 'string',
  },
  storage: {
    backend: 'string',
    db_url: 'string',
    tls_ca_file: 'string',
    client_cert_file: 'string',
    client_key_file: 'string',
    database: 'string',
    username: 'string',
    password: 'string',
  },
  logging: { level: 'string' },
  reporting: { bugsnag: { api_key: 'string', release_stage: 'string', endpoint: 'string' } },
  caching: { max_age: { current_metadata: 'int', consistent_metadata: 'int' } },
  repositories: { gun_prefixes: 'string-list' },
  auth: { type: 'string', options: 'map' },
};

const TOKEN_OPTION_KEYS = ['realm', 'service', 'issuer', 'rootcertbundle', 'autoredirect'];

const LOG_LEVELS: Readonly<Record<string, LogLevel>> = {
  panic: 'fatal',
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  warning: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
};

export interface LoadOptions {
  /** Environment to read overrides from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Read, validate and freeze notary-server's config file.
 * @throws ConfigError listing every problem found
 */
export async function loadServerConfig(file: string, opts: LoadOptions = {}): Promise<ServerConfig> {
  const abs = resolve(file);
  const raw = await readConfigFile(abs);
  return parseServerConfig(raw, { ...opts, configFile: abs });
}

/**
 * Validate an already-parsed config object. Relative paths resolve against the directory of
 * `configFile` (or the working directory when it is absent).
 * @throws ConfigError listing every problem found
 */
export function parseServerConfig(raw: unknown, opts: LoadOptions & { configFile?: string } = {}): ServerConfig {
  const env = opts.env ?? process.env;
  const baseDir = opts.configFile === undefined ? process.cwd() : dirname(opts.configFile);
  const { values, errors } = walkSchema(SCHEMA, lowercaseKeys(raw ?? {}), env, SERVER_ENV_PREFIX, {
    'auth.options': TOKEN_OPTION_KEYS,
  });
  const warnings: string[] = [];
  const str = (k: string): string | null => {
    const v = values.get(k);
    return typeof v === 'string' && v !== '' ? v : null;
  };
  const path = (k: string): string | null => {
    const v = str(k);
    return v === null ? null : resolveAgainst(baseDir, v);
  };

  const server = buildServer(values, str, path, errors);
  const trustService = buildTrustService(str, path, env, errors);
  const storage = buildStorage(str, baseDir, errors);

  const levelRaw = str('logging.level');
  let level: LogLevel = 'error';
  if (levelRaw !== null) {
    const l = LOG_LEVELS[levelRaw.toLowerCase()];
    if (l === undefined) errors.push(`logging.level: not a valid log level: ${JSON.stringify(levelRaw)}`);
    else level = l;
  }

  const maxAge = (k: string, dflt: number): number => {
    const v = values.get(`caching.max_age.${k}`);
    if (v === undefined) return dflt;
    const n = v as number;
    if (n < 0 || n > MAX_CACHE_MAX_AGE) {
      errors.push(`caching.max_age.${k}: must specify a cache-control max-age between 0 and ${MAX_CACHE_MAX_AGE}`);
      return dflt;
    }
    return n;
  };
  const caching = {
    maxAge: {
      currentMetadata: maxAge('current_metadata', DEFAULT_CURRENT_MAX_AGE),
      consistentMetadata: maxAge('consistent_metadata', DEFAULT_CONSISTENT_MAX_AGE),
    },
  };

  const gunPrefixes = (values.get('repositories.gun_prefixes') as string[] | undefined) ?? [];
  for (const prefix of gunPrefixes) {
    const p = cleanPrefix(prefix.trim());
    if (p + '/' !== prefix || p.startsWith('/') || p.startsWith('..')) {
      errors.push(`repositories.gun_prefixes: invalid GUN prefix ${prefix} (each must be a clean relative path ending in "/")`);
    }
  }

  const auth = buildAuth(str, values, baseDir, errors, warnings);

  if (str('reporting.bugsnag.api_key') !== null || str('reporting.bugsnag.endpoint') !== null) {
    warnings.push('reporting.bugsnag is accepted for compatibility and ignored');
  }

  if (errors.length > 0) {
    const where = opts.configFile === undefined ? 'config' : `config ${opts.configFile}`;
    throw new ConfigError(`invalid ${where}:\n  - ${errors.join('\n  - ')}`);
  }
  return deepFreeze({
    configFile: opts.configFile ?? null,
    server,
    trustService,
    storage,
    logging: { level },
    caching,
    repositories: { gunPrefixes },
    auth,
    warnings,
  });
}

type Str = (k: string) => string | null;

function buildServer(values: Flat, str: Str, path: Str, errors: string[]): ServerConfig['server'] {
  const httpAddr = str('server.http_addr');
  if (httpAddr === null) errors.push('server.http_addr: http listen address required for server');
  else if (parseListenAddress(httpAddr) === null) errors.push(`server.http_addr: not a host:port address: ${JSON.stringify(httpAddr)}`);
  const certFile = path('server.tls_cert_file');
  const keyFile = path('server.tls_key_file');
  const clientCaFile = path('server.client_ca_file');
  let tls: ServerTlsConfig | null = null;
  if (certFile !== null && keyFile !== null) tls = { certFile, keyFile, clientCaFile };
  else if (certFile !== null || keyFile !== null || clientCaFile !== null) {
    errors.push('server: either include both a cert and key file, or no TLS information at all to disable TLS');
  }
  const maxUploadBytes = (values.get('server.max_upload_bytes') as number | undefined) ?? DEFAULT_MAX_UPLOAD_BYTES;
  if (maxUploadBytes < 1) errors.push('server.max_upload_bytes: must be a positive number of bytes');
  return { httpAddr: httpAddr ?? '', tls, maxUploadBytes };
}

function buildTrustService(str: Str, path: Str, env: Readonly<Record<string, string | undefined>>, errors: string[]): ServerConfig['trustService'] {
  const type = str('trust_service.type') ?? 'local';
  const passEnv = env[KEY_PASSPHRASE_ENV];
  const keyPassphrase = passEnv !== undefined && passEnv !== '' ? passEnv : str('trust_service.key_passphrase');
  const common = { tlsCaFile: path('trust_service.tls_ca_file'), tlsClientCert: path('trust_service.tls_client_cert'), tlsClientKey: path('trust_service.tls_client_key'), keyPassphrase };
  if (type === 'local') return { type, keyAlgorithm: 'ed25519', hostname: null, port: null, ...common };
  if (type !== 'remote') {
    errors.push(`trust_service.type: must specify either a "local" or "remote" type for trust_service (got ${JSON.stringify(type)})`);
    return { type: 'local', keyAlgorithm: 'ed25519', hostname: null, port: null, ...common };
  }
  const algo = str('trust_service.key_algorithm');
  let keyAlgorithm: KeyAlgorithm = 'ecdsa';
  if (algo === 'ed25519' || algo === 'ecdsa' || algo === 'rsa') keyAlgorithm = algo;
  else errors.push(`trust_service.key_algorithm: invalid key algorithm configured: ${algo ?? ''} (ecdsa, ed25519 or rsa)`);
  const hostname = str('trust_service.hostname');
  if (hostname === null) errors.push('trust_service.hostname: required for a remote trust service');
  const portRaw = str('trust_service.port');
  let port: number | null = null;
  if (portRaw === null) errors.push('trust_service.port: required for a remote trust service');
  else if (!/^\d+$/.test(portRaw) || Number(portRaw) < 1 || Number(portRaw) > 65535) errors.push(`trust_service.port: not a port number: ${portRaw}`);
  else port = Number(portRaw);
  if ((common.tlsClientCert === null) !== (common.tlsClientKey === null)) {
    errors.push('trust_service: either pass both client key and cert, or neither');
  }
  return { type, keyAlgorithm, hostname, port, ...common };
}

function buildStorage(str: Str, baseDir: string, errors: string[]): ServerConfig['storage'] {
  const backend = str('storage.backend') ?? 'memory';
  let dbUrl = str('storage.db_url');
  switch (backend) {
    case 'memory':
      return { backend, dbUrl };
    case 'sqlite3':
    case 'postgres':
    case 'mysql':
      if (dbUrl === null) errors.push(`storage.db_url: must provide a non-empty database source for ${backend}`);
      else if (backend === 'sqlite3' && dbUrl !== ':memory:' && !dbUrl.startsWith('file:')) dbUrl = resolveAgainst(baseDir, dbUrl);
      return { backend, dbUrl };
    case 'rethinkdb':
      errors.push('storage.backend: rethinkdb is not supported by vouch (use sqlite3, postgres or mysql)');
      return { backend: 'memory', dbUrl };
    default:
      errors.push(`storage.backend: ${backend} is not a supported storage backend (memory, sqlite3, postgres or mysql)`);
      return { backend: 'memory', dbUrl };
  }
}

function buildAuth(str: Str, values: Flat, baseDir: string, errors: string[], warnings: string[]): TokenAuthConfig | null {
  const type = str('auth.type');
  if (type === null) return null;
  if (type !== 'token') {
    warnings.push(`auth.type ${JSON.stringify(type)} is not wired by notary-server; running without authentication`);
    return null;
  }
  const opts = (values.get('auth.options') as Record<string, unknown> | undefined) ?? {};
  for (const k of Object.keys(opts)) {
    if (!TOKEN_OPTION_KEYS.includes(k)) errors.push(`unknown key auth.options.${k} (token auth takes ${TOKEN_OPTION_KEYS.join(', ')})`);
  }
  const need = (k: string): string => {
    const v = opts[k];
    if (typeof v === 'string' && v !== '') return v;
    errors.push(`auth.options.${k}: token auth requires a valid option string: ${JSON.stringify(k)}`);
    return '';
  };
  const realm = need('realm');
  const service = need('service');
  const issuer = need('issuer');
  const bundle = need('rootcertbundle');
  let autoRedirect = false;
  const ar = opts['autoredirect'];
  if (ar !== undefined) {
    if (ar === true || ar === 'true') autoRedirect = true;
    else if (ar !== false && ar !== 'false') errors.push('auth.options.autoredirect: token auth requires a valid option bool: autoredirect');
  }
  return { type: 'token', realm, service, issuer, rootCertBundle: bundle === '' ? '' : resolveAgainst(baseDir, bundle), autoRedirect };
}

function resolveAgainst(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/** Go's path.Clean, enough for prefix validation. */
function cleanPrefix(p: string): string {
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (seg === '..' && rooted) continue;
    else out.push(seg);
  }
  const j = out.join('/');
  return rooted ? '/' + j : j === '' ? '.' : j;
}

/**
 * Split a Go listen address (`host:port`, `:port`, `[v6]:port`). Empty host means all
 * interfaces. Returns null when malformed.
 */
export function parseListenAddress(addr: string): { host: string; port: number } | null {
  const m = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(addr);
  if (m === null) return null;
  const port = Number(m[2]);
  if (port > 65535) return null;
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}
