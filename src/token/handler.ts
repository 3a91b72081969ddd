/**
 * The token endpoint over HTTP (docker token spec, "Requesting a Token" and "OAuth2 Token"):
 *
 * - `GET /token?service=…&scope=…[&scope=…][&account=…][&offline_token=true&client_id=…]`,
 *   credentials in `Authorization: Basic …` (none: anonymous). docker login sends exactly
 *   this, with `offline_token=true&client_id=docker` and no scope.
 * - `POST /token`, `application/x-www-form-urlencoded`: `grant_type=password` (`username`,
 *   `password`, `access_type=offline` for a refresh token) or `grant_type=refresh_token`
 *   (`refresh_token`), with `client_id`, `service` and a space-separated `scope`. docker uses it
 *   whenever it holds an identity token.
 *
 * 200: `{"token","access_token","expires_in","issued_at"[,"refresh_token"][,"scope"]}`.
 * 401 on bad credentials: `WWW-Authenticate: Basic realm="…"` and `{"details": …}` as JSON —
 * docker's client reads `details` of a JSON body into a single UNAUTHORIZED error, which is what
 * makes `docker login` report "unauthorized: incorrect username or password" and stop instead of
 * retrying over plain http. The POST form adds OAuth2's `"error":"invalid_grant"`.
 * 400 on malformed requests: `{"error": <oauth code>, "error_description", "details"}`.
 *
 * The handler fits any node http(s) server: it answers requests for its path and returns true,
 * and returns false (leaving the response untouched) for every other path.
 *
 * Example:
 *   const handle = createTokenHandler({ service });
 *   createServer(async (req, res) => { if (!(await handle(req, res))) { res.statusCode = 404; res.end(); } });
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidCredentialsError, TokenRequestError } from './errors.ts';
import { formatScopes } from './scope.ts';
import type { Credentials, TokenResult, TokenService } from './service.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface TokenHandlerOptions {
  readonly service: TokenService;
  /** The path served (default `/token`). */
  readonly path?: string;
  /** The realm of the Basic challenge sent with a 401 (default `vouch`). */
  readonly basicRealm?: string;
  /** Largest accepted POST body in bytes (default 16 KiB). */
  readonly maxBodyBytes?: number;
  /** Told about server faults (answered 500); default: nothing. */
  readonly onError?: (err: unknown) => void;
}

const DEFAULT_MAX_BODY = 16 * 1024;

class BodyTooLarge extends Error {}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(data)),
    'cache-control': 'no-store',
    pragma: 'no-cache',
    ...headers,
  });
  res.end(data);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      req.resume();
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `Authorization` → credentials. @throws InvalidCredentialsError for anything but a well-formed Basic header */
export function basicCredentials(authorization: string | undefined): Credentials {
  if (authorization === undefined || authorization === '') return { kind: 'anonymous' };
  const m = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(authorization);
  if (m === null) throw new InvalidCredentialsError('unsupported or malformed Authorization header');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidCredentialsError('malformed Basic credentials');
  return { kind: 'password', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function one(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new TokenRequestError(`parameter ${name} given more than once`);
  return all[0];
}

function responseBody(r: TokenResult, withScope: boolean): Record<string, unknown> {
  return {
    token: r.token,
    access_token: r.token,
    expires_in: r.expiresIn,
    issued_at: r.issuedAt.toISOString(),
    ...(r.refreshToken === undefined ? {} : { refresh_token: r.refreshToken }),
    ...(withScope ? { scope: formatScopes(r.access) } : {}),
  };
}

async function postRequest(req: IncomingMessage, maxBody: number, svc: TokenService): Promise<TokenResult> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new TokenRequestError('the token POST takes an application/x-www-form-urlencoded form');
  const form = new URLSearchParams(await readBody(req, maxBody));
  const grant = one(form, 'grant_type');
  const clientId = one(form, 'client_id');
  if (clientId === undefined || clientId === '') throw new TokenRequestError('client_id is required');
  let credentials: Credentials;
  if (grant === 'password') {
    const username = one(form, 'username');
    const password = one(form, 'password');
    if (username === undefined || password === undefined) throw new TokenRequestError('the password grant needs username and password');
    credentials = { kind: 'password', username, password };
  } else if (grant === 'refresh_token') {
    const refreshToken = one(form, 'refresh_token');
    if (refreshToken === undefined) throw new TokenRequestError('the refresh_token grant needs refresh_token');
    credentials = { kind: 'refresh', refreshToken };
  } else {
    throw new TokenRequestError(`unsupported grant_type ${JSON.stringify(grant ?? '')}`, 'unsupported_grant_type');
  }
  return svc.token({
    credentials,
    service: one(form, 'service'),
    scopes: form.getAll('scope'),
    offline: grant === 'password' && one(form, 'access_type') === 'offline',
    clientId,
  });
}

async function getRequest(req: IncomingMessage, query: URLSearchParams, svc: TokenService): Promise<TokenResult> {
  return svc.token({
    credentials: basicCredentials(req.headers.authorization),
    service: one(query, 'service'),
    scopes: query.getAll('scope'),
    account: one(query, 'account'),
    offline: one(query, 'offline_token') === 'true',
    clientId: one(query, 'client_id'),
  });
}

export function createTokenHandler(opts: TokenHandlerOptions): RequestHandler {
  const path = opts.path ?? '/token';
  const realm = opts.basicRealm ?? 'vouch';
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    if (url.pathname !== path) return false;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') {
      send(res, 405, { details: `method ${method} not allowed` }, { allow: 'GET, POST' });
      return true;
    }
    try {
      const result = method === 'POST' ? await postRequest(req, maxBody, opts.service) : await getRequest(req, url.searchParams, opts.service);
      send(res, 200, responseBody(result, method === 'POST'));
    } catch (err) {
      if (err instanceof InvalidCredentialsError) {
        const body = method === 'POST' ? { error: 'invalid_grant', error_description: err.message, details: err.message } : { details: err.message };
        send(res, 401, body, { 'www-authenticate': `Basic realm=${JSON.stringify(realm)}` });
      } else if (err instanceof TokenRequestError) {
        send(res, 400, { error: err.oauthError, error_description: err.message, details: err.message });
      } else if (err instanceof BodyTooLarge) {
        send(res, 413, { error: 'invalid_request', details: `request body larger than ${maxBody} bytes` }, { connection: 'close' });
      } else {
        opts.onError?.(err);
        if (!res.headersSent) send(res, 500, { details: 'internal error' });
        else res.destroy();
      }
    }
    return true;
  };
}
