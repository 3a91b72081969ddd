/**
 * The trust server's routes, declared once as data (spec §5.1), in notary-server's order:
 * gorilla/mux tries them top to bottom and the first whose method *and* path match wins; a path
 * match with the wrong method is remembered and answered 405 only when nothing else matches.
 * Since the catch-all takes GET/POST/PUT/HEAD/DELETE on every path, any other method is 405.
 *
 * The patterns are mux's, anchored: `{gun}` is `[^*]+` (greedy, may contain `/`), roles are
 * `root|targets(?:/[^/\s]+)*|snapshot|timestamp` (Go's `\s` is `[\t\n\f\r ]`). They are matched
 * against the *decoded, cleaned* path (see go-path.ts).
 *
 * The same table gives clients their URL builders (`trustPaths`), as distribution shares its
 * route table between server and client.
 *
 * Example: matchTrustRoute('GET', '/v2/a/b/_trust/tuf/2.root.json')
 *   → { route: GetRoleByVersion, params: { gun: 'a/b', version: '2', role: 'root' } }
 */

/** Operation names are the `operation` label of notary's metrics. */
export type TrustOperation =
  | 'Main'
  | 'UpdateTUF'
  | 'GetRoleByHash'
  | 'GetRoleByVersion'
  | 'GetRole'
  | 'GetKey'
  | 'RotateKey'
  | 'DeleteTUF'
  | 'Changefeed'
  | 'GlobalChangefeed'
  | 'Health'
  | 'Metrics'
  | 'NotFound';

export type CachePolicy = 'current' | 'consistent' | null;

export interface TrustRoute {
  readonly operation: TrustOperation;
  readonly methods: readonly string[];
  readonly pattern: RegExp;
  /**
   * Actions required on `repository:<gun>` (or `registry:catalog:*` when the route has no GUN).
   * null: unauthenticated (health, metrics).
   */
  readonly actions: readonly string[] | null;
  readonly cache: CachePolicy;
  /**
   * What a GUN outside `repositories.gun_prefixes` gets: INVALID_GUN (with the prefix list) for
   * publish, METADATA_NOT_FOUND for the other GUN routes, null where no filter applies.
   */
  readonly gunFilter: 'INVALID_GUN' | 'METADATA_NOT_FOUND' | null;
  /** Label for the notary_server_http_* metrics; null: not instrumented. */
  readonly metricsOperation: string | null;
}

const GUN = '(?<gun>[^*]+)';
const ROLE = '(?<role>root|targets(?:/[^/\\t\\n\\f\\r ]+)*|snapshot|timestamp)';
const KEY_ROLE = '(?<role>snapshot|timestamp)';
const CHECKSUM = '(?<checksum>[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128})';
const VERSION = '(?<version>[1-9]*[0-9]+)';

function re(src: string): RegExp {
  return new RegExp(`^${src}$`);
}

function gunRoute(
  operation: TrustOperation,
  method: string,
  path: string,
  actions: readonly string[],
  cache: CachePolicy,
  gunFilter: 'INVALID_GUN' | 'METADATA_NOT_FOUND',
  metricsOperation: string = operation,
): TrustRoute {
  return { operation, methods: [method], pattern: re(`/v2/${GUN}${path}`), actions, cache, gunFilter, metricsOperation };
}

export const TRUST_ROUTES: readonly TrustRoute[] = [
  { operation: 'Main', methods: ['GET'], pattern: re('/v2/'), actions: ['*'], cache: null, gunFilter: null, metricsOperation: null },
  gunRoute('UpdateTUF', 'POST', '/_trust/tuf/', ['push', 'pull'], null, 'INVALID_GUN'),
  gunRoute('GetRoleByHash', 'GET', `/_trust/tuf/${ROLE}\\.${CHECKSUM}\\.json`, ['pull'], 'consistent', 'METADATA_NOT_FOUND'),
  gunRoute('GetRoleByVersion', 'GET', `/_trust/tuf/${VERSION}\\.${ROLE}\\.json`, ['pull'], 'consistent', 'METADATA_NOT_FOUND'),
  gunRoute('GetRole', 'GET', `/_trust/tuf/${ROLE}\\.json`, ['pull'], 'current', 'METADATA_NOT_FOUND'),
  gunRoute('GetKey', 'GET', `/_trust/tuf/${KEY_ROLE}\\.key`, ['push', 'pull'], null, 'METADATA_NOT_FOUND'),
  gunRoute('RotateKey', 'POST', `/_trust/tuf/${KEY_ROLE}\\.key`, ['*'], null, 'METADATA_NOT_FOUND'),
  gunRoute('DeleteTUF', 'DELETE', '/_trust/tuf/', ['*'], null, 'METADATA_NOT_FOUND'),
  gunRoute('Changefeed', 'GET', '/_trust/changefeed', ['pull'], null, 'METADATA_NOT_FOUND'),
  {
    operation: 'GlobalChangefeed',
    methods: ['GET'],
    pattern: re('/v2/_trust/changefeed'),
    actions: ['*'],
    cache: null,
    gunFilter: null,
    metricsOperation: 'Changefeed',
  },
  { operation: 'Health', methods: ['GET'], pattern: re('/_notary_server/health'), actions: null, cache: null, gunFilter: null, metricsOperation: null },
  { operation: 'Metrics', methods: ['GET'], pattern: re('/metrics'), actions: null, cache: null, gunFilter: null, metricsOperation: null },
  {
    operation: 'NotFound',
    methods: ['GET', 'POST', 'PUT', 'HEAD', 'DELETE'],
    pattern: re('/.*'),
    actions: ['*'],
    cache: null,
    gunFilter: null,
    metricsOperation: null,
  },
];

export interface RouteParams {
  readonly gun?: string;
  readonly role?: string;
  readonly checksum?: string;
  readonly version?: string;
}

export type RouteMatch =
  | { readonly kind: 'route'; readonly route: TrustRoute; readonly params: RouteParams }
  | { readonly kind: 'method-not-allowed' }
  | { readonly kind: 'none' };

/**
 * Find the route for a decoded, cleaned path. `routes` defaults to the full table; a host that
 * owns `/v2/`, health, metrics and the catch-all itself passes `TRUST_API_ROUTES`.
 */
export function matchTrustRoute(method: string, path: string, routes: readonly TrustRoute[] = TRUST_ROUTES): RouteMatch {
  let methodMismatch = false;
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m === null) continue;
    if (!route.methods.includes(method)) {
      methodMismatch = true;
      continue;
    }
    const g = m.groups ?? {};
    const params: RouteParams = {
      ...(g['gun'] !== undefined ? { gun: g['gun'] } : {}),
      ...(g['role'] !== undefined ? { role: g['role'] } : {}),
      ...(g['checksum'] !== undefined ? { checksum: g['checksum'] } : {}),
      ...(g['version'] !== undefined ? { version: g['version'] } : {}),
    };
    return { kind: 'route', route, params };
  }
  return methodMismatch ? { kind: 'method-not-allowed' } : { kind: 'none' };
}

/** The GUN-scoped API routes only (what `vouch serve` mounts next to the registry). */
export const TRUST_API_ROUTES: readonly TrustRoute[] = TRUST_ROUTES.filter(
  (r) => r.gunFilter !== null || r.operation === 'GlobalChangefeed',
);

/** URL paths for clients (GUNs are not percent-encoded, as Go clients send them). */
export const trustPaths = {
  publish: (gun: string): string => `/v2/${gun}/_trust/tuf/`,
  current: (gun: string, role: string): string => `/v2/${gun}/_trust/tuf/${role}.json`,
  byVersion: (gun: string, role: string, version: number): string => `/v2/${gun}/_trust/tuf/${version}.${role}.json`,
  byChecksum: (gun: string, role: string, hex: string): string => `/v2/${gun}/_trust/tuf/${role}.${hex}.json`,
  key: (gun: string, role: 'snapshot' | 'timestamp'): string => `/v2/${gun}/_trust/tuf/${role}.key`,
  changefeed: (gun: string | undefined, changeId: string, records: number): string =>
    `${gun === undefined ? '/v2/_trust/changefeed' : `/v2/${gun}/_trust/changefeed`}?change_id=${encodeURIComponent(changeId)}&records=${records}`,
} as const;
