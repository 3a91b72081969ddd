/**
 * What the docker CLI keeps in its config dir and `vouch trust` reads the same way (spec §9.1,
 * §12.1):
 *
 * - the config dir is `$DOCKER_CONFIG`, else `~/.docker`; the trust dir is `<config dir>/trust`;
 * - registry credentials come from `config.json`: `auths[<key>]` (`auth` = base64 `user:pass`,
 *   or `username`/`password`, and `identitytoken`), or a credential helper (`credHelpers[<key>]`,
 *   else `credsStore`) run as `docker-credential-<name> get`; the key is
 *   `https://index.docker.io/v1/` for Docker Hub, else the registry host (`host:port`);
 * - TLS material for a server `host:port` is in `<config dir>/tls/<host:port>/`: every `*.crt` is
 *   an extra CA (added to the system roots, as docker does), a `*.cert` with the `*.key` of the
 *   same name is a client certificate.
 *
 * Not here: writing credentials (`vouch login` does that).
 *
 * @example
 *   const dir = dockerConfigDir(io.env);
 *   const auth = await registryAuth(dir, 'registry.example.com');
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { NodeFetcherOptions } from '../http/index.ts';
import type { Env } from './io.ts';

export const CONFIG_FILE = 'config.json';
export const TRUST_SUBDIR = 'trust';
const HELPER_TIMEOUT_MS = 20_000;

export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
  /** An OAuth2 refresh token saved by `docker login` (`identitytoken`), '' when none. */
  readonly identityToken: string;
}

/** `$DOCKER_CONFIG`, else `$HOME/.docker` (relative to `cwd` when HOME is unset). */
export function dockerConfigDir(env: Env, cwd: string): string {
  const given = env['DOCKER_CONFIG'];
  if (given !== undefined && given !== '') return given;
  const home = env['HOME'];
  return join(home !== undefined && home !== '' ? home : cwd, '.docker');
}

/** The docker trust dir: `<config dir>/trust`. */
export function dockerTrustDir(configDir: string): string {
  return join(configDir, TRUST_SUBDIR);
}

interface ConfigFile {
  readonly auths: Record<string, unknown>;
  readonly credsStore: string;
  readonly credHelpers: Record<string, unknown>;
}

async function readConfig(configDir: string): Promise<ConfigFile> {
  let raw: unknown = {};
  try {
    raw = JSON.parse(await readFile(join(configDir, CONFIG_FILE), 'utf8'));
  } catch {
    raw = {};
  }
  const o = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  return { auths: obj(o['auths']), credsStore: typeof o['credsStore'] === 'string' ? o['credsStore'] : '', credHelpers: obj(o['credHelpers']) };
}

/** docker's ConvertToHostname: `https://host/v1/` → `host`. */
function hostnameOf(key: string): string {
  let s = key.replace(/^https?:\/\//, '');
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  return s;
}

function fromEntry(entry: unknown): RegistryAuth | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as Record<string, unknown>;
  let username = typeof e['username'] === 'string' ? e['username'] : '';
  let password = typeof e['password'] === 'string' ? e['password'] : '';
  if (typeof e['auth'] === 'string' && e['auth'] !== '') {
    const plain = Buffer.from(e['auth'], 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) {
      username = plain.slice(0, colon);
      password = plain.slice(colon + 1);
    }
  }
  const identityToken = typeof e['identitytoken'] === 'string' ? e['identitytoken'] : '';
  if (username === '' && password === '' && identityToken === '') return undefined;
  return { username, password, identityToken };
}

function runHelper(helper: string, server: string): Promise<RegistryAuth | undefined> {
  return new Promise((resolve) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: HELPER_TIMEOUT_MS }, (err, stdout) => {
      if (err !== null) return resolve(undefined);
      try {
        const v = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
        const user = typeof v.Username === 'string' ? v.Username : '';
        const secret = typeof v.Secret === 'string' ? v.Secret : '';
        if (user === '<token>') resolve({ username: '', password: '', identityToken: secret });
        else resolve({ username: user, password: secret, identityToken: '' });
      } catch {
        resolve(undefined);
      }
    });
    child.stdin?.end(server);
  });
}

/**
 * The credentials docker would use for a registry (`authKey` from `authKeyFor`), or undefined.
 * Unreadable config files and failing helpers mean "no credentials", as docker treats them.
 */
export async function registryAuth(configDir: string, authKey: string): Promise<RegistryAuth | undefined> {
  const cfg = await readConfig(configDir);
  const host = hostnameOf(authKey);
  const helper = cfg.credHelpers[host];
  if (typeof helper === 'string' && helper !== '') return runHelper(helper, authKey);
  if (cfg.credsStore !== '') return runHelper(cfg.credsStore, authKey);
  if (Object.hasOwn(cfg.auths, authKey)) return fromEntry(cfg.auths[authKey]);
  for (const [key, entry] of Object.entries(cfg.auths)) if (hostnameOf(key) === host) return fromEntry(entry);
  return undefined;
}

/**
 * Fetcher TLS options for a server, from `<config dir>/tls/<host:port>/` (docker's
 * ReadCertsDirectory), with verification off for an insecure registry.
 * @throws Error `missing client certificate …` / `missing key …` as docker
 */
export async function dockerTlsOptions(configDir: string, hostPort: string, insecure: boolean): Promise<NodeFetcherOptions> {
  const dir = join(configDir, 'tls', hostPort);
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    names = [];
  }
  const cas: string[] = [];
  let cert: Buffer | undefined;
  let key: Buffer | undefined;
  for (const name of names) {
    const file = join(dir, name);
    if (name.endsWith('.crt')) cas.push(await readFile(file, 'utf8'));
    else if (name.endsWith('.cert')) {
      const keyName = name.slice(0, -'.cert'.length) + '.key';
      if (!names.includes(keyName)) throw new Error(`missing key ${keyName} for client certificate ${name}. CA certificates must use the extension .crt`);
      cert = await readFile(file);
      key = await readFile(join(dir, keyName));
    } else if (name.endsWith('.key')) {
      const certName = name.slice(0, -'.key'.length) + '.cert';
      if (!names.includes(certName)) throw new Error(`missing client certificate ${certName} for key ${name}`);
    }
  }
  return {
    ...(cas.length > 0 ? { ca: [...rootCertificates, ...cas].join('\n') } : {}),
    ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
    ...(insecure ? { skipTLSVerify: true } : {}),
  };
}
