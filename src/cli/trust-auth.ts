/**
 * Registry logins that `docker login` saved as an identity token (an OAuth2 refresh token,
 * `identitytoken` in config.json), used the way docker's token handler uses them: on a 401 with
 * a Bearer challenge, `POST <realm>` with `grant_type=refresh_token`, `refresh_token`,
 * `service`, `scope` and `client_id=docker`; the `access_token` (or `token`) of the answer is sent
 * as `Authorization: Bearer …` on one retry, and kept per scope until it expires.
 *
 * A Fetcher wrapper, so the trust-server client and the registry reader both take it as their
 * base fetcher. Basic-credential logins go through src/http's TokenAuthenticator instead.
 *
 * @example
 *   const f = new RefreshTokenFetcher(new NodeFetcher(tls), { refreshToken, scope: 'repository:app:pull' });
 */
import { parseAuthChallenges, type Fetcher, type FetchRequest, type FetchResponse } from '../http/index.ts';
import { parseTokenResponse } from '../http/token-auth.ts';

export const DOCKER_CLIENT_ID = 'docker';
const TOKEN_RESPONSE_LIMIT = 1 << 20;
const MIN_LIFETIME_S = 60;

export interface RefreshTokenOptions {
  readonly refreshToken: string;
  /** The scope to ask for when the challenge names none (`repository:<name>:<actions>`). */
  readonly scope: string;
  readonly now?: () => number;
}

export class RefreshTokenFetcher implements Fetcher {
  readonly #base: Fetcher;
  readonly #o: RefreshTokenOptions;
  readonly #tokens = new Map<string, { value: string; expiresAt: number }>();
  #last: string | undefined;

  constructor(base: Fetcher, o: RefreshTokenOptions) {
    this.#base = base;
    this.#o = o;
  }

  async fetch(req: FetchRequest): Promise<FetchResponse> {
    const withToken = (token: string): FetchRequest => ({ ...req, headers: { ...req.headers, Authorization: `Bearer ${token}` } });
    const first = await this.#base.fetch(this.#last === undefined || req.headers?.['Authorization'] !== undefined ? req : withToken(this.#last));
    if (first.status !== 401) return first;
    const bearer = parseAuthChallenges(first.headers['www-authenticate']).find((c) => c.scheme === 'bearer');
    const realm = bearer?.params['realm'];
    if (bearer === undefined || realm === undefined || realm === '') return first;
    const token = await this.#token(realm, bearer.params['service'] ?? '', this.#o.scope);
    if (token === undefined) return first;
    this.#last = token;
    return this.#base.fetch(withToken(token));
  }

  async #token(realm: string, service: string, scope: string): Promise<string | undefined> {
    const now = (this.#o.now ?? Date.now)();
    const key = `${realm} ${service} ${scope}`;
    const cached = this.#tokens.get(key);
    if (cached !== undefined && now < cached.expiresAt) return cached.value;
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.#o.refreshToken, service, scope, client_id: DOCKER_CLIENT_ID });
    const res = await this.#base.fetch({
      method: 'POST',
      url: realm,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new TextEncoder().encode(form.toString()),
      maxLength: TOKEN_RESPONSE_LIMIT,
      resource: 'token',
    });
    if (res.status !== 200) return undefined;
    const t = parseTokenResponse(res.body);
    this.#tokens.set(key, { value: t.token, expiresAt: (t.issuedAt ?? now) + Math.max(t.expiresIn ?? 0, MIN_LIFETIME_S) * 1000 });
    return t.token;
  }
}
