/**
 * The registry's routes, declared once as data (distribution's `registry/api/v2/routes.go`),
 * with the matcher the app dispatches on and the path builders used for `Location`/`Link`
 * headers and by clients and tests.
 *
 * `<name>` may contain `/`, so more specific routes come first and the name is captured loosely,
 * then checked against the grammar: a name with a `_trust` component is not the registry's (the
 * trust API lives there) and is handed back unmatched; any other bad name is NAME_INVALID.
 *
 * Example:
 *   const m = matchRegistryRoute('/v2/library/app/manifests/latest');
 *   // { route: { name: 'manifest', … }, params: { name: 'library/app', reference: 'latest' } }
 *   registryPaths.upload('library/app', id) // '/v2/library/app/blobs/uploads/<id>'
 */
import { hasTrustComponent } from './names.ts';

export type RouteName = 'base' | 'catalog' | 'tags' | 'referrers' | 'blobUpload' | 'blobUploadStart' | 'manifest' | 'blob';
export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface RegistryRoute {
  readonly name: RouteName;
  /** Groups: `name`, and `reference`, `digest` or `uuid` where the route has one. */
  readonly pattern: RegExp;
  readonly methods: readonly Method[];
  readonly description: string;
}

/** In match order. */
export const REGISTRY_ROUTES: readonly RegistryRoute[] = [
  { name: 'base', pattern: /^\/v2\/$/, methods: ['GET', 'HEAD'], description: 'API version check (end-1)' },
  { name: 'catalog', pattern: /^\/v2\/_catalog$/, methods: ['GET'], description: 'list repositories' },
  { name: 'tags', pattern: /^\/v2\/(?<name>.+)\/tags\/list$/, methods: ['GET'], description: 'list tags (end-8a/8b)' },
  { name: 'referrers', pattern: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/, methods: ['GET'], description: 'list referrers (end-12a/12b)' },
  {
    name: 'blobUpload',
    pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/(?<uuid>[^/]+)$/,
    methods: ['GET', 'PATCH', 'PUT', 'DELETE'],
    description: 'upload status, chunk, completion, cancel (end-5/6/13/14)',
  },
  { name: 'blobUploadStart', pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/$/, methods: ['POST'], description: 'start an upload or mount (end-4a/4b/11)' },
  {
    name: 'manifest',
    pattern: /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]+)$/,
    methods: ['GET', 'HEAD', 'PUT', 'DELETE'],
    description: 'fetch, check, push, delete a manifest or tag (end-3/7/9)',
  },
  { name: 'blob', pattern: /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]+)$/, methods: ['GET', 'HEAD', 'DELETE'], description: 'fetch, check, delete a blob (end-2/10)' },
];

export interface RouteParams {
  readonly name: string;
  readonly reference: string;
  readonly digest: string;
  readonly uuid: string;
}

export interface RouteMatch {
  readonly route: RegistryRoute;
  readonly params: RouteParams;
}

/**
 * The route for a request path (already split from its query), or null when the path is not the
 * registry's: outside `/v2/`, unknown, or a `_trust` path.
 */
export function matchRegistryRoute(path: string): RouteMatch | null {
  if (!path.startsWith('/v2/')) return null;
  for (const route of REGISTRY_ROUTES) {
    const m = route.pattern.exec(path);
    if (m === null) continue;
    const g = m.groups ?? {};
    const params: RouteParams = { name: g['name'] ?? '', reference: g['reference'] ?? '', digest: g['digest'] ?? '', uuid: g['uuid'] ?? '' };
    if (params.name !== '' && hasTrustComponent(params.name)) return null;
    return { route, params };
  }
  return null;
}

const q = (params: Record<string, string | number | undefined>): string => {
  const parts = Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v)).replaceAll('%3A', ':')}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
};

/** Path builders for every route (names, tags and digests need no escaping by their grammar). */
export const registryPaths = {
  base: (): string => '/v2/',
  catalog: (page: { n?: number; last?: string } = {}): string => `/v2/_catalog${q({ n: page.n, last: page.last })}`,
  tags: (name: string, page: { n?: number; last?: string } = {}): string => `/v2/${name}/tags/list${q({ n: page.n, last: page.last })}`,
  referrers: (name: string, digest: string, artifactType?: string): string => `/v2/${name}/referrers/${digest}${q({ artifactType })}`,
  manifest: (name: string, reference: string): string => `/v2/${name}/manifests/${reference}`,
  blob: (name: string, digest: string): string => `/v2/${name}/blobs/${digest}`,
  uploads: (name: string, opts: { digest?: string; mount?: string; from?: string } = {}): string =>
    `/v2/${name}/blobs/uploads/${q({ digest: opts.digest, mount: opts.mount, from: opts.from })}`,
  upload: (name: string, uuid: string, digest?: string): string => `/v2/${name}/blobs/uploads/${uuid}${q({ digest })}`,
} as const;
