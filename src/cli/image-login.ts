/**
 * `vouch login [SERVER]` and `vouch logout [SERVER]`, docker's client-side login (docker 28's
 * `loginClientSide`, which it uses when no engine answers), keeping credentials where docker keeps
 * them so docker, `vouch trust` and `vouch push/pull` share one login:
 *
 * - SERVER defaults to Docker Hub (`https://index.docker.io/v1/`, the key docker uses for it);
 *   any other server is stored under its host (`host:port`, scheme and path dropped);
 * - `-u`/`-p`, `--password-stdin` (one line, its newline dropped), else prompts on a terminal
 *   (`Username: `, a hidden `Password: `); with no user given and a login already saved, that
 *   login is tried first (`Authenticating with existing credentials...`);
 * - the check: `GET /v2/` (https, then plain http for a loopback registry); a Bearer challenge
 *   means a token request with Basic credentials, `offline_token=true&client_id=docker` and no
 *   scope, whose token must then open `/v2/`; a Basic challenge means `/v2/` with Basic
 *   credentials;
 * - storing: the credential helper named by `credHelpers[host]` or `credsStore`
 *   (`docker-credential-<name> store`), else `config.json`'s `auths[key]`: `auth` = base64 of
 *   `user:password`, or — when the token service handed out a refresh token — `user:` plus
 *   `identitytoken`, as docker does; the file keeps everything else it held, mode 0600;
 * - logout removes the key and its `http://`/`https://` spellings: `Removing login credentials
 *   for HOST`.
 *
 * @example
 *   echo "$PASS" | vouch login -u alice --password-stdin 127.0.0.1:5000
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { discardBody, HttpClient, RegistryAuthorizer, type RegistryCredentials } from '../image/index.ts';
import { writeFileAtomic } from '../image/oci-layout.ts';
import { readHiddenLine, readLine } from './io.ts';
import { DOCKER_HUB_REGISTRY, USER_AGENT } from './image-registry.ts';
import type { TrustCommandSpec, TrustInvocation } from './trust-cli.ts';
import { CONFIG_FILE, dockerTlsOptions, registryAuth } from './trust-config.ts';
import { DOCKER_HUB_AUTH_KEY, isInsecureRegistry } from './trust-ref.ts';

const HELPER_TIMEOUT_MS = 20_000;

/** docker's credentials.ConvertToHostname. */
export function hostnameOf(server: string): string {
  let s = server.replace(/^https?:\/\//, '');
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  return s;
}

/** The config.json key and the registry API host for a SERVER argument. */
export function loginTarget(server: string | undefined): { key: string; host: string; isHub: boolean } {
  if (server === undefined || server === '' || server === DOCKER_HUB_AUTH_KEY || hostnameOf(server) === 'index.docker.io' || hostnameOf(server) === 'docker.io') {
    return { key: DOCKER_HUB_AUTH_KEY, host: DOCKER_HUB_REGISTRY, isHub: true };
  }
  const host = hostnameOf(server);
  return { key: host, host, isHub: false };
}

type ConfigDoc = Record<string, unknown> & { auths?: Record<string, unknown>; credsStore?: unknown; credHelpers?: Record<string, unknown> };

async function readConfigDoc(configDir: string): Promise<ConfigDoc> {
  let text: string;
  try {
    text = await readFile(join(configDir, CONFIG_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  if (text.trim() === '') return {};
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return doc as ConfigDoc;
  } catch (err) {
    throw new Error(`loading config file ${join(configDir, CONFIG_FILE)}: ${(err as Error).message}`, { cause: err });
  }
  throw new Error(`loading config file ${join(configDir, CONFIG_FILE)}: not a JSON object`);
}

async function writeConfigDoc(configDir: string, doc: ConfigDoc): Promise<void> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(configDir, CONFIG_FILE), JSON.stringify(doc, null, '\t'), 0o600);
}

/** The credential helper docker would use for `key`, or ''. */
function helperFor(doc: ConfigDoc, key: string): string {
  const h = doc.credHelpers?.[hostnameOf(key)];
  if (typeof h === 'string' && h !== '') return h;
  return typeof doc.credsStore === 'string' ? doc.credsStore : '';
}

function runHelper(helper: string, action: 'store' | 'erase', input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${helper}`, [action], { timeout: HELPER_TIMEOUT_MS }, (err, _out, stderr) => {
      if (err !== null) reject(new Error(`error ${action === 'store' ? 'storing' : 'erasing'} credentials - err: ${err.message}${stderr.trim() === '' ? '' : `, out: \`${stderr.trim()}\``}`));
      else resolve();
    });
    child.stdin?.end(input);
  });
}

/** Save a login as docker does (helper or config.json). */
export async function storeCredentials(configDir: string, key: string, c: RegistryCredentials): Promise<void> {
  const doc = await readConfigDoc(configDir);
  const helper = helperFor(doc, key);
  if (helper !== '') {
    const secret = c.identityToken !== '' ? { Username: '<token>', Secret: c.identityToken } : { Username: c.username, Secret: c.password };
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, ...secret }));
    // docker keeps an empty entry so the login is listed
    doc.auths = { ...(doc.auths ?? {}), [key]: {} };
    await writeConfigDoc(configDir, doc);
    return;
  }
  const password = c.identityToken !== '' ? '' : c.password;
  const entry: Record<string, string> = { auth: Buffer.from(`${c.username}:${password}`).toString('base64') };
  if (c.identityToken !== '') entry['identitytoken'] = c.identityToken;
  doc.auths = { ...(doc.auths ?? {}), [key]: entry };
  await writeConfigDoc(configDir, doc);
}

/** Forget the logins stored under any of `keys`; true when one was there. */
export async function eraseCredentials(configDir: string, keys: readonly string[]): Promise<boolean> {
  const doc = await readConfigDoc(configDir);
  let found = false;
  for (const key of keys) {
    const helper = helperFor(doc, key);
    if (helper !== '') {
      try {
        await runHelper(helper, 'erase', key);
        found = true;
      } catch {
        // not stored there
      }
    }
    if (doc.auths !== undefined && Object.hasOwn(doc.auths, key)) {
      delete doc.auths[key];
      found = true;
    }
  }
  if (found) await writeConfigDoc(configDir, doc);
  return found;
}

/**
 * docker's login check against a registry; resolves to the identity token the service handed
 * out ('' when none).
 * @throws Error `login attempt to <url> failed …`
 */
export async function verifyLogin(inv: TrustInvocation, host: string, creds: RegistryCredentials): Promise<string> {
  const insecure = await isInsecureRegistry(host);
  const http = new HttpClient(await dockerTlsOptions(inv.session.configDir, host, insecure), { userAgent: USER_AGENT });
  try {
    let lastError: unknown;
    for (const base of insecure ? [`https://${host}`, `http://${host}`] : [`https://${host}`]) {
      const url = `${base}/v2/`;
      let res;
      try {
        res = await http.request({ method: 'GET', url });
      } catch (err) {
        lastError = err;
        continue;
      }
      await discardBody(res);
      if (res.statusCode === 200) return '';
      if (res.statusCode !== 401) throw new Error(`login attempt to ${url} failed with status: ${res.statusCode}`);
      const auth = new RegistryAuthorizer(http, creds);
      auth.learn(res.headers['www-authenticate']);
      let login;
      try {
        login = await auth.loginToken();
      } catch (err) {
        throw new Error(`login attempt to ${url} failed: ${(err as Error).message}`, { cause: err });
      }
      if (login === undefined) throw new Error(`login attempt to ${url} failed with status: 401 Unauthorized`);
      const check = await http.request({ method: 'GET', url, headers: { Authorization: login.header } });
      await discardBody(check);
      if (check.statusCode !== 200) throw new Error(`login attempt to ${url} failed with status: ${check.statusCode}${check.statusCode === 401 ? ' Unauthorized' : ''}`);
      return login.refreshToken ?? '';
    }
    throw new Error(`cannot reach ${host}: ${(lastError as Error | undefined)?.message ?? 'no answer'}`, { cause: lastError });
  } finally {
    http.close();
  }
}

const NO_TTY = 'Error: Cannot perform an interactive login from a non TTY device';

async function login(inv: TrustInvocation): Promise<void> {
  const target = loginTarget(inv.args[0]);
  let username = typeof inv.flags['username'] === 'string' ? inv.flags['username'].trim() : '';
  let password = typeof inv.flags['password'] === 'string' ? inv.flags['password'] : '';
  const fromStdin = inv.flags['password-stdin'] === true;
  if (password !== '') {
    inv.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (fromStdin) throw new Error('--password and --password-stdin are mutually exclusive');
  }
  if (fromStdin) {
    if (username === '') throw new Error('Must provide --username with --password-stdin');
    password = ((await readLine(inv.io.stdin)) ?? '').replace(/\r$/, '');
  }
  if (username === '' && password === '') {
    const saved = await registryAuth(inv.session.configDir, target.key);
    if (saved !== undefined) {
      inv.out('Authenticating with existing credentials...\n');
      try {
        const token = await verifyLogin(inv, target.host, saved);
        if (token !== '' && token !== saved.identityToken) await storeCredentials(inv.session.configDir, target.key, { ...saved, identityToken: token });
        inv.out('Login Succeeded\n');
        return;
      } catch (err) {
        if (!inv.io.isTTY) throw err;
        inv.err(`Login did not succeed, error: ${(err as Error).message}\n`);
      }
    }
  }
  if (username === '') {
    if (!inv.io.isTTY) throw new Error(NO_TTY);
    inv.out('Username: ');
    username = ((await readLine(inv.io.stdin)) ?? '').trim();
    if (username === '') throw new Error('Error: Non-null Username Required');
  }
  if (password === '') {
    if (!inv.io.isTTY) throw new Error(NO_TTY);
    inv.out('Password: ');
    password = (await readHiddenLine(inv.io.stdin)) ?? '';
    inv.out('\n');
    if (password === '') throw new Error('Error: Password Required');
  }
  const creds = { username, password, identityToken: '' };
  const identityToken = await verifyLogin(inv, target.host, creds);
  await storeCredentials(inv.session.configDir, target.key, { ...creds, identityToken });
  inv.out('Login Succeeded\n');
}

async function logout(inv: TrustInvocation): Promise<void> {
  const server = inv.args[0];
  const target = loginTarget(server);
  const keys = target.isHub ? [target.key] : [...new Set([server as string, target.key, `http://${target.key}`, `https://${target.key}`])];
  inv.out(`Removing login credentials for ${target.key}\n`);
  await eraseCredentials(inv.session.configDir, keys);
}

export const IMAGE_LOGIN_COMMANDS: readonly TrustCommandSpec[] = [
  {
    use: 'login [OPTIONS] [SERVER]',
    short: 'Authenticate to a registry',
    args: [0, 1],
    flags: [
      { name: 'password', short: 'p', kind: 'string', help: 'Password or Personal Access Token (PAT)' },
      { name: 'password-stdin', kind: 'bool', help: 'Take the Password or Personal Access Token (PAT) from stdin' },
      { name: 'username', short: 'u', kind: 'string', help: 'Username' },
    ],
    run: login,
  },
  {
    use: 'logout [SERVER]',
    short: 'Log out from a registry',
    args: [0, 1],
    run: logout,
  },
];
