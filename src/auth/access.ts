/**
 * Authorization contracts (distribution's `registry/auth`, spec §7): a route names the accesses
 * it needs, an `AccessController` grants them or throws an `AuthChallengeError` that carries the
 * `Www-Authenticate` challenge and the access list for the 401 body.
 *
 * Framework-free: the request is reduced to the two headers that matter, so the trust server,
 * the registry and the token service can share controllers.
 *
 * Example:
 *   const need = repositoryAccess('example.com/app', ['push', 'pull']);
 *   await controller.authorized({ authorization: req.headers.authorization, host }, need);
 */
import { VouchError } from '../errors/index.ts';

/** One required access: `{Type, Class, Name, Action}` on the wire (Go field names). */
export interface Access {
  readonly type: string;
  readonly class: string;
  readonly name: string;
  readonly action: string;
}

/** What a token grants: distribution's `ResourceActions`. */
export interface ResourceActions {
  readonly type: string;
  readonly class: string;
  readonly name: string;
  readonly actions: readonly string[];
}

export interface AuthRequest {
  /** The `Authorization` header, if any. */
  readonly authorization: string | undefined;
  /** The `Host` header (used by `autoredirect` challenges). */
  readonly host: string | undefined;
}

export interface Grant {
  /** The token's `sub`. */
  readonly subject: string;
  readonly access: readonly ResourceActions[];
}

export type ChallengeReason = 'token_required' | 'invalid_token' | 'insufficient_scope';

export interface AccessController {
  /**
   * Grant every access in `access`, or refuse.
   * @throws AuthChallengeError when the request lacks a usable token or the token lacks a grant
   */
  authorized(req: AuthRequest, access: readonly Access[]): Promise<Grant>;
}

/** A refused request: answer 401 with `challenge` as `Www-Authenticate` and `access` as detail. */
export class AuthChallengeError extends VouchError {
  readonly reason: ChallengeReason;
  readonly access: readonly Access[];
  /** The `Www-Authenticate` header value. */
  readonly challenge: string;
  constructor(reason: ChallengeReason, access: readonly Access[], challenge: string, message: string, options?: ErrorOptions) {
    super('UNAUTHORIZED', message, options);
    this.reason = reason;
    this.access = access;
    this.challenge = challenge;
  }
}

/** Accesses on `repository:<gun>` for each action (notary's buildAccessRecords). */
export function repositoryAccess(gun: string, actions: readonly string[]): Access[] {
  return actions.map((action) => ({ type: 'repository', class: '', name: gun, action }));
}

/** The single `registry:catalog:*` access asked of routes without a GUN (notary's buildCatalogRecord). */
export function catalogAccess(): Access[] {
  return [{ type: 'registry', class: '', name: 'catalog', action: '*' }];
}

/**
 * distribution's `scopeParam`: `type:name:a1,a2` per resource, resources space-separated, in
 * first-seen order (Go's map order is random; any order is accepted by clients).
 */
export function scopeParam(access: readonly Access[]): string {
  const byResource = new Map<string, { type: string; name: string; actions: string[] }>();
  for (const a of access) {
    const key = `${a.type}\u0000${a.class}\u0000${a.name}`;
    let entry = byResource.get(key);
    if (entry === undefined) {
      entry = { type: a.type, name: a.name, actions: [] };
      byResource.set(key, entry);
    }
    if (!entry.actions.includes(a.action)) entry.actions.push(a.action);
  }
  return [...byResource.values()].map((r) => `${r.type}:${r.name}:${r.actions.join(',')}`).join(' ');
}

/** True when the grants cover `need` (a `*` action covers any action on its resource). */
export function grantsCover(grants: readonly ResourceActions[], need: Access): boolean {
  return grants.some(
    (g) => g.type === need.type && g.class === need.class && g.name === need.name && (g.actions.includes(need.action) || g.actions.includes('*')),
  );
}

/** The 401 detail: Go's `[]auth.Access` JSON (`{"Type","Class","Name","Action"}`). */
export function accessDetail(access: readonly Access[]): { Type: string; Class: string; Name: string; Action: string }[] {
  return access.map((a) => ({ Type: a.type, Class: a.class, Name: a.name, Action: a.action }));
}
