/**
 * The token service proper, free of HTTP: authenticate the caller (password, refresh token or
 * nobody), cut the requested scopes down with the policy, mint the token. handler.ts turns
 * requests into `TokenRequest`s and results into responses.
 *
 * Refresh tokens (docker's "identity tokens") are issued when the caller asks for offline
 * access with a password (`offline_token=true` on GET, `access_type=offline` on the OAuth2
 * POST) — `docker login` does, and then stores the refresh token instead of the password. They
 * are 32 random bytes (base64url), stored only as their SHA-256, valid for
 * `refreshTokenTtlSeconds`, and die with a password change or the user's removal. A refresh
 * grant does not hand out a new refresh token.
 *
 * Example:
 *   const svc = new TokenService({ store, issuer, services: ['vouch'] });
 *   const r = await svc.token({ credentials: { kind: 'password', username: 'alice', password: 'pw' },
 *                               service: 'vouch', scopes: ['repository:alice/app:pull'], offline: false });
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ResourceActions } from '../auth/index.ts';
import { InvalidCredentialsError, TokenRequestError } from './errors.ts';
import type { TokenIssuer } from './issuer.ts';
import { AccessPolicy, type PolicyOptions } from './policy.ts';
import { parseScopes } from './scope.ts';
import type { NamespaceStore, User, UserStore } from './store.ts';

/** Default lifetime of a refresh token: 90 days. */
export const DEFAULT_REFRESH_TOKEN_TTL_SECONDS = 90 * 86_400;

export type Credentials =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'password'; readonly username: string; readonly password: string }
  | { readonly kind: 'refresh'; readonly refreshToken: string };

export interface TokenRequest {
  readonly credentials: Credentials;
  /** The `service` parameter; absent means the first configured service. */
  readonly service?: string | undefined;
  /** Raw `scope` values (each may hold several space-separated scopes). */
  readonly scopes: readonly string[];
  /** The `account` parameter, when sent; must name the authenticated user. */
  readonly account?: string | undefined;
  /** Offline access asked for: answer with a refresh token (password grants only). */
  readonly offline: boolean;
  /** The OAuth2 `client_id` (docker sends `docker`). */
  readonly clientId?: string | undefined;
}

export interface TokenResult {
  readonly token: string;
  readonly expiresIn: number;
  readonly issuedAt: Date;
  /** '' for anonymous. */
  readonly subject: string;
  readonly access: readonly ResourceActions[];
  readonly refreshToken?: string;
}

export interface TokenServiceOptions {
  readonly store: UserStore & NamespaceStore;
  readonly issuer: TokenIssuer;
  /** Accepted `service` values (token audiences); the first is the default. */
  readonly services: readonly string[];
  readonly policy?: PolicyOptions;
  readonly refreshTokenTtlSeconds?: number;
  /** Clock in ms since the epoch; default Date.now. */
  readonly now?: () => number;
}

const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

export class TokenService {
  readonly services: readonly string[];
  readonly #store: UserStore & NamespaceStore;
  readonly #issuer: TokenIssuer;
  readonly #policy: AccessPolicy;
  readonly #refreshTtlMs: number;
  readonly #now: () => number;

  /** @throws RangeError without services or with a bad refresh TTL */
  constructor(opts: TokenServiceOptions) {
    if (opts.services.length === 0 || opts.services.some((s) => s === '')) throw new RangeError('a token service needs at least one non-empty service name');
    const ttl = opts.refreshTokenTtlSeconds ?? DEFAULT_REFRESH_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 60) throw new RangeError(`refresh token TTL must be at least 60 seconds, got ${ttl}`);
    this.services = opts.services;
    this.#store = opts.store;
    this.#issuer = opts.issuer;
    this.#policy = new AccessPolicy(opts.store, opts.policy);
    this.#refreshTtlMs = ttl * 1000;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Authenticate, authorise and mint.
   * @throws InvalidCredentialsError for a wrong password, unknown user, or unknown/expired refresh token
   * @throws TokenRequestError for an unknown service, a malformed scope, or an `account` that is not the user
   */
  async token(req: TokenRequest): Promise<TokenResult> {
    const service = req.service === undefined || req.service === '' ? this.services[0]! : req.service;
    if (!this.services.includes(service)) throw new TokenRequestError(`unknown service ${JSON.stringify(service)}`);
    const requested = parseScopes(req.scopes);
    const user = await this.#authenticate(req.credentials);
    if (user !== null && req.account !== undefined && req.account !== '' && req.account !== user.name) {
      throw new TokenRequestError(`account ${JSON.stringify(req.account)} does not match the authenticated user`);
    }
    const access = await this.#policy.authorize(user, requested);
    const issued = this.#issuer.issue({ subject: user?.name ?? '', audience: service, access });
    const result: TokenResult = { token: issued.token, expiresIn: issued.expiresIn, issuedAt: issued.issuedAt, subject: user?.name ?? '', access };
    if (user !== null && req.offline && req.credentials.kind === 'password') {
      return { ...result, refreshToken: await this.#newRefreshToken(user, req.clientId ?? '') };
    }
    return result;
  }

  async #authenticate(c: Credentials): Promise<User | null> {
    switch (c.kind) {
      case 'anonymous':
        return null;
      case 'password':
        return this.#store.verify(c.username, c.password);
      case 'refresh': {
        const now = new Date(this.#now());
        const rec = c.refreshToken === '' ? null : await this.#store.findRefreshToken(sha256Hex(c.refreshToken), now);
        const user = rec === null ? null : await this.#store.getUser(rec.user);
        if (user === null) throw new InvalidCredentialsError('invalid or expired refresh token');
        return user;
      }
    }
  }

  async #newRefreshToken(user: User, clientId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const created = new Date(this.#now());
    await this.#store.addRefreshToken({ id: sha256Hex(token), user: user.name, clientId, created, expires: new Date(created.getTime() + this.#refreshTtlMs) });
    return token;
  }
}
