/**
 * The client side of `vouch serve`'s admin API (src/serve/admin-api.ts), for `vouch policy …`
 * and `vouch user …`.
 *
 * Server: `--server` / `-s` (`host:port` or `https://host:port`), else `$VOUCH_SERVER`, else
 * `127.0.0.1:5000`. TLS: the server's certificate is verified against `--tlscacert`, else the
 * CAs docker keeps for that server (`$DOCKER_CONFIG/tls/<host:port>/*.crt`, what `vouch serve`
 * tells you to install) plus the system roots.
 *
 * Credentials, first found wins:
 * 1. `--username` with the password in `$VOUCH_PASSWORD` → HTTP Basic;
 * 2. the login docker keeps for the server (`docker login <host:port>`; config.json or a
 *    credential helper): an identity token is exchanged at the server's token endpoint (the realm
 *    of `GET /v2/`'s challenge, OAuth2 refresh grant) for a bearer token; a user name and
 *    password are sent as Basic.
 * The user must be an admin of the server.
 *
 * Example:
 *   const client = await AdminClient.connect({ server: '127.0.0.1:5000', env: process.env, cwd: process.cwd() });
 *   const policy = await client.call('GET', '/_vouch/policy/team');
 */
import { readFile } from 'node:fs/promises';
import { NodeFetcher, parseAuthChallenges, parseErrorEnvelope, type Fetcher, type FetchResponse } from '../http/index.ts';
import type { Env } from './io.ts';
import { dockerConfigDir, dockerTlsOptions, registryAuth } from './trust-config.ts';

export const DEFAULT_ADMIN_SERVER = '127.0.0.1:5000';
const MAX_RESPONSE = 4 << 20;

export interface AdminConnectOptions {
  /** `host:port` or `https://host:port`; default `$VOUCH_SERVER`, else 127.0.0.1:5000. */
  readonly server?: string;
  readonly tlsCaFile?: string;
  readonly username?: string;
  readonly env: Env;
  readonly cwd: string;
  /** A fetcher to use instead of one built from the TLS settings (tests). */
  readonly fetcher?: Fetcher;
}

/** The server refused or failed a call: status and the envelope's first error. */
export class AdminApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
  }
}

/** `https://host:port` → `host:port`. @throws Error for something else than an https URL or host:port */
export function adminHost(server: string): string {
  const s = server.replace(/\/+$/, '');
  if (/^https:\/\//i.test(s)) return new URL(s).host;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) throw new Error(`the server must be an https URL or host:port, got ${JSON.stringify(server)}`);
  if (s === '' || s.includes('/')) throw new Error(`the server must be an https URL or host:port, got ${JSON.stringify(server)}`);
  return s;
}

export class AdminClient {
  readonly host: string;
  readonly #fetcher: Fetcher;
  readonly #authorization: () => Promise<string>;

  private constructor(host: string, fetcher: Fetcher, authorization: () => Promise<string>) {
    this.host = host;
    this.#fetcher = fetcher;
    this.#authorization = authorization;
  }

  /** @throws Error when no credentials are found or the TLS files cannot be read */
  static async connect(o: AdminConnectOptions): Promise<AdminClient> {
    const host = adminHost(o.server ?? (o.env['VOUCH_SERVER'] !== undefined && o.env['VOUCH_SERVER'] !== '' ? o.env['VOUCH_SERVER'] : DEFAULT_ADMIN_SERVER));
    const configDir = dockerConfigDir(o.env, o.cwd);
    let fetcher = o.fetcher;
    if (fetcher === undefined) {
      const tls = await dockerTlsOptions(configDir, host, false);
      fetcher = new NodeFetcher({ ...tls, ...(o.tlsCaFile === undefined ? {} : { ca: await readFile(o.tlsCaFile) }), userAgent: 'vouch-admin' });
    }
    const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    let authorization: () => Promise<string>;
    if (o.username !== undefined) {
      const password = o.env['VOUCH_PASSWORD'];
      if (password === undefined || password === '') throw new Error('--username needs the password in VOUCH_PASSWORD');
      const value = basic(o.username, password);
      authorization = async () => value;
    } else {
      const saved = await registryAuth(configDir, host);
      if (saved === undefined) throw new Error(`no credentials for ${host}: log in first (docker login ${host}), or pass --username with VOUCH_PASSWORD set`);
      if (saved.identityToken !== '') {
        const f = fetcher;
        let token: Promise<string> | undefined;
        authorization = () => (token ??= exchangeIdentityToken(f, host, saved.identityToken));
      } else {
        const value = basic(saved.username, saved.password);
        authorization = async () => value;
      }
    }
    return new AdminClient(host, fetcher, authorization);
  }

  /**
   * One admin API call; resolves the parsed JSON answer (undefined for 204).
   * @throws AdminApiError for an error answer; NetworkError and friends for transport failures
   */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.#fetcher.fetch({
      method,
      url: `https://${this.host}${path}`,
      headers: { Authorization: await this.#authorization(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: new TextEncoder().encode(JSON.stringify(body)) }),
      maxLength: MAX_RESPONSE,
      resource: path,
    });
    if (res.status >= 200 && res.status < 300) return res.status === 204 || res.body.length === 0 ? undefined : JSON.parse(Buffer.from(res.body).toString('utf8'));
    throw apiError(res);
  }
}

function apiError(res: FetchResponse): AdminApiError {
  const [first] = parseErrorEnvelope(Buffer.from(res.body).toString('utf8'));
  if (first !== undefined) return new AdminApiError(res.status, first.code, `${first.message} (HTTP ${res.status} ${first.code})`);
  return new AdminApiError(res.status, 'UNKNOWN', `the server answered HTTP ${res.status}`);
}

/** docker's identity token → a bearer token from the realm `GET /v2/` names. */
async function exchangeIdentityToken(fetcher: Fetcher, host: string, refreshToken: string): Promise<string> {
  const ping = await fetcher.fetch({ url: `https://${host}/v2/`, maxLength: MAX_RESPONSE });
  const bearer = parseAuthChallenges(ping.headers['www-authenticate']).find((c) => c.scheme === 'bearer');
  const realm = bearer?.params['realm'];
  if (bearer === undefined || realm === undefined || realm === '') throw new Error(`${host} does not offer token authentication`);
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, service: bearer.params['service'] ?? '', client_id: 'vouch', scope: 'registry:catalog:*' });
  const res = await fetcher.fetch({
    method: 'POST',
    url: realm,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new TextEncoder().encode(form.toString()),
    maxLength: MAX_RESPONSE,
    resource: 'token',
  });
  if (res.status !== 200) throw new Error(`${host} refused the saved login (HTTP ${res.status}); log in again: docker login ${host}`);
  const v = JSON.parse(Buffer.from(res.body).toString('utf8')) as { access_token?: unknown; token?: unknown };
  const token = typeof v.access_token === 'string' ? v.access_token : typeof v.token === 'string' ? v.token : '';
  if (token === '') throw new Error(`${host}'s token endpoint answered without a token`);
  return `Bearer ${token}`;
}
