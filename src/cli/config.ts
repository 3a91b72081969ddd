/**
 * The notary client config (spec §9.5), read the way the notary CLI reads it with viper, so one
 * `~/.notary/config.json` serves notary, docker-minded scripts and vouch:
 *
 * - the file is `-c FILE`, else `$HOME/.notary/config.json`; JSON or YAML by extension
 *   (`.json`, `.yaml`, `.yml`), keys case-insensitive. An explicit file must exist; the default
 *   one may be missing (defaults apply);
 * - defaults: `trust_dir` `~/.notary`, `remote_server.url` `https://notary-server:4443`;
 * - flags win: `-d`, `-s`, `--tlscacert`, `--tlscert`, `--tlskey` (paths against the working
 *   directory);
 * - `trust_dir`: a leading `~` is the home directory; a relative value is relative to the
 *   working directory, as notary leaves it (not to the config file);
 * - `remote_server.root_ca`, `tls_client_cert`, `tls_client_key`: relative to the config file's
 *   directory (notary's GetPathRelativeToConfig); vouch also expands a leading `~`;
 * - `trust_pinning`: `certs` (GUN or `prefix*` → TUF key IDs), `ca` (GUN prefix → CA file),
 *   `disable_tofu`. A `certs` entry that is not a list of strings is notary's
 *   `invalid format for trust_pinning.certs`.
 *
 * Errors carry notary's texts (`error opening config file: …`).
 *
 * @example
 *   const cfg = await loadClientConfig({ trustDir: '/tmp/t' }, { env: process.env, cwd: process.cwd() });
 *   cfg.serverUrl // 'https://notary-server:4443'
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, join, normalize, resolve } from 'node:path';
import type { TrustPinConfig } from '../client/index.ts';
import { ConfigError } from '../errors/index.ts';
import { goPathError, isNotExist } from './go-errors.ts';
import { goJsonSyntaxError } from './go-json-check.ts';
import type { Env } from './io.ts';

export const DEFAULT_SERVER_URL = 'https://notary-server:4443';
export const CONFIG_DIR = '.notary';
export const CONFIG_FILE_NAME = 'config.json';

/** The global flags of every notary command. */
export interface GlobalFlags {
  readonly configFile?: string;
  readonly trustDir?: string;
  readonly server?: string;
  readonly tlscacert?: string;
  readonly tlscert?: string;
  readonly tlskey?: string;
  readonly debug?: boolean;
  readonly verbose?: boolean;
}

export interface ClientTls {
  readonly rootCA?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly skipTLSVerify?: boolean;
}

export interface ClientConfig {
  /** The config file in use: `-c` as given, or the default path (which may not exist). */
  readonly configFile: string;
  readonly configFileExists: boolean;
  /** Home directory (`$HOME`), '' when unset. */
  readonly home: string;
  /** Absolute. */
  readonly trustDir: string;
  /**
   * The trust dir as notary names it in output (`key list` locations): a relative `trust_dir`
   * from the config file stays relative, as notary leaves it.
   */
  readonly trustDirDisplay: string;
  readonly serverUrl: string;
  readonly tls: ClientTls;
  /**
   * `trust_pinning`, parsed when asked for (notary only reads it for repository commands).
   * @throws ConfigError `invalid format for trust_pinning.certs`
   */
  readonly trustPinning: () => TrustPinConfig;
  /** Things notary would log as warnings while reading the config. */
  readonly warnings: readonly string[];
}

export interface ConfigEnv {
  readonly env: Env;
  readonly cwd: string;
}

/** notary's homeExpand: a leading `~` alone or followed by `/`. */
export function homeExpand(home: string, path: string): string {
  if (path === '' || path[0] !== '~' || (path.length > 1 && path[1] !== '/')) return path;
  return join(home, path.slice(1));
}

/** The config file `-c` names, or the default one. */
export function configFilePath(flags: GlobalFlags, e: ConfigEnv): string {
  if (flags.configFile !== undefined && flags.configFile !== '') return flags.configFile;
  const home = e.env['HOME'] ?? '';
  return join(home === '' ? e.cwd : home, CONFIG_DIR, CONFIG_FILE_NAME);
}

/** yaml's parser, loaded only for a YAML config file (the package is 72 modules of start-up). */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

/** Parse config text by the file's extension. @throws ConfigError (notary's texts) */
export function parseConfigText(file: string, text: string): Record<string, unknown> {
  const ext = extname(file).slice(1).toLowerCase();
  let raw: unknown;
  try {
    if (ext === 'json') {
      const syntax = goJsonSyntaxError(Buffer.from(text, 'utf8'));
      if (syntax !== null) throw new ConfigError(`error opening config file: While parsing config: ${syntax}`);
      raw = JSON.parse(text);
    }
    else if (ext === 'yaml' || ext === 'yml') raw = parseYaml(text) ?? {};
    else throw new ConfigError(`error opening config file: Unsupported Config Type ${JSON.stringify(ext)}`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`error opening config file: While parsing config: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('error opening config file: While parsing config: the top level must be a map');
  }
  return raw as Record<string, unknown>;
}

/** A value by case-insensitive key (viper lowercases keys). */
function field(obj: unknown, key: string): unknown {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === key) return v;
  return undefined;
}

function asString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

function asBool(v: unknown): boolean {
  return v === true || (typeof v === 'string' && /^(1|t|true)$/i.test(v));
}

/** `trust_pinning` as notary's getTrustPinning reads it. @throws ConfigError */
export function parseTrustPinning(section: unknown): TrustPinConfig {
  const certs: Record<string, string[]> = {};
  const rawCerts = field(section, 'certs');
  if (rawCerts !== undefined && rawCerts !== null) {
    if (typeof rawCerts !== 'object' || Array.isArray(rawCerts)) throw new ConfigError('invalid format for trust_pinning.certs');
    for (const [gun, ids] of Object.entries(rawCerts)) {
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new ConfigError('invalid format for trust_pinning.certs');
      certs[gun] = [...(ids as string[])];
    }
  }
  const ca: Record<string, string> = {};
  const rawCa = field(section, 'ca');
  if (typeof rawCa === 'object' && rawCa !== null && !Array.isArray(rawCa)) {
    for (const [prefix, file] of Object.entries(rawCa)) ca[prefix] = asString(file);
  }
  return { certs, ca, disableTofu: asBool(field(section, 'disable_tofu')) };
}

function relativeToCwd(cwd: string, path: string | undefined): string | undefined {
  if (path === undefined || path === '') return undefined;
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function relativeToConfig(home: string, configFile: string, path: string): string | undefined {
  const p = homeExpand(home, path);
  if (p === '') return undefined;
  return isAbsolute(p) ? p : resolve(dirname(configFile), p);
}

/**
 * Read the config file (if any) and apply the flags. `allowMissing`: a `-c` file that does not
 * exist yet is not an error (for commands that create it).
 * @throws ConfigError `error opening config file: …`, `invalid format for trust_pinning.certs`
 */
export async function loadClientConfig(flags: GlobalFlags, e: ConfigEnv, o: { allowMissing?: boolean } = {}): Promise<ClientConfig> {
  const warnings: string[] = [];
  const home = e.env['HOME'] ?? '';
  if (home === '') {
    warnings.push('cannot get current user home directory: environment variable not set');
    warnings.push(`notary will use ${join(e.cwd, CONFIG_DIR)} to store configuration and keys`);
  }
  const explicit = flags.configFile !== undefined && flags.configFile !== '';
  const configFile = configFilePath(flags, e);
  let raw: Record<string, unknown> = {};
  let exists = false;
  let text: string | undefined;
  try {
    text = await readFile(resolve(e.cwd, configFile), 'utf8');
    exists = true;
  } catch (err) {
    if ((explicit && o.allowMissing !== true) || !isNotExist(err)) throw new ConfigError(`error opening config file: ${goPathError('open', configFile, err)}`, { cause: err });
  }
  if (text !== undefined) raw = parseConfigText(configFile, text);
  const absConfig = resolve(e.cwd, configFile);

  const remote = field(raw, 'remote_server');
  const fromConfig = (key: string): string | undefined => relativeToConfig(home, absConfig, asString(field(remote, key)));
  const rootCA = relativeToCwd(e.cwd, flags.tlscacert) ?? fromConfig('root_ca');
  const clientCert = relativeToCwd(e.cwd, flags.tlscert) ?? fromConfig('tls_client_cert');
  const clientKey = relativeToCwd(e.cwd, flags.tlskey) ?? fromConfig('tls_client_key');
  const skip = field(remote, 'skiptlsverify');

  const flagDir = relativeToCwd(e.cwd, flags.trustDir);
  const configDir = asString(field(raw, 'trust_dir'));
  const defaultDir = join(home, CONFIG_DIR);
  const trustDirDisplay = normalize(homeExpand(home, flagDir ?? (configDir !== '' ? configDir : defaultDir)));
  const trustDir = resolve(e.cwd, trustDirDisplay);

  const url = flags.server !== undefined && flags.server !== '' ? flags.server : asString(field(remote, 'url'));
  return {
    configFile,
    configFileExists: exists,
    home,
    trustDir,
    trustDirDisplay,
    serverUrl: url !== '' ? url : DEFAULT_SERVER_URL,
    tls: {
      ...(rootCA === undefined ? {} : { rootCA }),
      ...(clientCert === undefined ? {} : { clientCert }),
      ...(clientKey === undefined ? {} : { clientKey }),
      ...(skip === undefined ? {} : { skipTLSVerify: asBool(skip) }),
    },
    trustPinning: () => parseTrustPinning(field(raw, 'trust_pinning')),
    warnings,
  };
}
