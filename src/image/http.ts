/**
 * Streaming HTTP for image transfer: request bodies come from a stream (a layer file) and
 * response bodies are handed over as streams (a layer on its way to disk), over keep-alive
 * connections so the many small requests of a push (HEAD, POST, PUT per blob) do not each pay
 * for a TCP and TLS handshake. src/http's `Fetcher` reads whole bodies under a limit, which is
 * right for trust metadata and wrong for a 1 GiB layer; this is its streaming sibling, with the
 * same TLS options (docker's `tls/<host:port>/` files, verification off for loopback registries).
 *
 * - `HttpClient.request` resolves with the response as soon as its headers arrive; a request
 *   body stream is stopped when the server answers early (an error, usually);
 * - an idle socket (no bytes either way for `idleTimeoutMs`) fails the request;
 * - no redirects are followed here (registry-client.ts decides, per request).
 *
 * @example
 *   const http = new HttpClient({ skipTLSVerify: true });
 *   const res = await http.request({ method: 'GET', url: 'https://127.0.0.1:5000/v2/' });
 *   const body = await readBody(res, 1 << 20);
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { RegistryError } from './errors.ts';

export interface TlsOptions {
  /** PEM CAs (replacing the system roots when given). */
  readonly ca?: string | Uint8Array;
  readonly cert?: string | Uint8Array;
  readonly key?: string | Uint8Array;
  readonly skipTLSVerify?: boolean;
}

export interface HttpClientOptions {
  readonly userAgent?: string;
  /** Connections per host (default 16). */
  readonly maxSockets?: number;
  /** Default 120 s. */
  readonly idleTimeoutMs?: number;
}

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Bytes, or a stream factory (called once per attempt). */
  readonly body?: Uint8Array | (() => Readable | Promise<Readable>);
  /** Content-Length of a streamed body (chunked encoding when absent). */
  readonly bodyLength?: number;
}

/** A kept-alive connection the server had closed: safe to retry on a new one. */
class StaleSocketError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

export const DEFAULT_USER_AGENT = 'vouch/0.1.0';
const ERROR_BODY_LIMIT = 64 * 1024;

function buf(v: string | Uint8Array | undefined): string | Buffer | undefined {
  return v === undefined || typeof v === 'string' ? v : Buffer.from(v);
}

export class HttpClient {
  readonly #https: HttpsAgent;
  readonly #http: HttpAgent;
  readonly #o: Required<HttpClientOptions>;

  constructor(tls: TlsOptions = {}, o: HttpClientOptions = {}) {
    this.#o = { userAgent: o.userAgent ?? DEFAULT_USER_AGENT, maxSockets: o.maxSockets ?? 16, idleTimeoutMs: o.idleTimeoutMs ?? 120_000 };
    const common = { keepAlive: true, maxSockets: this.#o.maxSockets, maxFreeSockets: this.#o.maxSockets, scheduling: 'lifo' as const };
    this.#http = new HttpAgent(common);
    this.#https = new HttpsAgent({
      ...common,
      ...(tls.ca === undefined ? {} : { ca: buf(tls.ca) }),
      ...(tls.cert === undefined ? {} : { cert: buf(tls.cert), key: buf(tls.key) }),
      rejectUnauthorized: tls.skipTLSVerify !== true,
    });
  }

  /**
   * Send a request; resolves with the response once its headers are in. A kept-alive connection
   * that the server closed meanwhile (ECONNRESET/EPIPE before any answer) is retried once on a
   * new one, as node's documentation advises: the server saw nothing of the request.
   * @throws RegistryError (no status) when the connection fails or stalls
   */
  async request(req: HttpRequest): Promise<IncomingMessage> {
    try {
      return await this.#send(req);
    } catch (err) {
      if (!(err instanceof StaleSocketError)) throw err;
      return this.#send(req);
    }
  }

  async #send(req: HttpRequest): Promise<IncomingMessage> {
    const url = new URL(req.url);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') throw new TypeError(`unsupported URL scheme ${url.protocol}`);
    const headers: OutgoingHttpHeaders = { 'User-Agent': this.#o.userAgent, ...req.headers };
    let body: Readable | Uint8Array | undefined;
    if (typeof req.body === 'function') {
      body = await req.body();
      if (req.bodyLength !== undefined) headers['Content-Length'] = String(req.bodyLength);
    } else if (req.body !== undefined) {
      body = req.body;
      headers['Content-Length'] = String(req.body.length);
    } else if (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH') {
      headers['Content-Length'] = '0';
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const options = {
      method: req.method,
      host,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers,
      agent: secure ? this.#https : this.#http,
      ...(secure && !/^[\d.]+$|:/.test(host) ? { servername: host } : {}),
    };
    const what = `${req.method} ${req.url}`;
    return new Promise<IncomingMessage>((resolve, reject) => {
      let settled = false;
      const stream = body !== undefined && !(body instanceof Uint8Array) ? body : undefined;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        stream?.destroy();
        r.destroy();
        const code = (err as NodeJS.ErrnoException).code;
        if (r.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
          reject(new StaleSocketError(err));
          return;
        }
        reject(err instanceof RegistryError ? err : new RegistryError(`${what}: ${err.message}`, undefined, '', { cause: err }));
      };
      const r = (secure ? httpsRequest : httpRequest)(options, (res) => {
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        if (stream !== undefined && !stream.readableEnded) {
          // the server answered before taking the whole body: stop sending it
          stream.unpipe(r);
          stream.destroy();
        }
        resolve(res);
      });
      // the request's socket timeout covers the response body too, and is dropped when the socket goes back to the pool
      r.setTimeout(this.#o.idleTimeoutMs, () => {
        const err = new RegistryError(`${what}: no data for ${this.#o.idleTimeoutMs / 1000} s`);
        if (settled) r.destroy(err);
        else fail(err);
      });
      r.on('error', fail);
      if (stream !== undefined) {
        stream.on('error', fail);
        stream.pipe(r);
      } else {
        r.end(body);
      }
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

/**
 * The body of a response, at most `limit` bytes.
 * @throws RegistryError when it is longer
 */
export async function readBody(res: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    res.destroy();
    throw new RegistryError(`response of ${declared} bytes is larger than ${limit}`, res.statusCode);
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of res) {
    n += (chunk as Buffer).length;
    if (n > limit) {
      res.destroy();
      throw new RegistryError(`response is larger than ${limit} bytes`, res.statusCode);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** Drain and forget a body (so the connection can be reused). */
export async function discardBody(res: IncomingMessage): Promise<void> {
  // even a complete (HEAD, empty) response must be read to its end, or its socket never returns to the pool
  let n = 0;
  try {
    for await (const chunk of res) {
      n += (chunk as Buffer).length;
      if (n > ERROR_BODY_LIMIT) {
        res.destroy();
        return;
      }
    }
  } catch {
    // a broken error body changes nothing
  }
}

/** The first `{"errors":[{code,message}]}` entry of an error body, as far as it parses. */
export async function errorOf(res: IncomingMessage): Promise<{ code: string; message: string }> {
  let text = '';
  try {
    text = (await readBody(res, ERROR_BODY_LIMIT)).toString('utf8');
  } catch {
    return { code: '', message: '' };
  }
  try {
    const doc = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown; detail?: unknown }[] };
    const e = doc.errors?.[0];
    if (e !== undefined) return { code: typeof e.code === 'string' ? e.code : '', message: typeof e.message === 'string' ? e.message : '' };
  } catch {
    // not the envelope
  }
  return { code: '', message: text.trim().slice(0, 200) };
}

export function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
