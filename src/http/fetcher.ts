/**
 * The client's one way to make an HTTP request (STYLE.md §1.2 "Fetcher"): `Fetcher.fetch`
 * sends a request and returns status, headers and a body that was read under a size limit.
 * `NodeFetcher` implements it once on node:http/node:https with notary's transport settings
 * (spec §9.5): a 30 s connect timeout, a 10 s TLS handshake timeout, no redirects followed, TLS
 * from a CA file (exclusive root pool), a client certificate, or `skipTLSVerify`.
 *
 * Unlike notary, which turns keep-alives off, a fetcher keeps its GET and HEAD connections open
 * for the next request: a read of a GUN with 50 delegations is then one TLS handshake instead of
 * 52. A request that fails on a reused connection before any answer (the server closed it while
 * idle) is sent once more on a new one. Other methods (a publish) get a connection of their own,
 * closed after the answer, as before.
 *
 * Length limits are enforced here and nowhere else:
 * - a 2xx response whose `Content-Length` exceeds `maxLength` is refused before reading;
 * - a 2xx body that streams past `maxLength` is cut off (socket destroyed) and refused;
 *   both give `MaliciousServerError` (`trust server returned a bad response.`);
 * - other responses are read up to 1 KiB (notary's MaxErrorResponseSize) and the rest dropped.
 *
 * Not here: what a status means (remote-store.ts), authentication (token-auth.ts), proxies
 * (notary honours HTTP(S)_PROXY; vouch does not yet).
 *
 * @example
 *   const f = new NodeFetcher({ ca: await readFile('ca.crt') });
 *   const r = await f.fetch({ url: 'https://127.0.0.1:4443/v2/', maxLength: 1024 });
 */
import type { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { MaliciousServerError, NetworkError } from './client-errors.ts';

// Not `import … from 'node:http'`: an ES import copies every export of the module, and http's
// lazy getters (WebSocket, …) then load undici, some 100 ms of every CLI start-up.
const { Agent: HttpAgent, request: httpRequest } = process.getBuiltinModule('node:http');
const { Agent: HttpsAgent, request: httpsRequest } = process.getBuiltinModule('node:https');

/** A failure on a reused keep-alive connection before any answer: worth one more try. */
const STALE_CONNECTION = Symbol('stale connection');

/** notary's MaxErrorResponseSize. */
export const ERROR_BODY_LIMIT = 1024;

export interface FetchRequest {
  readonly method?: string;
  /** Absolute URL; the path is sent as written (already escaped). */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Most bytes a 2xx body may have. */
  readonly maxLength: number;
  /** Names the thing fetched in MaliciousServerError. Defaults to the URL path. */
  readonly resource?: string;
  /** Overrides the fetcher's total request timeout. */
  readonly timeoutMs?: number;
}

export interface FetchResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The whole body for 2xx (≤ maxLength); at most ERROR_BODY_LIMIT bytes otherwise. */
  readonly body: Uint8Array;
}

/** One HTTP exchange with limits. Implementations must not follow redirects. */
export interface Fetcher {
  /** @throws NetworkError (no or incomplete response), MaliciousServerError (over the limit) */
  fetch(req: FetchRequest): Promise<FetchResponse>;
}

export interface NodeFetcherOptions {
  /** PEM CA bundle: when set it replaces the system roots (notary's ExclusiveRootPools). */
  readonly ca?: string | Uint8Array;
  /** PEM client certificate and key (both or neither). */
  readonly cert?: string | Uint8Array;
  readonly key?: string | Uint8Array;
  /** Accept any server certificate (notary's `remote_server.skipTLSVerify`). */
  readonly skipTLSVerify?: boolean;
  /** TCP connect timeout, default 30 s. */
  readonly connectTimeoutMs?: number;
  /** TLS handshake timeout, default 10 s. */
  readonly tlsHandshakeTimeoutMs?: number;
  /** Whole exchange (connect to last byte), default 60 s; a stalled body fails instead of hanging. */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

export const FETCHER_DEFAULTS = {
  connectTimeoutMs: 30_000,
  tlsHandshakeTimeoutMs: 10_000,
  timeoutMs: 60_000,
  userAgent: 'vouch',
} as const;

function asBuffer(v: string | Uint8Array | undefined): string | Buffer | undefined {
  return v === undefined || typeof v === 'string' ? v : Buffer.from(v);
}

export class NodeFetcher implements Fetcher {
  readonly #opts: NodeFetcherOptions;
  #secureContext: SecureContext | undefined;
  #agents: { http?: Agent; https?: Agent } = {};

  constructor(opts: NodeFetcherOptions = {}) {
    if ((opts.cert === undefined) !== (opts.key === undefined)) {
      throw new TypeError('either pass both client key and cert, or neither');
    }
    this.#opts = opts;
  }

  /**
   * The TLS context (CA pool, client certificate) of every connection, made once: each request
   * is a new connection, and building the context from the PEM files each time cost as much as
   * the rest of the handshake.
   */
  #tlsContext(): SecureContext {
    const o = this.#opts;
    return (this.#secureContext ??= createSecureContext({
      ...(o.ca === undefined ? {} : { ca: asBuffer(o.ca) }),
      ...(o.cert === undefined ? {} : { cert: asBuffer(o.cert) }),
      ...(o.key === undefined ? {} : { key: asBuffer(o.key) }),
    }));
  }

  /** The keep-alive pool of GET and HEAD requests (free sockets do not keep the process alive). */
  #agent(secure: boolean): Agent {
    if (secure) return (this.#agents.https ??= new HttpsAgent({ keepAlive: true }));
    return (this.#agents.http ??= new HttpAgent({ keepAlive: true }));
  }

  async fetch(req: FetchRequest): Promise<FetchResponse> {
    const url = new URL(req.url);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') throw new TypeError(`unsupported URL scheme ${url.protocol}`);
    const o = this.#opts;
    const method = req.method ?? 'GET';
    const keepAlive = method === 'GET' || method === 'HEAD';
    const headers: Record<string, string> = {
      'User-Agent': o.userAgent ?? FETCHER_DEFAULTS.userAgent,
      ...(keepAlive ? {} : { Connection: 'close' }),
      ...req.headers,
    };
    if (req.body !== undefined) headers['Content-Length'] = String(req.body.length);
    // the path is sent verbatim: take it from the string, not from URL's normalised pathname
    const afterAuthority = req.url.slice(req.url.indexOf('//') + 2);
    const slash = afterAuthority.indexOf('/');
    const path = slash < 0 ? '/' : afterAuthority.slice(slash);
    const options: RequestOptions & Record<string, unknown> = {
      method,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path,
      headers,
      agent: keepAlive ? this.#agent(secure) : false,
    };
    if (secure) {
      options['rejectUnauthorized'] = o.skipTLSVerify !== true;
      if (!/^[\d.]+$|:/.test(options.host as string)) options['servername'] = options.host;
    }
    const resource = req.resource ?? url.pathname;
    const what = `${method} ${req.url}`;
    try {
      return await this.#exchange(options, req, secure, resource, what);
    } catch (err) {
      if (!(err instanceof Error) || !Object.hasOwn(err, STALE_CONNECTION)) throw err;
      return this.#exchange({ ...options, agent: false, headers: { ...headers, Connection: 'close' } }, req, secure, resource, what);
    }
  }

  /** One request and its answer, under the fetcher's timeouts and the request's length limit. */
  #exchange(options: RequestOptions & Record<string, unknown>, req: FetchRequest, secure: boolean, resource: string, what: string): Promise<FetchResponse> {
    const o = this.#opts;
    return new Promise<FetchResponse>((resolve, reject) => {
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (err: Error | null, value?: FetchResponse): void => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        if (err !== null) {
          r.destroy();
          reject(err);
        } else {
          resolve(value as FetchResponse);
        }
      };
      const after = (ms: number, msg: string): NodeJS.Timeout => {
        const t = setTimeout(() => finish(new NetworkError(`${what}: ${msg}`)), ms);
        timers.push(t);
        return t;
      };
      if (secure) options['secureContext'] = this.#tlsContext(); // a bad PEM rejects, as before
      const send = secure ? httpsRequest : httpRequest;
      let answered = false;
      const r: ClientRequest = send(options, (res: IncomingMessage) => {
        answered = true;
        this.#read(res, req, resource, finish);
      });
      after(req.timeoutMs ?? o.timeoutMs ?? FETCHER_DEFAULTS.timeoutMs, 'request timed out');
      const connectTimer = after(o.connectTimeoutMs ?? FETCHER_DEFAULTS.connectTimeoutMs, 'dial timeout');
      r.on('socket', (socket: Socket) => {
        if (!socket.connecting) {
          clearTimeout(connectTimer); // a kept-alive connection: already connected
          return;
        }
        socket.once('connect', () => {
          clearTimeout(connectTimer);
          if (secure) {
            const hs = after(o.tlsHandshakeTimeoutMs ?? FETCHER_DEFAULTS.tlsHandshakeTimeoutMs, 'TLS handshake timeout');
            (socket as TLSSocket).once('secureConnect', () => clearTimeout(hs));
          }
        });
      });
      r.on('error', (err) => {
        const e = new NetworkError(`${what}: ${err.message}`, { cause: err });
        if (r.reusedSocket && !answered) Object.defineProperty(e, STALE_CONNECTION, { value: true });
        finish(e);
      });
      r.end(req.body === undefined ? undefined : Buffer.from(req.body));
    });
  }

  #read(res: IncomingMessage, req: FetchRequest, resource: string, finish: (err: Error | null, v?: FetchResponse) => void): void {
    const status = res.statusCode ?? 0;
    const ok = status >= 200 && status < 300;
    const limit = ok ? req.maxLength : ERROR_BODY_LIMIT;
    const declared = res.headers['content-length'];
    if (ok && declared !== undefined && Number(declared) > limit) {
      res.destroy();
      finish(new MaliciousServerError(resource, limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => finish(null, { status, headers: res.headers, body: new Uint8Array(Buffer.concat(chunks, size)) });
    res.on('data', (chunk: Buffer) => {
      if (size + chunk.length > limit) {
        if (ok) {
          res.destroy();
          finish(new MaliciousServerError(resource, limit));
          return;
        }
        chunks.push(chunk.subarray(0, limit - size));
        size = limit;
        res.destroy();
        done();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    res.on('end', done);
    res.on('close', () => {
      if (!res.complete) finish(new NetworkError(`${req.method ?? 'GET'} ${req.url}: response body cut short`));
    });
    res.on('error', (err) => finish(new NetworkError(`${req.method ?? 'GET'} ${req.url}: ${err.message}`, { cause: err })));
  }
}
