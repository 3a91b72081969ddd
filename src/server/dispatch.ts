/**
 * The request pipeline of the trust server, framework-free, in notary-server's order
 * (`server.go` RootHandler + CreateHandler):
 *
 *   decode path → mux path cleaning (301) → route match (404/405) → [metrics
 *   → GUN-prefix filter → cache headers → auth → handler]
 *
 * so a GUN outside `repositories.gun_prefixes` is refused before auth is asked, and cache
 * headers land only on 200s of the metadata GET routes.
 *
 * Hosts: `app.ts` mounts this as a fastify app/plugin; `vouch serve` can call the same
 * dispatcher from its own `/v2/*` handler with `routes: TRUST_API_ROUTES`, getting `null` for
 * paths that are not the trust API's.
 *
 * Example:
 *   const dispatch = createTrustDispatcher({ service, gunPrefixes: [], ... });
 *   const res = await dispatch({ method: 'GET', rawUrl: '/v2/', headers: {}, body: [] });
 */
import { catalogAccess, repositoryAccess, type AccessController } from '../auth/index.ts';
import {
  decodeGoPath,
  escapeGoPath,
  GO_ZERO_TIME_RFC1123,
  matchTrustRoute,
  muxCleanPath,
  TRUST_ROUTES,
  type RouteParams,
  type TrustRoute,
} from '../http/index.ts';
import type { ServerConfig } from '../config/index.ts';
import { StateError } from '../errors/index.ts';
import { ApiError, serializeApiError, toApiError } from './errors.ts';
import { HANDLERS, type TrustRequest, type TrustResponse } from './handlers.ts';
import type { ServerMetrics } from './metrics.ts';
import type { TrustService } from './trust-service.ts';

/** The logger surface used here (pino's). */
export interface DispatchLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface TrustDispatcherOptions {
  readonly service: TrustService;
  /** `repositories.gun_prefixes`; empty = any GUN. */
  readonly gunPrefixes: readonly string[];
  /** `caching.max_age.*` in seconds (0 disables caching). */
  readonly currentMaxAge: number;
  readonly consistentMaxAge: number;
  /** `server.max_upload_bytes`. */
  readonly maxUploadBytes: number;
  /** null/undefined: no authentication. */
  readonly auth?: AccessController | null;
  readonly metrics?: ServerMetrics;
  readonly logger?: DispatchLogger;
  /** Route table (default: all of notary-server's, including /v2/, health, metrics, catch-all). */
  readonly routes?: readonly TrustRoute[];
}

/** Answers a request, or null when the path is not one of `routes` (embedded use). */
export type TrustDispatcher = (req: TrustRequest) => Promise<TrustResponse | null>;

/** The Cache-Control (and Pragma) a 200 gets under a max-age, precomputed per dispatcher. */
interface CachePolicyHeaders {
  readonly cacheControl: string;
  readonly pragma: string | undefined;
}

function cachePolicy(maxAge: number, mustRevalidate: boolean): CachePolicyHeaders {
  return maxAge > 0
    ? { cacheControl: `public, max-age=${maxAge}, s-maxage=${maxAge}${mustRevalidate ? ', must-revalidate' : ''}`, pragma: undefined }
    : { cacheControl: 'max-age=0, no-cache, no-store', pragma: 'no-cache' };
}

function withCacheHeaders(policy: CachePolicyHeaders, res: TrustResponse): TrustResponse {
  const headers: Record<string, string> = { ...res.headers, 'cache-control': policy.cacheControl };
  if (policy.pragma === undefined) {
    delete headers['pragma'];
    if (headers['last-modified'] === undefined) headers['last-modified'] = GO_ZERO_TIME_RFC1123;
  } else {
    headers['pragma'] = policy.pragma;
  }
  return res.close === true ? { status: res.status, headers, body: res.body, close: true } : { status: res.status, headers, body: res.body };
}

/**
 * What routing decided for a method and raw path, before any handler runs. Decisions depend
 * only on (method, raw path) and the route table, so they are kept for paths seen recently.
 */
type Decision =
  | { readonly kind: 'route'; readonly route: TrustRoute; readonly params: RouteParams }
  /** 301 to the cleaned path (the query is appended per request). */
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'bad-escape' }
  | { readonly kind: 'mux-not-found' }
  | { readonly kind: 'method-not-allowed' }
  /** Embedded use: not a path of this route table. */
  | { readonly kind: 'not-ours' };

/** Distinct (method, path) decisions kept; the oldest goes first. */
const MAX_DECISIONS = 1024;
/** Longer paths are decided every time, so the kept decisions stay small (1,024 × 512 chars at most). */
const MAX_DECIDED_PATH = 512;

/**
 * True when mux's cleaning leaves a path as it is (`muxCleanPath(p) === p`): rooted, with no
 * empty, `.` or `..` segment (a trailing slash is kept by mux). Only then may cleaning be skipped.
 */
export function isCleanRootedPath(p: string): boolean {
  if (p.charCodeAt(0) !== 0x2f) return false;
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
    const next = p.charCodeAt(i + 1);
    if (next === 0x2f) return false; // '//'
    if (next === 0x2e) {
      const after = p.charCodeAt(i + 2);
      if (Number.isNaN(after) || after === 0x2f) return false; // '/.' segment
      if (after === 0x2e) {
        const third = p.charCodeAt(i + 3);
        if (Number.isNaN(third) || third === 0x2f) return false; // '/..' segment
      }
    }
  }
  return true;
}

const NO_QUERY = new URLSearchParams();

function bodyLength(body: string | Uint8Array | null): number {
  if (body === null) return 0;
  return typeof body === 'string' ? Buffer.byteLength(body) : body.length;
}

/** Dispatcher options from the server config. */
export function dispatcherOptionsFromConfig(
  config: ServerConfig,
  deps: { service: TrustService; auth?: AccessController | null; metrics?: ServerMetrics; logger?: DispatchLogger },
): TrustDispatcherOptions {
  if (config.auth !== null && !deps.auth) {
    throw new StateError('auth.type is token but no AccessController was supplied; refusing to serve unauthenticated');
  }
  return {
    service: deps.service,
    gunPrefixes: config.repositories.gunPrefixes,
    currentMaxAge: config.caching.maxAge.currentMetadata,
    consistentMaxAge: config.caching.maxAge.consistentMetadata,
    maxUploadBytes: config.server.maxUploadBytes,
    auth: deps.auth ?? null,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
  };
}

export function createTrustDispatcher(opts: TrustDispatcherOptions): TrustDispatcher {
  const routes = opts.routes ?? TRUST_ROUTES;
  const standalone = routes.some((r) => r.operation === 'NotFound');
  const ctx = { service: opts.service, maxUploadBytes: opts.maxUploadBytes, metrics: opts.metrics };
  const invalidGunDetail = `Require GUNs with prefix: [${opts.gunPrefixes.join(' ')}]`;
  const currentPolicy = cachePolicy(opts.currentMaxAge, true);
  const consistentPolicy = cachePolicy(opts.consistentMaxAge, false);
  const decisions = new Map<string, Decision>();

  const decide = (method: string, rawPath: string): Decision => {
    const path = decodeGoPath(rawPath);
    // Go's net/http refuses a bad escape before routing.
    if (path === null) return standalone ? { kind: 'bad-escape' } : { kind: 'not-ours' };
    const cleaned = isCleanRootedPath(path) ? path : muxCleanPath(path);
    if (cleaned !== path) {
      if (!standalone && matchTrustRoute(method, cleaned, routes).kind === 'none') return { kind: 'not-ours' };
      return { kind: 'redirect', location: escapeGoPath(cleaned) };
    }
    const match = matchTrustRoute(method, path, routes);
    // mux's NotFoundHandler (only reachable for paths the catch-all's `.*` cannot span).
    if (match.kind === 'none') return standalone ? { kind: 'mux-not-found' } : { kind: 'not-ours' };
    return match;
  };

  return async (req) => {
    const q = req.rawUrl.indexOf('?');
    const rawPath = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : req.rawUrl.slice(q + 1);
    let decision: Decision | undefined;
    if (rawPath.length > MAX_DECIDED_PATH) {
      decision = decide(req.method, rawPath);
    } else {
      const key = `${req.method} ${rawPath}`;
      decision = decisions.get(key);
      if (decision === undefined) {
        decision = decide(req.method, rawPath);
        decisions.set(key, decision);
        if (decisions.size > MAX_DECISIONS) decisions.delete(decisions.keys().next().value!);
      }
    }
    switch (decision.kind) {
      case 'route':
        break;
      case 'not-ours':
        return null;
      case 'bad-escape':
        return { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '400 Bad Request', close: true };
      case 'redirect':
        return { status: 301, headers: { location: decision.location + (rawQuery === '' ? '' : `?${rawQuery}`) }, body: null };
      case 'mux-not-found':
        return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, body: '404 page not found\n' };
      case 'method-not-allowed':
        return { status: 405, headers: {}, body: null };
    }

    const { route, params } = decision;
    const started = performance.now();
    let res: TrustResponse;
    try {
      const gun = params.gun;
      if (route.gunFilter !== null && gun !== undefined && opts.gunPrefixes.length > 0 && !opts.gunPrefixes.some((p) => gun.startsWith(p))) {
        throw route.gunFilter === 'INVALID_GUN' ? new ApiError('INVALID_GUN', invalidGunDetail) : new ApiError('METADATA_NOT_FOUND');
      }
      if (route.actions !== null && opts.auth) {
        const access = gun !== undefined ? repositoryAccess(gun, route.actions) : catalogAccess();
        await opts.auth.authorized({ authorization: req.headers['authorization'], host: req.headers['host'] }, access);
      }
      res = await HANDLERS[route.operation](ctx, req, params, rawQuery === '' ? NO_QUERY : new URLSearchParams(rawQuery));
      if (res.status === 200 && route.cache !== null && res.body !== null) {
        res = withCacheHeaders(route.cache === 'current' ? currentPolicy : consistentPolicy, res);
      }
    } catch (err) {
      const apiErr = toApiError(err);
      const serialized = serializeApiError(apiErr);
      const level = apiErr.status >= 500 ? 'error' : 'info';
      opts.logger?.[level]({ err: apiErr.cause ?? apiErr, code: apiErr.apiCode, gun: params.gun, operation: route.operation }, apiErr.message);
      res = { ...serialized, ...(apiErr.closeConnection ? { close: true } : {}) };
    }
    if (route.metricsOperation !== null && opts.metrics !== undefined) {
      const cl = Number(req.headers['content-length'] ?? 0);
      opts.metrics.observe({
        operation: route.metricsOperation,
        method: req.method,
        status: res.status,
        durationMicros: (performance.now() - started) * 1000,
        requestBytes: req.rawUrl.length + req.method.length + (Number.isFinite(cl) ? cl : 0),
        responseBytes: bodyLength(res.body),
      });
    }
    return res;
  };
}
