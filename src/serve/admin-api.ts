/**
 * The admin API of `vouch serve`, under `/_vouch/` on the same TLS port (no repository path
 * starts with `_`, so it never meets the registry). Every call needs an admin:
 * `Authorization: Basic <user:password>` or `Bearer <token from /token>` of a user with the
 * admin flag; otherwise 401 (with a Basic challenge) or 403.
 *
 * | method | path                                    | body / answer                                     |
 * |--------|-----------------------------------------|---------------------------------------------------|
 * | GET    | /_vouch/policy                          | → `{"policies":[<setting>…]}`                      |
 * | GET    | /_vouch/policy/<namespace>              | → the setting that applies, `applies_from` = the namespace it comes from (null: none), `anonymous_pull_from` likewise for anonymous pull |
 * | PUT    | /_vouch/policy/<namespace>              | `{"enforce","pinned_root_key","required_signers","anonymous_pull"}` → the stored setting |
 * | DELETE | /_vouch/policy/<namespace>              | → 204 (enforcement and anonymous pull settings both forgotten) |
 * | GET    | /_vouch/users                           | → `{"users":[{"name","admin","created","grants"}…]}` |
 * | POST   | /_vouch/users                           | `{"name","password","admin"?}` → 201 the user; 409 when it exists |
 * | PUT    | /_vouch/users/<name>/password           | `{"password"}` → 204 (the user's identity tokens are revoked) |
 * | DELETE | /_vouch/users/<name>                    | → 204                                             |
 * | PUT    | /_vouch/users/<name>/grants/<namespace> | → 204: pull, push, delete below the namespace     |
 * | DELETE | /_vouch/users/<name>/grants/<namespace> | → 204                                             |
 *
 * A setting on the wire: `{"namespace","enforce","pinned_root_key","required_signers","anonymous_pull"}`.
 * A PUT replaces the whole setting: absent fields take their defaults (not enforced, no pin, no
 * required signers, no anonymous pull). `anonymous_pull: true` lets anyone, without credentials,
 * pull below the namespace (the token service grants `pull`; push and delete stay with the
 * users granted the namespace). Content trust is kept by the policy settings store, anonymous
 * pull by the token store (where the token service reads it); a PUT writes both, so the closest
 * setting is the same namespace for both. A namespace with only one of the two (written another
 * way) is listed with the other's defaults; GET of one namespace answers each from its own
 * closest setting.
 * Errors: `{"errors":[{"code","message","detail"}]}` with UNAUTHORIZED 401, DENIED 403,
 * NOT_FOUND 404, INVALID 400 (every bad field in `detail`), CONFLICT 409, UNSUPPORTED 405.
 *
 * Example:
 *   const admin = createAdminHandler({ users, policies, verifyToken });
 *   if (await admin(req, res)) return;
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeErrorEnvelope, JSON_CONTENT_TYPE } from '../http/error-envelope.ts';
import { NotFoundError, StateError } from '../errors/index.ts';
import { effectivePolicy, namespacesOf, parseNamespacePolicy, policyToJson, PolicySettingsError, type NamespacePolicy, type PolicySettingsStore } from '../policy/index.ts';
import { basicCredentials, InvalidCredentialsError, type NamespaceStore, type User, type UserStore } from '../token/index.ts';

export const ADMIN_PREFIX = '/_vouch/';
const DEFAULT_MAX_BODY = 64 * 1024;

export interface AdminHandlerOptions {
  /** The token service's store: users, their grants and per-namespace anonymous pull. */
  readonly users: UserStore & NamespaceStore;
  readonly policies: PolicySettingsStore;
  /** The subject of a valid bearer token (the token service's own), or null. */
  readonly verifyToken: (authorization: string) => Promise<string | null>;
  readonly maxBodyBytes?: number;
  /** Told about faults answered 500. */
  readonly onError?: (err: unknown) => void;
  /** Told about every change an admin makes (for the log). */
  readonly onChange?: (admin: string, what: string) => void;
}

class AdminError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: unknown;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, detail?: unknown, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.headers = headers;
  }
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const data = body === undefined ? '' : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { ...(body === undefined ? {} : { 'content-type': JSON_CONTENT_TYPE }), 'content-length': String(Buffer.byteLength(data)), 'cache-control': 'no-store', ...headers });
  res.end(data);
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).byteLength;
    if (n > limit) throw new AdminError(413, 'INVALID', `request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AdminError(400, 'INVALID', 'the request body is not JSON');
  }
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined;
}

/** A setting on the wire: the content-trust part and anonymous pull. */
function settingJson(p: NamespacePolicy, anonymousPull: boolean): Record<string, unknown> {
  return { ...policyToJson(p), anonymous_pull: anonymousPull };
}

/** Validate a PUT body: the content-trust fields (policy/settings.ts) and `anonymous_pull`. */
function parseSetting(ns: string, body: unknown): { policy: NamespacePolicy; anonymousPull: boolean } {
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  const { anonymous_pull: anonymousPull = false, ...rest } = isObject ? (body as Record<string, unknown>) : {};
  const problems: string[] = [];
  let policy: NamespacePolicy | undefined;
  try {
    policy = parseNamespacePolicy(ns, isObject ? rest : body);
  } catch (err) {
    if (!(err instanceof PolicySettingsError)) throw err;
    problems.push(...err.problems);
  }
  if (typeof anonymousPull !== 'boolean') problems.push('anonymous_pull must be true or false');
  if (problems.length > 0 || policy === undefined) throw new PolicySettingsError(problems);
  return { policy, anonymousPull: anonymousPull as boolean };
}

function userJson(u: User, grants: readonly string[]): Record<string, unknown> {
  return { name: u.name, admin: u.admin, created: u.created.toISOString(), grants };
}

/** A request handler for `/_vouch/…`; resolves false (leaving `res` alone) for other paths. */
export function createAdminHandler(o: AdminHandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const limit = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const unauthorized = (message: string): AdminError => new AdminError(401, 'UNAUTHORIZED', message, undefined, { 'www-authenticate': 'Basic realm="vouch"' });

  const authenticate = async (req: IncomingMessage): Promise<User> => {
    const header = req.headers.authorization;
    if (header === undefined || header === '') throw unauthorized('admin credentials required');
    let name: string | null;
    if (/^bearer /i.test(header)) {
      name = await o.verifyToken(header);
      if (name === null || name === '') throw unauthorized('invalid token');
    } else {
      try {
        const creds = basicCredentials(header);
        if (creds.kind !== 'password') throw unauthorized('admin credentials required');
        name = (await o.users.verify(creds.username, creds.password)).name;
      } catch (err) {
        if (err instanceof InvalidCredentialsError) throw unauthorized('incorrect username or password');
        throw err;
      }
    }
    const user = await o.users.getUser(name);
    if (user === null) throw unauthorized('unknown user');
    if (!user.admin) throw new AdminError(403, 'DENIED', `user ${JSON.stringify(user.name)} is not an admin`);
    return user;
  };

  const route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const method = req.method ?? 'GET';
    const admin = await authenticate(req);
    const changed = (what: string): void => o.onChange?.(admin.name, what);
    let m: RegExpExecArray | null;

    if (path === 'policy') {
      if (method !== 'GET') throw new AdminError(405, 'UNSUPPORTED', `${method} is not supported on /_vouch/policy`);
      const [policies, namespaces] = await Promise.all([o.policies.list(), o.users.listNamespaces()]);
      const anonymous = new Map(namespaces.map((n) => [n.namespace, n.anonymousPull]));
      const names = [...new Set([...policies.map((p) => p.namespace), ...anonymous.keys()])].sort();
      const byName = new Map(policies.map((p) => [p.namespace, p]));
      return send(res, 200, { policies: names.map((ns) => settingJson(byName.get(ns) ?? parseNamespacePolicy(ns, {}), anonymous.get(ns) ?? false)) });
    }
    if ((m = /^policy\/(.+)$/.exec(path)) !== null) {
      const ns = m[1]!;
      if (method === 'GET') {
        parseNamespacePolicy(ns, {}); // validates the name
        const applied = await effectivePolicy(o.policies, ns);
        const shown = applied === null ? parseNamespacePolicy(ns, {}) : { ...applied, namespace: ns };
        const anonymous = await closestNamespace(o.users, ns);
        return send(res, 200, { ...settingJson(shown, anonymous?.anonymousPull ?? false), applies_from: applied?.namespace ?? null, anonymous_pull_from: anonymous?.namespace ?? null });
      }
      if (method === 'PUT') {
        const { policy: setting, anonymousPull } = parseSetting(ns, await readJson(req, limit));
        await o.users.setAnonymousPull(ns, anonymousPull);
        await o.policies.set(setting);
        const stored = settingJson(setting, anonymousPull);
        changed(`policy ${ns}: ${JSON.stringify(stored)}`);
        return send(res, 200, { ...stored, applies_from: ns, anonymous_pull_from: ns });
      }
      if (method === 'DELETE') {
        parseNamespacePolicy(ns, {}); // validates the name
        await o.policies.remove(ns);
        await o.users.removeNamespace(ns);
        changed(`policy ${ns} removed`);
        return send(res, 204);
      }
      throw new AdminError(405, 'UNSUPPORTED', `${method} is not supported on /_vouch/policy/<namespace>`);
    }
    if (path === 'users') {
      if (method === 'GET') {
        const users = await o.users.listUsers();
        return send(res, 200, { users: await Promise.all(users.map(async (u) => userJson(u, await o.users.grantsOf(u.name)))) });
      }
      if (method === 'POST') {
        const body = await readJson(req, limit);
        const name = field(body, 'name');
        const password = field(body, 'password');
        const isAdmin = field(body, 'admin') ?? false;
        const problems: string[] = [];
        if (typeof name !== 'string') problems.push('name must be a string');
        if (typeof password !== 'string') problems.push('password must be a string');
        if (typeof isAdmin !== 'boolean') problems.push('admin must be true or false');
        if (problems.length > 0) throw new AdminError(400, 'INVALID', problems.join('; '), problems);
        const user = await o.users.addUser(name as string, password as string, { admin: isAdmin as boolean });
        changed(`user ${user.name} added${user.admin ? ' (admin)' : ''}`);
        return send(res, 201, userJson(user, []));
      }
      throw new AdminError(405, 'UNSUPPORTED', `${method} is not supported on /_vouch/users`);
    }
    if ((m = /^users\/([^/]+)\/password$/.exec(path)) !== null) {
      if (method !== 'PUT') throw new AdminError(405, 'UNSUPPORTED', `${method} is not supported on /_vouch/users/<name>/password`);
      const password = field(await readJson(req, limit), 'password');
      if (typeof password !== 'string') throw new AdminError(400, 'INVALID', 'password must be a string');
      await o.users.setPassword(m[1]!, password);
      changed(`user ${m[1]} password changed`);
      return send(res, 204);
    }
    if ((m = /^users\/([^/]+)\/grants\/(.+)$/.exec(path)) !== null) {
      const [user, ns] = [m[1]!, m[2]!];
      if (method === 'PUT') {
        await o.users.grant(user, ns);
        changed(`user ${user} granted ${ns}`);
        return send(res, 204);
      }
      if (method === 'DELETE') {
        if ((await o.users.getUser(user)) === null) throw new NotFoundError(`no such user ${JSON.stringify(user)}`);
        await o.users.revoke(user, ns);
        changed(`user ${user} revoked ${ns}`);
        return send(res, 204);
      }
      throw new AdminError(405, 'UNSUPPORTED', `${method} is not supported on /_vouch/users/<name>/grants/<namespace>`);
    }
    if ((m = /^users\/([^/]+)$/.exec(path)) !== null) {
      if (method === 'GET') {
        const user = await o.users.getUser(m[1]!);
        if (user === null) throw new NotFoundError(`no such user ${JSON.stringify(m[1])}`);
        return send(res, 200, userJson(user, await o.users.grantsOf(user.name)));
      }
      if (method === 'DELETE') {
        if (m[1] === admin.name) throw new AdminError(409, 'CONFLICT', 'an admin cannot remove themselves');
        await o.users.removeUser(m[1]!);
        changed(`user ${m[1]} removed`);
        return send(res, 204);
      }
      throw new AdminError(405, 'UNSUPPORTED', `${method} is not supported on /_vouch/users/<name>`);
    }
    throw new AdminError(404, 'NOT_FOUND', `no admin endpoint /_vouch/${path}`);
  };

  return async (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    if (!rawPath.startsWith(ADMIN_PREFIX)) return false;
    try {
      let path: string;
      try {
        path = decodeURIComponent(rawPath.slice(ADMIN_PREFIX.length));
      } catch {
        throw new AdminError(400, 'INVALID', 'bad escape in the path');
      }
      await route(req, res, path.replace(/\/+$/, ''));
    } catch (err) {
      const e = toAdminError(err);
      if (e.status >= 500) o.onError?.(err);
      if (res.headersSent) {
        res.destroy();
        return true;
      }
      const body = encodeErrorEnvelope([{ code: e.code, message: e.message, ...(e.detail === undefined ? {} : { detail: e.detail }) }]);
      res.writeHead(e.status, { 'content-type': JSON_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(body)), ...e.headers, ...(req.complete ? {} : { connection: 'close' }) });
      res.end(body);
    }
    return true;
  };
}

/** The closest namespace setting of the token store (what the token service grants by). */
async function closestNamespace(store: Pick<NamespaceStore, 'getNamespace'>, ns: string): Promise<{ namespace: string; anonymousPull: boolean } | null> {
  for (const n of namespacesOf(ns)) {
    const s = await store.getNamespace(n);
    if (s !== null) return { namespace: n, anonymousPull: s.anonymousPull };
  }
  return null;
}

function toAdminError(err: unknown): AdminError {
  if (err instanceof AdminError) return err;
  if (err instanceof PolicySettingsError) return new AdminError(400, 'INVALID', err.message, err.problems);
  if (err instanceof NotFoundError) return new AdminError(404, 'NOT_FOUND', err.message);
  if (err instanceof StateError) return new AdminError(409, 'CONFLICT', err.message);
  if (err instanceof RangeError) return new AdminError(400, 'INVALID', err.message);
  return new AdminError(500, 'UNKNOWN', 'internal error');
}
