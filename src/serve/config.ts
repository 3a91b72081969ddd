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
 *
 * Host names are the names clients reach the server under besides 127.0.0.1, ::1 and localhost
 * (DNS names or IP addresses). They go into the server certificate and the list of registry
 * hosts: docker names trust data `<host[:port]>/<repository>` after the name it was given, so
 * content trust looks up a repository's signatures under each of these names.
 *
 * Example:
 *   const cfg = resolveServeConfig({ addr: '0.0.0.0:443', hostnames: ['registry.example.com'] }, process.env);
 *   registryNames(cfg, 443); // ['registry.example.com', '127.0.0.1', …] as GUN prefixes
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { deepFreeze, parseListenAddress, type LogLevel } from '../config/index.ts';
import { ConfigError } from '../errors/index.ts';

export interface ServeConfig {
  readonly dataDir: string;
  /** Listen host ('' = every interface) and port (0 = any free port). */
  readonly host: string;
  readonly port: number;
  readonly hostnames: readonly string[];
  readonly logLevel: LogLevel;
  readonly tokenTtlSeconds: number;
}

export interface ServeOptions {
  readonly dataDir?: string;
  readonly addr?: string;
  readonly hostname?: readonly string[];
  readonly logLevel?: string;
  readonly tokenTtl?: string | number;
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
  for (const h of hostnames) if (isIP(h) === 0 && !DNS_NAME.test(h)) errors.push(`--hostname: not a DNS name or IP address: ${JSON.stringify(h)}`);
  const level = pick(o.logLevel, 'VOUCH_LOG_LEVEL', SERVE_DEFAULTS.logLevel).toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level)) errors.push(`--log-level: one of ${LEVELS.join(', ')}`);
  const ttlRaw = o.tokenTtl ?? env['VOUCH_TOKEN_TTL'] ?? SERVE_DEFAULTS.tokenTtlSeconds;
  const ttl = Number(ttlRaw);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400) errors.push(`--token-ttl: seconds between 60 and 86400, got ${JSON.stringify(ttlRaw)}`);
  if (errors.length > 0) throw new ConfigError(`vouch serve:\n  - ${errors.join('\n  - ')}`);
  return deepFreeze({
    dataDir: resolve(pick(o.dataDir, 'VOUCH_DATA_DIR', SERVE_DEFAULTS.dataDir)),
    host: listen!.host,
    port: listen!.port,
    hostnames: [...new Set(hostnames.map((h) => h.toLowerCase()))],
    logLevel: level as LogLevel,
    tokenTtlSeconds: ttl,
  });
}

const isWildcard = (host: string): boolean => host === '' || host === '0.0.0.0' || host === '::';
const withPort = (name: string, port: number): string => `${isIP(name) === 6 ? `[${name}]` : name}:${port}`;

/**
 * The registry host names docker may use for this server, as they appear in GUNs and scopes:
 * `name:port` for the configured names, the listen address and the loopback names, plus the
 * bare name when the port is 443 (docker leaves the default port out).
 */
export function registryNames(cfg: ServeConfig, port: number): string[] {
  const names = [...cfg.hostnames, ...(isWildcard(cfg.host) ? [] : [cfg.host.toLowerCase()]), '127.0.0.1', 'localhost', '::1'];
  const out: string[] = [];
  for (const n of new Set(names)) {
    out.push(withPort(n, port));
    if (port === 443) out.push(isIP(n) === 6 ? `[${n}]` : n);
  }
  return out;
}
