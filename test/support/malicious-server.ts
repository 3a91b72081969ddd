/**
 * Test support: a trust server that serves whatever a test wants, including what no honest
 * server would (spec §5.1 routes, §10.2 attacks). It holds files per role — the current one and
 * every file ever served, by sha256 (`<role>.<hex>.json`) and, for root, by version
 * (`<v>.root.json`) — and per-path overrides that can answer with any status, an oversize or
 * endless body, a lying Content-Length, a hang or a dropped connection.
 *
 * Two ways to use it:
 * - in memory: `server.fetcher()` is a Fetcher (limits enforced like NodeFetcher) to put under
 *   an HttpRemoteStore — fast, for the workflow step tests;
 * - over HTTPS: `await server.listen()` serves on 127.0.0.1 (port 0) with a throwaway CA from
 *   pki.ts; `close()` ends every connection. The listener is unref'd and closes itself after
 *   `lifetimeMs` at the latest, so a forgotten server never keeps a test process alive.
 *
 * Optional token auth: `requireToken({ token, username, password })` makes every trust route
 * answer 401 with a Bearer challenge unless `Authorization: Bearer <token>` is sent, and serves
 * the token at `/token` (Basic credentials checked when a username is set).
 *
 * @example
 *   const server = new RepoServer(repo.gun);
 *   server.publish(repo);                                   // serve the repo as it is now
 *   server.override('timestamp.json', { status: 200, body: oldTimestamp });
 *   const http = await server.listen();
 *   const remote = new HttpRemoteStore({ serverUrl: http.url, gun, fetcher: new NodeFetcher({ ca: http.ca }) });
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { sha256Hex } from '../../src/canonical/index.ts';
import { MaliciousServerError, NetworkError } from '../../src/http/client-errors.ts';
import { ERROR_BODY_LIMIT, type FetchRequest, type FetchResponse, type Fetcher } from '../../src/http/fetcher.ts';
import { makePki, removeDir, tempDir, type Pki } from './pki.ts';
import { readSigned, type TestRepo } from './tuf-repo.ts';

export type Reply =
  /** A normal response. */
  | { readonly status: number; readonly body?: Uint8Array | string; readonly headers?: Readonly<Record<string, string>> }
  /** 200 with a chunked body that never ends. */
  | { readonly endless: true }
  /** 200 whose Content-Length promises `declaredLength` bytes, followed by `body`. */
  | { readonly declaredLength: number; readonly body: Uint8Array }
  /** Never answer. */
  | { readonly hang: true }
  /** Drop the connection without an answer. */
  | { readonly drop: true };

export interface TokenRequirement {
  readonly token: string;
  /** When set, the token endpoint wants Basic credentials for this user… */
  readonly username?: string;
  /** …and password. */
  readonly password?: string;
  readonly service?: string;
  /** `expires_in` of token responses (default 300). */
  readonly expiresIn?: number;
}

const NOT_FOUND_BODY = '{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist.","detail":{}}]}\n';

export function notFound(): Reply {
  return { status: 404, body: NOT_FOUND_BODY, headers: { 'Content-Type': 'application/json; charset=utf-8' } };
}

export interface Listening {
  readonly url: string;
  readonly caFile: string;
  /** The CA certificate PEM the server's certificate chains to. */
  readonly ca: Uint8Array;
  close(): Promise<void>;
}

/** One served repository (one GUN). Not safe to mutate while a request is being answered. */
export class RepoServer {
  readonly gun: string;
  /** Every request as `METHOD path`, in order. */
  readonly requests: string[] = [];
  /** Authorization header of every request (undefined when absent), in order. */
  readonly authorizations: (string | undefined)[] = [];
  readonly #current = new Map<string, Uint8Array>();
  readonly #files = new Map<string, Uint8Array>();
  readonly #overrides = new Map<string, Reply>();
  #auth: TokenRequirement | undefined;
  #realm = '';

  constructor(gun: string) {
    this.gun = gun;
  }

  /** Serve these roles of `repo` as they are now (default: every role it has). */
  publish(repo: TestRepo, roles: readonly string[] = repo.roles()): void {
    for (const role of roles) this.serve(role, repo.bytes(role));
  }

  /** Make `bytes` the current `role`, and keep it by checksum (and by version for root). */
  serve(role: string, bytes: Uint8Array): void {
    this.#current.set(role, bytes);
    this.keep(role, bytes);
  }

  /** Keep `bytes` reachable by checksum (and version for root) without making it current. */
  keep(role: string, bytes: Uint8Array): void {
    this.#files.set(`${role}.${sha256Hex(bytes)}.json`, bytes);
    if (role === 'root') this.#files.set(`${readSigned(bytes)['version']}.root.json`, bytes);
  }

  /** Forget the current file of a role (404 from now on; by-checksum copies stay). */
  unserve(role: string): void {
    this.#current.delete(role);
  }

  /** Answer `file` (the part after `/_trust/tuf/`, e.g. `timestamp.json`) with `reply`. */
  override(file: string, reply: Reply): void {
    this.#overrides.set(file, reply);
  }

  clearOverrides(): void {
    this.#overrides.clear();
  }

  requireToken(t: TokenRequirement | undefined): void {
    this.#auth = t;
  }

  /** Requests for metadata files only (`GET <file>`), in order. */
  metaRequests(): string[] {
    const prefix = `/v2/${this.gun}/_trust/tuf/`;
    return this.requests.filter((r) => r.startsWith(`GET ${prefix}`)).map((r) => r.slice(`GET ${prefix}`.length));
  }

  /** The answer to a request (the HTTP listener and the in-memory fetcher both use this). */
  handle(method: string, rawPath: string, authorization: string | undefined, origin: string): Reply {
    this.requests.push(`${method} ${rawPath}`);
    this.authorizations.push(authorization);
    const [path = '', query = ''] = rawPath.split('?', 2);
    if (path === '/token') return this.#token(new URLSearchParams(query), authorization);
    if (this.#auth !== undefined && authorization !== `Bearer ${this.#auth.token}`) {
      this.#realm = `${origin}/token`;
      const scope = path === '/v2/' ? 'registry:catalog:*' : `repository:${this.gun}:pull`;
      return {
        status: 401,
        body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}\n',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Www-Authenticate': `Bearer realm="${this.#realm}",service="${this.#auth.service ?? 'vouch-test'}",scope="${scope}"`,
        },
      };
    }
    if (path === '/v2/') return { status: 200, body: '{}' };
    const prefix = `/v2/${this.gun}/_trust/tuf/`;
    if (method !== 'GET' || !path.startsWith(prefix)) return notFound();
    const file = path.slice(prefix.length);
    const o = this.#overrides.get(file);
    if (o !== undefined) return o;
    const m = /^(.+)\.json$/.exec(file);
    const current = m === null ? undefined : this.#current.get(m[1] as string);
    const bytes = current ?? this.#files.get(file);
    return bytes === undefined ? notFound() : { status: 200, body: bytes };
  }

  #token(q: URLSearchParams, authorization: string | undefined): Reply {
    const a = this.#auth;
    if (a === undefined) return notFound();
    if (a.username !== undefined) {
      const want = `Basic ${Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64')}`;
      if (authorization !== want || q.get('account') !== a.username) return { status: 401, body: '{"details":"bad credentials"}' };
    }
    return { status: 200, body: JSON.stringify({ token: a.token, expires_in: a.expiresIn ?? 300, issued_at: new Date().toISOString() }) };
  }

  /** An in-memory Fetcher over `handle` (same limit rules as NodeFetcher). */
  fetcher(origin = 'https://repo-server.test'): Fetcher {
    return {
      fetch: async (req: FetchRequest): Promise<FetchResponse> => {
        const u = new URL(req.url);
        const path = req.url.slice(req.url.indexOf(u.host) + u.host.length);
        const reply = this.handle(req.method ?? 'GET', path, req.headers?.['Authorization'], origin);
        const resource = req.resource ?? u.pathname;
        if ('hang' in reply || 'drop' in reply) throw new NetworkError(`${req.url}: ${'hang' in reply ? 'request timed out' : 'connection reset'}`);
        if ('endless' in reply) throw new MaliciousServerError(resource, req.maxLength);
        if ('declaredLength' in reply) {
          if (reply.declaredLength > req.maxLength) throw new MaliciousServerError(resource, req.maxLength);
          throw new NetworkError(`${req.url}: response body cut short`);
        }
        const body = typeof reply.body === 'string' ? new TextEncoder().encode(reply.body) : (reply.body ?? new Uint8Array(0));
        const ok = reply.status >= 200 && reply.status < 300;
        if (ok && body.length > req.maxLength) throw new MaliciousServerError(resource, req.maxLength);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(reply.headers ?? {})) headers[k.toLowerCase()] = v;
        return { status: reply.status, headers, body: ok ? body : body.subarray(0, ERROR_BODY_LIMIT) };
      },
    };
  }

  /** Serve over HTTPS on 127.0.0.1 with a throwaway CA (made once per call with openssl). */
  async listen(opts: { pki?: Pki; lifetimeMs?: number } = {}): Promise<Listening> {
    const ownDir = opts.pki === undefined ? await tempDir('malicious') : undefined;
    const pki = opts.pki ?? (await makePki(ownDir as string));
    const [key, cert, ca] = await Promise.all([readFile(pki.keyFile), readFile(pki.certFile), readFile(pki.caFile)]);
    const sockets = new Set<Socket>();
    let origin = '';
    const server: Server = createServer({ key, cert }, (req, res) => this.#answer(req, res, origin));
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    origin = `https://127.0.0.1:${port}`;
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closed ??= (async () => {
        clearTimeout(timer);
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        if (ownDir !== undefined) await removeDir(ownDir);
      })();
      return closed;
    };
    const timer = setTimeout(() => void close(), opts.lifetimeMs ?? 300_000);
    timer.unref();
    return { url: origin, caFile: pki.caFile, ca: new Uint8Array(ca), close };
  }

  #answer(req: IncomingMessage, res: ServerResponse, origin: string): void {
    req.resume();
    const reply = this.handle(req.method ?? 'GET', req.url ?? '/', req.headers.authorization, origin);
    if ('hang' in reply) return;
    if ('drop' in reply) {
      req.socket.destroy();
      return;
    }
    if ('endless' in reply) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
      return;
    }
    if ('declaredLength' in reply) {
      res.writeHead(200, { 'Content-Length': String(reply.declaredLength) });
      res.write(Buffer.from(reply.body));
      return; // the rest never comes
    }
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : Buffer.from(reply.body ?? new Uint8Array(0));
    res.writeHead(reply.status, { 'Content-Type': 'text/plain; charset=utf-8', ...reply.headers, 'Content-Length': String(body.length) });
    res.end(body);
  }
}
