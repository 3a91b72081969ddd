/**
 * The signer's configuration: notary-signer's config file (spec §8.2–8.3,
 * cmd/notary-signer/config.go), read as notary reads it, validated once, deep-frozen.
 *
 * - JSON or YAML by extension; keys case-insensitive (viper).
 * - `NOTARY_SIGNER_<PATH_WITH_UNDERSCORES>` overrides any leaf (`NOTARY_SIGNER_STORAGE_DB_URL`).
 * - The default alias is `storage.default_alias`; when that is empty, the top-level
 *   `default_alias` — i.e. `NOTARY_SIGNER_DEFAULT_ALIAS`, notary's backwards-compatible variable.
 *   (As in notary, the variable does not override a configured `storage.default_alias`; use
 *   `NOTARY_SIGNER_STORAGE_DEFAULT_ALIAS` for that.)
 * - Passphrases are not config: the passphrase of alias X is `NOTARY_SIGNER_<X upper-cased, "."
 *   as "_">`, read when a key is sealed or opened (`aliasPassphraseEnvName`).
 * - Relative file paths resolve against the config file's directory (TLS files, and a sqlite3
 *   `db_url`).
 * - Every key notary-signer reads is accepted (`reporting.bugsnag.*`, rethinkdb's storage
 *   fields; also `server.http_addr` of older signer configs, ignored); anything else is an error.
 *
 * Deliberate differences (documented, lenient only): `storage.backend` defaults to `memory`
 * (notary refuses to start without one); `sqlite3` works (Debian's notary-signer lacks the
 * driver); `rethinkdb` is refused with a clear message.
 *
 * Example:
 *   const config = await loadSignerConfig('signer.json');   // throws ConfigError
 *   config.server.port   // 7899
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import { deepFreeze, lowercaseKeys, readConfigFile, walkSchema, type SchemaNode } from './load.ts';
import { parseListenAddress, type LogLevel, type LoadOptions } from './server-config.ts';

export const SIGNER_ENV_PREFIX = 'NOTARY_SIGNER';

export type SignerStorageBackend = 'memory' | 'sqlite3' | 'postgres' | 'mysql';

export interface SignerConfig {
  /** Absolute path of the file read, or null when built from an object. */
  readonly configFile: string | null;
  readonly server: {
    /** As configured, e.g. `:7899` or `127.0.0.1:7899`. */
    readonly grpcAddr: string;
    /** "" means every interface. */
    readonly host: string;
    readonly port: number;
    readonly tls: {
      readonly certFile: string;
      readonly keyFile: string;
      /** When set, clients must present a certificate chaining to it (mutual TLS). */
      readonly clientCaFile: string | null;
    };
  };
  readonly storage: {
    readonly backend: SignerStorageBackend;
    readonly dbUrl: string | null;
    /** Alias sealing new keys; null only for `memory`, which needs none. */
    readonly defaultAlias: string | null;
  };
  readonly logging: { readonly level: LogLevel };
  /** Things worth logging at startup (ignored settings). */
  readonly warnings: readonly string[];
}

const SCHEMA: SchemaNode = {
  server: { grpc_addr: 'string', tls_cert_file: 'string', tls_key_file: 'string', client_ca_file: 'string', http_addr: 'string' },
  storage: {
    backend: 'string',
    db_url: 'string',
    default_alias: 'string',
    tls_ca_file: 'string',
    client_cert_file: 'string',
    client_key_file: 'string',
    database: 'string',
    username: 'string',
    password: 'string',
  },
  default_alias: 'string',
  logging: { level: 'string' },
  reporting: { bugsnag: { api_key: 'string', release_stage: 'string', endpoint: 'string' } },
};

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

/** The environment variable holding the passphrase of `alias` (viper's key → env mapping). */
export function aliasPassphraseEnvName(alias: string): string {
  return `${SIGNER_ENV_PREFIX}_${alias.toUpperCase().replaceAll('.', '_')}`;
}

/**
 * Read, validate and freeze notary-signer's config file.
 * @throws ConfigError listing every problem found
 */
export async function loadSignerConfig(file: string, opts: LoadOptions = {}): Promise<SignerConfig> {
  const abs = resolve(file);
  const raw = await readConfigFile(abs);
  return parseSignerConfig(raw, { ...opts, configFile: abs });
}

/**
 * Validate an already-parsed config object; relative paths resolve against the directory of
 * `configFile` (or the working directory).
 * @throws ConfigError listing every problem found
 */
export function parseSignerConfig(raw: unknown, opts: LoadOptions & { configFile?: string } = {}): SignerConfig {
  const env = opts.env ?? process.env;
  const baseDir = opts.configFile === undefined ? process.cwd() : dirname(opts.configFile);
  const { values, errors } = walkSchema(SCHEMA, lowercaseKeys(raw ?? {}), env, SIGNER_ENV_PREFIX);
  const warnings: string[] = [];
  const str = (k: string): string | null => {
    const v = values.get(k);
    return typeof v === 'string' && v !== '' ? v : null;
  };
  const path = (k: string): string | null => {
    const v = str(k);
    return v === null ? null : isAbsolute(v) ? v : resolve(baseDir, v);
  };

  const grpcAddr = str('server.grpc_addr');
  let host = '';
  let port = 0;
  if (grpcAddr === null) errors.push('server.grpc_addr: grpc listen address required for server');
  else {
    const parsed = parseListenAddress(grpcAddr);
    if (parsed === null) errors.push(`server.grpc_addr: not a host:port address: ${JSON.stringify(grpcAddr)}`);
    else ({ host, port } = parsed);
  }
  const certFile = path('server.tls_cert_file');
  const keyFile = path('server.tls_key_file');
  if (certFile === null || keyFile === null) {
    errors.push('server: unable to set up TLS: server.tls_cert_file and server.tls_key_file are required (the signer serves only over TLS)');
  }
  if (str('server.http_addr') !== null) warnings.push('server.http_addr is accepted for compatibility and ignored (the signer serves gRPC only)');

  const backend = str('storage.backend') ?? 'memory';
  let dbUrl = str('storage.db_url');
  const defaultAlias = str('storage.default_alias') ?? str('default_alias');
  let storageBackend: SignerStorageBackend = 'memory';
  switch (backend) {
    case 'memory':
      break;
    case 'sqlite3':
    case 'postgres':
    case 'mysql':
      storageBackend = backend;
      if (dbUrl === null) errors.push(`storage.db_url: must provide a non-empty database source for ${backend}`);
      else if (backend === 'sqlite3' && dbUrl !== ':memory:' && !dbUrl.startsWith('file:') && !isAbsolute(dbUrl)) dbUrl = resolve(baseDir, dbUrl);
      if (defaultAlias === null) errors.push('storage.default_alias: must provide a default alias for the key DB');
      break;
    case 'rethinkdb':
      errors.push('storage.backend: rethinkdb is not supported by vouch (use sqlite3, postgres or mysql)');
      break;
    default:
      errors.push(`storage.backend: ${backend} is not an allowed backend, must be one of: memory, sqlite3, postgres, mysql`);
  }

  const levelRaw = str('logging.level');
  let level: LogLevel = 'error';
  if (levelRaw !== null) {
    const l = LOG_LEVELS[levelRaw.toLowerCase()];
    if (l === undefined) errors.push(`logging.level: not a valid log level: ${JSON.stringify(levelRaw)}`);
    else level = l;
  }
  if (str('reporting.bugsnag.api_key') !== null || str('reporting.bugsnag.endpoint') !== null) {
    warnings.push('reporting.bugsnag is accepted for compatibility and ignored');
  }

  if (errors.length > 0) {
    const where = opts.configFile === undefined ? 'config' : `config ${opts.configFile}`;
    throw new ConfigError(`invalid ${where}:\n  - ${errors.join('\n  - ')}`);
  }
  return deepFreeze({
    configFile: opts.configFile ?? null,
    server: { grpcAddr: grpcAddr ?? '', host, port, tls: { certFile: certFile ?? '', keyFile: keyFile ?? '', clientCaFile: path('server.client_ca_file') } },
    storage: { backend: storageBackend, dbUrl, defaultAlias },
    logging: { level },
    warnings,
  });
}
