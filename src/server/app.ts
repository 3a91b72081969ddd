/**
 * The trust server as a fastify application (no `listen`: see src/bin and serve.ts).
 *
 * - `buildTrustApp(...)`: a standalone fastify instance answering every path exactly as
 *   notary-server does (routes of spec §5.1, 301 path cleaning, 404 catch-all, 405 for other
 *   methods, health, metrics).
 * - `trustRoutesPlugin`: the same routes as an encapsulated fastify plugin, for registering
 *   into another app (optionally under a prefix). It owns request-body parsing in its scope
 *   (bodies are left unread for the handlers, which stream them with a size limit).
 * - For sharing one path space with a registry (`vouch serve`), call `createTrustDispatcher`
 *   with `routes: TRUST_API_ROUTES` from the host's own `/v2/*` handler and `sendTrustResponse`
 *   the result; it answers `null` for paths that are not the trust API's.
 *
 * Example:
 *   const app = buildTrustApp({ service, config, auth, metrics: createServerMetrics() });
 *   const res = await app.inject({ method: 'GET', url: '/v2/' });   // 200 {}
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config/index.ts';
import type { AccessController } from '../auth/index.ts';
import { createTrustDispatcher, dispatcherOptionsFromConfig, type TrustDispatcherOptions } from './dispatch.ts';
import { serializeApiError, toApiError } from './errors.ts';
import type { TrustRequest, TrustResponse } from './handlers.ts';
import { createServerMetrics, type ServerMetrics } from './metrics.ts';
import type { TrustService } from './trust-service.ts';

export interface BuildTrustAppOptions {
  readonly service: TrustService;
  readonly config: ServerConfig;
  /** A pino logger; default: no logging. */
  readonly logger?: FastifyBaseLogger;
  /**
   * Required when `config.auth` is set (refusing to start unauthenticated by mistake);
   * build it with `TokenAccessController.create(config.auth)`.
   */
  readonly auth?: AccessController | null;
  /** Default: a fresh registry per app. */
  readonly metrics?: ServerMetrics;
  /** TLS settings for fastify's https server (fastify needs them at construction). */
  readonly https?: { readonly key: Buffer; readonly cert: Buffer; readonly ca?: Buffer; readonly requestCert?: boolean; readonly rejectUnauthorized?: boolean };
}

/** Plugin options: the dispatcher's. */
export type TrustRoutesPluginOptions = TrustDispatcherOptions;

export { dispatcherOptionsFromConfig };

/**
 * Adapt a fastify request (body left unread) to the dispatcher's view; `prefix` (a plugin's
 * mount point) is removed from the path.
 */
export function toTrustRequest(req: FastifyRequest, prefix = ''): TrustRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v[0] : v;
  let rawUrl = req.raw.url ?? '/';
  if (prefix !== '' && rawUrl.startsWith(prefix)) rawUrl = rawUrl.slice(prefix.length) || '/';
  return { method: req.method, rawUrl, headers, body: req.raw };
}

/** Write a dispatcher answer through fastify. */
export function sendTrustResponse(reply: FastifyReply, res: TrustResponse): FastifyReply {
  reply.code(res.status);
  for (const [k, v] of Object.entries(res.headers)) reply.header(k, v);
  if (res.close === true) reply.header('connection', 'close');
  if (res.body === null) return reply.send();
  return reply.send(typeof res.body === 'string' ? res.body : Buffer.from(res.body.buffer, res.body.byteOffset, res.body.byteLength));
}

const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE'] as const;

/** The trust routes as an encapsulated fastify plugin. */
export const trustRoutesPlugin: FastifyPluginAsync<TrustRoutesPluginOptions> = async (app, opts) => {
  // Handlers read the raw body themselves (bounded); no fastify parser may consume it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  // A last resort: the dispatcher answers its own failures, so this only sees framework faults.
  app.setErrorHandler((err, _req, reply) => sendTrustResponse(reply, serializeApiError(toApiError(err))));
  const dispatch = createTrustDispatcher(opts);
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const res = await dispatch(toTrustRequest(req, app.prefix));
    if (res === null) {
      reply.callNotFound();
      return reply;
    }
    return sendTrustResponse(reply, res);
  };
  app.route({ method: [...METHODS], url: '/', exposeHeadRoute: false, handler });
  app.route({ method: [...METHODS], url: '/*', exposeHeadRoute: false, handler });
};

/**
 * A standalone trust server app (not listening).
 * @throws StateError when `config.auth` is set but `auth` is missing
 */
export function buildTrustApp(opts: BuildTrustAppOptions): FastifyInstance {
  const metrics = opts.metrics ?? createServerMetrics();
  const pluginOpts = dispatcherOptionsFromConfig(opts.config, {
    service: opts.service,
    ...(opts.auth === undefined ? {} : { auth: opts.auth }),
    metrics,
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
  });
  const app = Fastify({
    ...(opts.logger === undefined ? { logger: false } : { loggerInstance: opts.logger }),
    ...(opts.https === undefined ? {} : { https: opts.https }),
    // Go's net/http answers a malformed URL escape before routing.
    frameworkErrors: (err, _req, r) => {
      const reply = r as unknown as FastifyReply;
      if (err.code === 'FST_ERR_BAD_URL') {
        reply.code(400).header('content-type', 'text/plain; charset=utf-8').header('connection', 'close').send('400 Bad Request');
        return;
      }
      reply.code(500).send();
    },
  }) as unknown as FastifyInstance;
  app.register(trustRoutesPlugin, pluginOpts);
  // Only methods outside GET/POST/PUT/HEAD/DELETE get here: gorilla/mux's 405, empty body.
  app.setNotFoundHandler((_req, reply) => {
    reply.code(405).send();
  });
  return app;
}
