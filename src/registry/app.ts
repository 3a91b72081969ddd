/**
 * `createRegistryApp`: the OCI distribution registry as a plain node:http request handler.
 *
 * `app.handle(req, res)` resolves `true` when the request was the registry's and has been
 * answered, `false` (without touching `res`) when it was not: a path outside `/v2/`, an unknown
 * `/v2/` path, or anything under a `_trust` component, which `vouch serve` routes to the trust
 * API on the same port. `app.listener` wraps it for a standalone `http.createServer`, answering
 * 404 for the rest. node:http is used directly, not fastify, so blob bodies stream from the
 * socket to disk and back with back-pressure and no buffering layer in between.
 *
 * Per request: match the route table (routes.ts) → 405 for a method the route lacks →
 * NAME_INVALID for a bad name → the AccessController with the route's docker scope
 * (`repository:<name>:pull`, `pull,push`, `delete`, `registry:catalog:*`) → the handler. Every
 * thrown error becomes the `{"errors":[…]}` envelope in one place (errors.ts); a request whose
 * body was not read is answered with `Connection: close` so an unread upload is not drained.
 *
 * Example:
 *   const app = createRegistryApp({ storageDir: '/var/lib/vouch/registry', auth, policy });
 *   http.createServer(REGISTRY_SERVER_OPTIONS, app.listener).listen(5000, '127.0.0.1');
 *   // or, in a combined server: if (!(await app.handle(req, res))) trustApi(req, res);
 */
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import { accessDetail, AuthChallengeError, catalogAccess, repositoryAccess, type Access } from '../auth/access.ts';
import { resolveLimits, type RegistryOptions } from './config.ts';
import { registryError, sendError, RegistryApiError } from './errors.ts';
import { deleteBlob, getBlob } from './handlers/blobs.ts';
import { type Ctx, type Handler, hasBody, type RegistryDeps } from './handlers/context.ts';
import { catalog, listTags, ping, referrers } from './handlers/listing.ts';
import { deleteManifest, getManifest, putManifest } from './handlers/manifests.ts';
import { cancelUpload, patchUpload, putUpload, startUpload, uploadStatus } from './handlers/uploads.ts';
import { isValidRepositoryName } from './names.ts';
import { allowAllPolicy } from './policy.ts';
import { matchRegistryRoute, type Method, type RouteName } from './routes.ts';
import { FsRegistryStore } from './store/fs-store.ts';
import type { RegistryStore } from './store/types.ts';
import { ConfigError } from '../errors/index.ts';

/** Which docker scope a route+method needs: none (ping still needs a token when auth is on). */
type Scope = 'token' | 'pull' | 'push' | 'delete' | 'catalog';

interface Endpoint {
  readonly handler: Handler;
  readonly scope: Scope;
}

/** Handlers and scopes per route and method; the route patterns live in routes.ts. */
const DISPATCH: Readonly<Record<RouteName, Partial<Record<Method, Endpoint>>>> = {
  base: { GET: { handler: ping, scope: 'token' }, HEAD: { handler: ping, scope: 'token' } },
  catalog: { GET: { handler: catalog, scope: 'catalog' } },
  tags: { GET: { handler: listTags, scope: 'pull' } },
  referrers: { GET: { handler: referrers, scope: 'pull' } },
  blobUpload: {
    GET: { handler: uploadStatus, scope: 'push' },
    PATCH: { handler: patchUpload, scope: 'push' },
    PUT: { handler: putUpload, scope: 'push' },
    DELETE: { handler: cancelUpload, scope: 'push' },
  },
  blobUploadStart: { POST: { handler: startUpload, scope: 'push' } },
  manifest: {
    GET: { handler: getManifest, scope: 'pull' },
    HEAD: { handler: getManifest, scope: 'pull' },
    PUT: { handler: putManifest, scope: 'push' },
    DELETE: { handler: deleteManifest, scope: 'delete' },
  },
  blob: {
    GET: { handler: getBlob, scope: 'pull' },
    HEAD: { handler: getBlob, scope: 'pull' },
    DELETE: { handler: deleteBlob, scope: 'delete' },
  },
};

function accessFor(scope: Scope, name: string): Access[] {
  switch (scope) {
    case 'token':
      return [];
    case 'catalog':
      return catalogAccess();
    case 'pull':
      return repositoryAccess(name, ['pull']);
    case 'push':
      return repositoryAccess(name, ['pull', 'push']);
    case 'delete':
      return repositoryAccess(name, ['delete']);
  }
}

/**
 * node:http server options the registry needs from whoever creates the server: no overall
 * request deadline (node's default of 300 s would cut off a multi-GiB layer on a slow link);
 * the header deadline stays, so a client that never finishes its headers is still dropped.
 */
export const REGISTRY_SERVER_OPTIONS: Readonly<ServerOptions> = Object.freeze({ requestTimeout: 0, headersTimeout: 60_000 });

export interface RegistryApp {
  /** Answer the request if it is the registry's; resolves false, leaving `res` untouched, if not. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** For `http.createServer`: `handle`, plus a 404 envelope for paths that are not the registry's. */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  readonly store: RegistryStore;
}

export interface CreateRegistryAppOptions extends RegistryOptions {
  /** Called with errors answered as 500 (the client only sees UNKNOWN). */
  readonly onError?: (err: unknown, req: IncomingMessage) => void;
}

/** @throws ConfigError when neither `storageDir` nor `store` is given, or a limit is invalid */
export function createRegistryApp(opts: CreateRegistryAppOptions): RegistryApp {
  const store = opts.store ?? (opts.storageDir !== undefined ? new FsRegistryStore({ root: opts.storageDir, sync: opts.sync ?? true }) : undefined);
  if (store === undefined) throw new ConfigError('registry: storageDir (or a store) is required');
  const deps: RegistryDeps = Object.freeze({
    store,
    policy: opts.policy ?? allowAllPolicy,
    auth: opts.auth,
    limits: resolveLimits(opts.limits),
    deleteEnabled: opts.deleteEnabled ?? true,
  });
  const onError = opts.onError ?? (() => {});

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path: string;
    try {
      path = decodeURIComponent(q < 0 ? url : url.slice(0, q));
    } catch {
      return false;
    }
    const match = matchRegistryRoute(path);
    if (match === null) return false;
    const method = (req.method ?? 'GET').toUpperCase() as Method;
    const head = method === 'HEAD';
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    try {
      const endpoint = DISPATCH[match.route.name][method];
      if (endpoint === undefined) {
        res.setHeader('Allow', Object.keys(DISPATCH[match.route.name]).join(', '));
        throw registryError('UNSUPPORTED', `${method} is not supported on this path`);
      }
      const { name } = match.params;
      if (name !== '' && !isValidRepositoryName(name)) throw registryError('NAME_INVALID', undefined, { detail: { name } });
      if (deps.auth !== undefined) await authorize(deps, req, accessFor(endpoint.scope, name));
      const ctx: Ctx = { req, res, method, head, params: match.params, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), deps };
      await endpoint.handler(ctx);
    } catch (err) {
      if (!(err instanceof RegistryApiError)) onError(err, req);
      if (!req.complete && hasBody(req)) res.setHeader('Connection', 'close');
      sendError(res, err, head);
    }
    return true;
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).then(
      (handled) => {
        if (!handled) {
          res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
          sendError(res, registryError('UNSUPPORTED', 'not found', { status: 404 }), req.method === 'HEAD');
        }
      },
      (err: unknown) => {
        onError(err, req);
        sendError(res, err, req.method === 'HEAD');
      },
    );
  };

  return { handle, listener, store };
}

async function authorize(deps: RegistryDeps, req: IncomingMessage, access: Access[]): Promise<void> {
  try {
    await deps.auth?.authorized({ authorization: req.headers.authorization, host: req.headers.host }, access);
  } catch (err) {
    if (!(err instanceof AuthChallengeError)) throw err;
    throw registryError('UNAUTHORIZED', 'authentication required', {
      cause: err,
      detail: accessDetail(err.access),
      headers: { 'WWW-Authenticate': err.challenge },
    });
  }
}
