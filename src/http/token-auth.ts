/**
 * Docker token authentication for trust-server clients (spec §7.4, distribution's
 * registry/client/auth as the notary CLI wires it).
 *
 * - `parseAuthChallenges` reads `WWW-Authenticate` (from the `GET /v2/` ping or any 401).
 * - `TokenAuthenticator` turns a Bearer challenge into `Authorization: Bearer <token>` for the
 *   scope `repository:<gun>:<actions>` (`pull` / `push,pull` / `*` by `AccessLevel`), fetching
 *   `GET <realm>?account=<user>&scope=…&service=…` with Basic credentials when it has them,
 *   and caches each token per scope (and per anonymous/credentialed) until `issued_at +
 *   expires_in` (at least 60 s, as distribution). A Basic challenge gets Basic credentials.
 * - `AuthorizingFetcher` wraps a Fetcher: it authorizes each request and, on a 401, learns the
 *   challenge and retries once. Read-only access first tries anonymously and then with
 *   credentials (notary's two-transport round tripper); write/admin access always sends them.
 * - Credentials come from a `CredentialsProvider`: `credentialsFromEnv()` reads `NOTARY_AUTH`
 *   (base64 of `user:pass`), or the caller passes a callback (e.g. a prompt).
 *
 * Not here: OAuth2 refresh-token POSTs (docker with identity tokens) and interactive prompts.
 *
 * @example
 *   const authn = new TokenAuthenticator({ fetcher, gun: 'example.com/app', access: 'readOnly', credentials: credentialsFromEnv() });
 *   authn.learn(pingResponse.headers['www-authenticate']);
 *   const f = new AuthorizingFetcher(fetcher, authn);
 */
import { fromBase64, toBase64 } from '../canonical/index.ts';
import { TokenError } from './client-errors.ts';
import type { FetchRequest, FetchResponse, Fetcher } from './fetcher.ts';

/** notary's httpAccess: read-only commands, publishing commands, admin (delete, key rotate). */
export type AccessLevel = 'readOnly' | 'readWrite' | 'admin';

export const ACCESS_ACTIONS: Readonly<Record<AccessLevel, readonly string[]>> = {
  readOnly: ['pull'],
  readWrite: ['push', 'pull'],
  admin: ['*'],
};

/** distribution's minimumTokenLifetimeSeconds. */
export const MIN_TOKEN_LIFETIME_SECONDS = 60;
/** Largest token response we read. */
export const MAX_TOKEN_RESPONSE = 1 << 20;

export interface AuthChallenge {
  /** Lower-cased scheme: `bearer`, `basic`. */
  readonly scheme: string;
  /** Parameter names lower-cased. */
  readonly params: Readonly<Record<string, string>>;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Called with the realm (token URL, or the server URL for Basic); undefined = none. */
export type CredentialsProvider = (realm: string) => Promise<Credentials | undefined> | Credentials | undefined;

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Parse one or more `WWW-Authenticate` values into challenges (unparsable parts are skipped). */
export function parseAuthChallenges(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(', ');
  const out: AuthChallenge[] = [];
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < text.length && chars.test(text[i] as string)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < text.length && TOKEN_CHAR.test(text[i] as string)) i++;
    return text.slice(start, i);
  };
  while (i < text.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (scheme === '') {
      i++;
      continue;
    }
    const params: Record<string, string> = {};
    for (;;) {
      skip(/\s/);
      const keyStart = i;
      const key = token();
      skip(/\s/);
      if (key === '' || text[i] !== '=') {
        i = keyStart; // a new scheme (or junk) starts here
        break;
      }
      i++;
      skip(/\s/);
      let value = '';
      if (text[i] === '"') {
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < text.length) i++;
          value += text[i];
          i++;
        }
        i++;
      } else {
        value = token();
      }
      params[key.toLowerCase()] = value;
      skip(/\s/);
      if (text[i] !== ',') break;
      i++;
    }
    out.push({ scheme: scheme.toLowerCase(), params });
  }
  return out;
}

/**
 * notary's reading of `NOTARY_AUTH`: base64 of `user:pass`, password trimmed; undefined when
 * unset, undecodable, without `:` or with an empty user name.
 */
export function parseNotaryAuth(value: string | undefined): Credentials | undefined {
  if (value === undefined || value === '') return undefined;
  let plain: string;
  try {
    plain = new TextDecoder('utf-8', { fatal: true }).decode(fromBase64(value));
  } catch {
    return undefined;
  }
  const colon = plain.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: plain.slice(0, colon), password: plain.slice(colon + 1).trim() };
}

/** A provider answering from `NOTARY_AUTH` in `env` (read at call time). */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): CredentialsProvider {
  return () => parseNotaryAuth(env['NOTARY_AUTH']);
}

/** Go's url.QueryEscape. */
export function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

/** The token request URL: realm's own query plus ours, keys sorted as Go's url.Values.Encode. */
export function tokenRequestUrl(realm: string, params: Readonly<Record<string, string>>): string {
  const u = new URL(realm);
  const all = new Map<string, string[]>();
  for (const [k, v] of u.searchParams) all.set(k, [...(all.get(k) ?? []), v]);
  for (const [k, v] of Object.entries(params)) all.set(k, [...(all.get(k) ?? []), v]);
  const query = [...all.keys()]
    .sort()
    .flatMap((k) => (all.get(k) ?? []).map((v) => `${goQueryEscape(k)}=${goQueryEscape(v)}`))
    .join('&');
  return `${u.origin}${u.pathname}?${query}`;
}

export type AuthMode = 'anonymous' | 'credentials';

export interface TokenAuthOptions {
  /** Used for token requests (same TLS settings as for the trust server). */
  readonly fetcher: Fetcher;
  readonly gun: string;
  readonly access: AccessLevel;
  readonly credentials?: CredentialsProvider;
  /** Milliseconds clock; default Date.now. */
  readonly now?: () => number;
}

interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

/**
 * Holds the server's challenges and the tokens obtained for them. Safe to share between the
 * requests of one client; not meant to be shared between GUNs.
 */
export class TokenAuthenticator {
  readonly gun: string;
  readonly access: AccessLevel;
  readonly #fetcher: Fetcher;
  readonly #credentials: CredentialsProvider | undefined;
  readonly #now: () => number;
  #challenges: AuthChallenge[] = [];
  readonly #tokens = new Map<string, CachedToken>();

  constructor(o: TokenAuthOptions) {
    this.gun = o.gun;
    this.access = o.access;
    this.#fetcher = o.fetcher;
    this.#credentials = o.credentials;
    this.#now = o.now ?? Date.now;
  }

  /** `repository:<gun>:<actions>` as notary asks for it. */
  get scope(): string {
    return `repository:${this.gun}:${ACCESS_ACTIONS[this.access].join(',')}`;
  }

  get challenges(): readonly AuthChallenge[] {
    return this.#challenges;
  }

  /** Read-only access starts anonymous (notary's anonymous password store). */
  get modes(): readonly AuthMode[] {
    return this.access === 'readOnly' ? ['anonymous', 'credentials'] : ['credentials'];
  }

  /**
   * Remember the Bearer/Basic challenges of a response. Returns true when they changed (so a
   * retry can succeed); cached tokens are dropped then.
   */
  learn(header: string | readonly string[] | undefined): boolean {
    const next = parseAuthChallenges(header).filter((c) => c.scheme === 'bearer' || c.scheme === 'basic');
    if (next.length === 0) return false;
    // scope and error parameters vary per request; the challenge is its scheme, realm and service
    const key = (cs: readonly AuthChallenge[]): string => JSON.stringify(cs.map((c) => [c.scheme, c.params['realm'], c.params['service']]));
    const changed = key(next) !== key(this.#challenges);
    this.#challenges = next;
    if (changed) this.#tokens.clear();
    return changed;
  }

  /** Drop the cached token of a mode (after the server refused it). */
  forget(mode: AuthMode): void {
    this.#tokens.delete(`${mode} ${this.scope}`);
  }

  /**
   * The Authorization header value for a request, or undefined when no challenge asks for one.
   * @throws TokenError when the token endpoint fails
   */
  async authorization(mode: AuthMode): Promise<string | undefined> {
    const bearer = this.#challenges.find((c) => c.scheme === 'bearer');
    if (bearer !== undefined) return `Bearer ${await this.#token(bearer, mode)}`;
    const basic = this.#challenges.find((c) => c.scheme === 'basic');
    if (basic !== undefined && mode === 'credentials') {
      const creds = await this.#credentials?.(basic.params['realm'] ?? '');
      if (creds !== undefined) return `Basic ${toBase64(new TextEncoder().encode(`${creds.username}:${creds.password}`))}`;
    }
    return undefined;
  }

  /** True when credentials mode would differ from anonymous (a provider that has something). */
  async hasCredentials(): Promise<boolean> {
    const realm = this.#challenges[0]?.params['realm'] ?? '';
    return (await this.#credentials?.(realm)) !== undefined;
  }

  async #token(ch: AuthChallenge, mode: AuthMode): Promise<string> {
    const key = `${mode} ${this.scope}`;
    const cached = this.#tokens.get(key);
    if (cached !== undefined && this.#now() < cached.expiresAt) return cached.value;
    const realm = ch.params['realm'];
    if (realm === undefined || realm === '') throw new TokenError('no realm specified for token auth challenge');
    const creds = mode === 'credentials' ? await this.#credentials?.(realm) : undefined;
    const params: Record<string, string> = { scope: this.scope };
    if (ch.params['service'] !== undefined) params['service'] = ch.params['service'];
    if (creds !== undefined && creds.username !== '') params['account'] = creds.username;
    const headers: Record<string, string> = {};
    if (creds !== undefined) headers['Authorization'] = `Basic ${toBase64(new TextEncoder().encode(`${creds.username}:${creds.password}`))}`;
    let url: string;
    try {
      url = tokenRequestUrl(realm, params);
    } catch (err) {
      throw new TokenError(`invalid token realm ${JSON.stringify(realm)}`, undefined, { cause: err });
    }
    const started = this.#now();
    const res = await this.#fetcher.fetch({ url, headers, maxLength: MAX_TOKEN_RESPONSE, resource: 'token' });
    if (res.status !== 200) {
      throw new TokenError(`token auth attempt for registry: ${url} request failed with status: ${res.status}`, res.status);
    }
    const token = parseTokenResponse(res.body);
    const lifetime = Math.max(token.expiresIn ?? 0, MIN_TOKEN_LIFETIME_SECONDS);
    const issuedAt = token.issuedAt ?? started;
    this.#tokens.set(key, { value: token.token, expiresAt: issuedAt + lifetime * 1000 });
    return token.token;
  }
}

/** `{token|access_token, expires_in?, issued_at?}`. @throws TokenError */
export function parseTokenResponse(body: Uint8Array): { token: string; expiresIn?: number; issuedAt?: number } {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(body));
  } catch (err) {
    throw new TokenError('unable to decode token response', undefined, { cause: err });
  }
  if (typeof v !== 'object' || v === null) throw new TokenError('unable to decode token response');
  const o = v as Record<string, unknown>;
  const token = typeof o['token'] === 'string' && o['token'] !== '' ? o['token'] : typeof o['access_token'] === 'string' ? o['access_token'] : '';
  if (token === '') throw new TokenError('authorization server did not include a token in the response');
  const out: { token: string; expiresIn?: number; issuedAt?: number } = { token };
  if (typeof o['expires_in'] === 'number') out.expiresIn = o['expires_in'];
  if (typeof o['issued_at'] === 'string') {
    const t = Date.parse(o['issued_at']);
    if (!Number.isNaN(t)) out.issuedAt = t;
  }
  return out;
}

/** A Fetcher that authorizes requests with a TokenAuthenticator and retries after a 401. */
export class AuthorizingFetcher implements Fetcher {
  readonly #base: Fetcher;
  readonly authenticator: TokenAuthenticator;
  #anonymousFailed = false;

  constructor(base: Fetcher, authenticator: TokenAuthenticator) {
    this.#base = base;
    this.authenticator = authenticator;
  }

  async fetch(req: FetchRequest): Promise<FetchResponse> {
    const authn = this.authenticator;
    // once anonymous access proved insufficient, later requests go straight to credentials
    const modes: readonly AuthMode[] = this.#anonymousFailed ? ['credentials'] : authn.modes;
    let last: FetchResponse | undefined;
    let lastError: unknown;
    for (const [i, mode] of modes.entries()) {
      if (i > 0 && mode === 'credentials' && !(await authn.hasCredentials())) break;
      for (let attempt = 0; attempt < 2; attempt++) {
        let authorization: string | undefined;
        try {
          authorization = await authn.authorization(mode);
        } catch (err) {
          // an anonymous token may be refused; the credentialed mode gets its turn
          if (i + 1 < modes.length && err instanceof TokenError) {
            lastError = err;
            break;
          }
          throw err;
        }
        const headers = authorization === undefined ? req.headers : { ...req.headers, Authorization: authorization };
        last = await this.#base.fetch(headers === undefined ? req : { ...req, headers });
        if (last.status !== 401) {
          if (i > 0) this.#anonymousFailed = true;
          return last;
        }
        const changed = authn.learn(last.headers['www-authenticate']);
        authn.forget(mode);
        // retry in the same mode only when the 401 taught us something new
        if (!(changed || (authorization === undefined && authn.challenges.length > 0))) break;
      }
    }
    if (last !== undefined) return last;
    throw lastError;
  }
}
