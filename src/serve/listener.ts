/**
 * One request listener for everything `vouch serve` answers on its one TLS port
 * (ARCHITECTURE.md "One port for everything"), tried in this order:
 *
 *   /token, /auth/token          the token service (docker login, every Bearer challenge's realm)
 *   /_vouch/…                    the admin API
 *   /v2/… (not under _trust)     the registry; `GET /v2/` is its ping and Bearer challenge
 *   /v2/<gun>/_trust/…, /v2/_trust/changefeed   the trust server's API
 *   /_notary_server/health, /metrics            operations
 *
 * Each part answers its own paths and passes on the rest (`handle` resolving false, a dispatcher
 * answering null); what nobody claims gets the registry's 404 envelope. The parts are built by
 * the composition root (src/bin/serve.ts); this file only routes.
 *
 * Example:
 *   const listener = createServeListener({ token, admin, registry: app.handle, trust, ops });
 *   https.createServer({ ...REGISTRY_SERVER_OPTIONS, cert, key }, listener);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeErrorEnvelope, JSON_CONTENT_TYPE } from '../http/error-envelope.ts';
import type { TrustDispatcher, TrustRequest } from '../server/index.ts';
import { writeTrustResponse } from '../server/index.ts';

export type PartHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface ServeParts {
  readonly token: PartHandler;
  readonly admin: PartHandler;
  readonly registry: PartHandler;
  /** The trust API (`TRUST_API_ROUTES`). */
  readonly trust: TrustDispatcher;
  /** Health and metrics. */
  readonly ops: TrustDispatcher;
  /** Told about failures no part answered. */
  readonly onError?: (err: unknown, req: IncomingMessage) => void;
}

function trustRequest(req: IncomingMessage): TrustRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v[0] : v;
  return { method: req.method ?? 'GET', rawUrl: req.url ?? '/', headers, body: req };
}

const NOT_FOUND = encodeErrorEnvelope([{ code: 'NOT_FOUND', message: 'not found' }]);

export function createServeListener(parts: ServeParts): (req: IncomingMessage, res: ServerResponse) => void {
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (await parts.token(req, res)) return;
    if (await parts.admin(req, res)) return;
    if (await parts.registry(req, res)) return;
    const tr = trustRequest(req);
    const answer = (await parts.trust(tr)) ?? (await parts.ops(tr));
    if (answer !== null) {
      writeTrustResponse(res, answer);
      return;
    }
    res.writeHead(404, { 'content-type': JSON_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(NOT_FOUND)), 'docker-distribution-api-version': 'registry/2.0' });
    res.end(req.method === 'HEAD' ? undefined : NOT_FOUND);
  };
  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      parts.onError?.(err, req);
      if (!res.headersSent) {
        const body = encodeErrorEnvelope([{ code: 'UNKNOWN', message: 'internal error' }]);
        res.writeHead(500, { 'content-type': JSON_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      } else {
        res.destroy();
      }
    });
  };
}
