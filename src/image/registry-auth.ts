/**
 * Registry authentication as docker's distribution client does it (spec §7.4), for requests
 * whose bodies stream (src/http's AuthorizingFetcher retries whole requests, which a 1 GiB layer
 * cannot be):
 *
 * - the challenges come from `GET /v2/` or any 401 (`learn`);
 * - Bearer: a token per set of scopes (`repository:<name>:pull,push`, plus
 *   `repository:<from>:pull` for a cross-repository mount), from `GET <realm>?scope=…&service=…`
 *   with Basic credentials (`account=<user>`), or — for a login saved as an identity token —
 *   `POST <realm>` with `grant_type=refresh_token` and `client_id=docker`; kept until it expires
 *   (at least 60 s, as distribution);
 * - Basic: the credentials themselves;
 * - `loginToken` is `docker login`'s exchange: a GET with `offline_token=true&client_id=docker`
 *   and no scope (or, for a saved identity token, the refresh-token POST with
 *   `access_type=offline`), whose `refresh_token` (when the service gives one) becomes the
 *   identity token.
 *
 * Not safe for concurrent token fetches of the same scope in the sense of deduplication — two
 * may race and both succeed; harmless.
 *
 * @example
 *   const auth = new RegistryAuthorizer(http, creds);
 *   auth.learn(pingResponse.headers['www-authenticate']);
 *   const h = await auth.header(['repository:app:pull']); // 'Bearer …' | 'Basic …' | undefined
 */
// token-auth.ts directly, not src/http's index: a push or pull needs none of the trust-server client
import { parseAuthChallenges, parseTokenResponse, type AuthChallenge } from '../http/token-auth.ts';
import { RegistryAuthError } from './errors.ts';
import { errorOf, readBody, type HttpClient } from './http.ts';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
  /** An OAuth2 refresh token (`identitytoken` in docker's config.json), '' when none. */
  readonly identityToken: string;
}

const TOKEN_RESPONSE_LIMIT = 1 << 20;
const MIN_LIFETIME_S = 60;
export const DOCKER_CLIENT_ID = 'docker';

export class RegistryAuthorizer {
  readonly #http: HttpClient;
  readonly #creds: RegistryCredentials | undefined;
  readonly #now: () => number;
  #challenges: AuthChallenge[] = [];
  readonly #tokens = new Map<string, { value: string; expiresAt: number }>();

  constructor(http: HttpClient, creds: RegistryCredentials | undefined, now: () => number = Date.now) {
    this.#http = http;
    this.#creds = creds;
    this.#now = now;
  }

  /** Remember the Bearer/Basic challenges of a `WWW-Authenticate` header; true when there was one. */
  learn(wwwAuthenticate: string | readonly string[] | undefined): boolean {
    const next = parseAuthChallenges(wwwAuthenticate).filter((c) => c.scheme === 'bearer' || c.scheme === 'basic');
    if (next.length === 0) return false;
    this.#challenges = next;
    return true;
  }

  get challenged(): boolean {
    return this.#challenges.length > 0;
  }

  /** Forget cached tokens for `scopes` (the registry refused one). */
  forget(scopes: readonly string[]): void {
    this.#tokens.delete(scopes.join(' '));
  }

  /**
   * The Authorization header for a request needing `scopes`, or undefined when the registry asked
   * for nothing (or only for Basic and there are no credentials).
   * @throws RegistryAuthError when the token service refuses
   */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    const bearer = this.#challenges.find((c) => c.scheme === 'bearer');
    if (bearer !== undefined) return `Bearer ${await this.#token(bearer, scopes)}`;
    if (this.#challenges.some((c) => c.scheme === 'basic') && this.#creds !== undefined && this.#creds.username !== '') {
      return `Basic ${Buffer.from(`${this.#creds.username}:${this.#creds.password}`).toString('base64')}`;
    }
    return undefined;
  }

  async #token(ch: AuthChallenge, scopes: readonly string[]): Promise<string> {
    const key = scopes.join(' ');
    const cached = this.#tokens.get(key);
    const now = this.#now();
    if (cached !== undefined && now < cached.expiresAt) return cached.value;
    const t = await this.#fetchToken(ch, scopes, false);
    this.#tokens.set(key, { value: t.token, expiresAt: (t.issuedAt ?? now) + Math.max(t.expiresIn ?? 0, MIN_LIFETIME_S) * 1000 });
    return t.token;
  }

  async #fetchToken(ch: AuthChallenge, scopes: readonly string[], login: boolean): Promise<{ token: string; expiresIn?: number; issuedAt?: number; refreshToken?: string }> {
    const realm = ch.params['realm'];
    if (realm === undefined || realm === '') throw new RegistryAuthError('no realm specified for token auth challenge');
    const service = ch.params['service'] ?? '';
    const creds = this.#creds;
    let res;
    if (creds !== undefined && creds.identityToken !== '') {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, service, client_id: DOCKER_CLIENT_ID });
      if (login) form.set('access_type', 'offline');
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      res = await this.#http.request({ method: 'POST', url: realm, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) });
    } else {
      const url = new URL(realm);
      if (service !== '') url.searchParams.append('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (creds !== undefined && creds.username !== '') url.searchParams.append('account', creds.username);
      if (login) {
        url.searchParams.append('client_id', DOCKER_CLIENT_ID);
        url.searchParams.append('offline_token', 'true');
      }
      const headers: Record<string, string> = {};
      if (creds !== undefined && creds.username !== '') headers['Authorization'] = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      res = await this.#http.request({ method: 'GET', url: url.toString(), headers });
    }
    if (res.statusCode !== 200) {
      const e = await errorOf(res);
      const detail = res.statusCode === 401 ? 'unauthorized: incorrect username or password' : `${res.statusCode}${e.message === '' ? '' : ` ${e.message}`}`;
      throw new RegistryAuthError(`getting a token from ${realm} failed: ${detail}`, res.statusCode, e.code);
    }
    const body = await readBody(res, TOKEN_RESPONSE_LIMIT);
    let t;
    try {
      t = parseTokenResponse(body);
    } catch (err) {
      throw new RegistryAuthError(`getting a token from ${realm} failed: ${(err as Error).message}`, 200, '', { cause: err });
    }
    let refreshToken: string | undefined;
    try {
      const v = (JSON.parse(body.toString('utf8')) as { refresh_token?: unknown }).refresh_token;
      if (typeof v === 'string' && v !== '') refreshToken = v;
    } catch {
      // parseTokenResponse already accepted it
    }
    return { ...t, ...(refreshToken === undefined ? {} : { refreshToken }) };
  }

  /**
   * docker login's token exchange; resolves to the token (to check it on `/v2/`) and the
   * refresh token the service handed out, if any.
   * @throws RegistryAuthError
   */
  async loginToken(): Promise<{ header: string; refreshToken?: string } | undefined> {
    const bearer = this.#challenges.find((c) => c.scheme === 'bearer');
    if (bearer === undefined) {
      const h = await this.header([]);
      return h === undefined ? undefined : { header: h };
    }
    const t = await this.#fetchToken(bearer, [], true);
    return { header: `Bearer ${t.token}`, ...(t.refreshToken === undefined ? {} : { refreshToken: t.refreshToken }) };
  }
}
