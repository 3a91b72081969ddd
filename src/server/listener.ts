/**
 * The trust server on bare `node:http` / `node:https`: what `vouch server` runs. A request
 * listener hands each request to the framework-free dispatcher (dispatch.ts) and writes its
 * answer with one `writeHead` + `end`, so headers and body leave in one write (one TLS write on
 * https); `serve.ts` creates the server around it.
 *
 * The fastify app (app.ts) answers exactly the same; it stays for hosts that are fastify apps
 * (the plugin). This listener exists because a framework costs the standalone server memory and
 * time per request for nothing it uses: routing, parsing and errors are the dispatcher's.
 *
 * Not here: TLS, listening and shutdown (serve.ts); every decision about an answer (dispatch.ts).
 *
 * Example:
 *   const server = createServer(createTrustListener({ ...dispatcherOptions }));
 *   server.on('clientError', answerClientError);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createTrustDispatcher, type DispatchLogger, type TrustDispatcherOptions } from './dispatch.ts';
import { serializeApiError, toApiError } from './errors.ts';
import type { TrustRequest, TrustResponse } from './handlers.ts';

export type TrustRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface TrustListenerOptions extends TrustDispatcherOptions {
  /** Log one `request completed` line per request at info level (as fastify did). */
  readonly logRequests?: boolean;
}

/** mux's NotFoundHandler; only reachable when `routes` has no catch-all. */
const MUX_NOT_FOUND: TrustResponse = {
  status: 404,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
  body: '404 page not found\n',
};

function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  // node keeps the first of a repeated Authorization/Host/Content-* header and joins others;
  // only Set-Cookie arrives as an array.
  const out: Record<string, string | undefined> = {};
  const raw = req.headers;
  for (const name in raw) {
    const v = raw[name];
    out[name] = Array.isArray(v) ? v[0] : v;
  }
  return out;
}

function toTrustRequest(req: IncomingMessage): TrustRequest {
  return { method: req.method ?? 'GET', rawUrl: req.url ?? '/', headers: headersOf(req), body: req };
}

/**
 * Write a dispatcher answer: its headers in order, `connection: close` when asked, then
 * `content-length` (also for HEAD, whose body node does not send).
 */
export function writeTrustResponse(res: ServerResponse, r: TrustResponse): void {
  const body = r.body ?? '';
  const headers: string[] = [];
  for (const name in r.headers) headers.push(name, r.headers[name]!);
  if (r.close === true) headers.push('connection', 'close');
  headers.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength));
  res.writeHead(r.status, headers);
  res.end(body);
}

/** A request listener answering every request through the dispatcher. */
export function createTrustListener(opts: TrustListenerOptions): TrustRequestListener {
  const dispatch = createTrustDispatcher(opts);
  const logger: DispatchLogger | undefined = opts.logRequests === true ? opts.logger : undefined;
  return (req, res) => {
    const started = logger === undefined ? 0 : performance.now();
    dispatch(toTrustRequest(req))
      .catch((err: unknown) => serializeApiError(toApiError(err))) // the dispatcher answers its own failures; a last resort
      .then((answer) => {
        writeTrustResponse(res, answer ?? MUX_NOT_FOUND);
        logger?.info(
          { req: { method: req.method, url: req.url, remoteAddress: req.socket.remoteAddress }, res: { statusCode: answer?.status ?? 404 }, responseTime: performance.now() - started },
          'request completed',
        );
      })
      .catch((err: unknown) => {
        opts.logger?.error({ err }, 'could not write a response');
        res.destroy();
      });
  };
}

/** Go net/http's answers to requests it cannot parse (notary-server's, byte for byte). */
const GO_ERROR_HEADERS = '\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n';

/**
 * The `clientError` handler: a malformed request gets Go's `400 Bad Request` (`431 Request
 * Header Fields Too Large` for oversized headers) and the connection closes; a reset or timed
 * out connection is just closed.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable && err.code !== 'ERR_HTTP_REQUEST_TIMEOUT') {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}${GO_ERROR_HEADERS}${status}`);
    return;
  }
  socket.destroy();
}
