/**
 * The content-trust hook: before the registry serves or deletes a manifest it asks a
 * `TrustPolicy`. vouch's composition root (`vouch serve`) answers it from the trust server's
 * store; a registry elsewhere could answer it over HTTP. The registry itself never imports the
 * trust client or server (STYLE.md §2).
 *
 * Called for: GET/HEAD of a manifest (`mayServe`, after the reference is resolved to a digest,
 * so a policy can compare the tag's signed target with what would be served) and DELETE of a
 * manifest or tag (`mayDelete`). A denial is answered `DENIED` with the policy's message and
 * the policy's `status` (default 403; vouch's content trust answers 412 for unsigned content).
 * The second argument tells who asks (method and the already accepted Authorization header), so
 * a policy can let a pusher's own requests through and audit by user.
 * Blobs are not asked about: they are reachable only by digest, from a manifest that was.
 *
 * Example:
 *   const policy: TrustPolicy = {
 *     async mayServe({ name, reference, digest }) {
 *       return (await signedDigest(name, reference)) === digest ? ALLOW : deny('not signed');
 *     },
 *     mayDelete: async () => ALLOW,
 *   };
 */

export interface PolicyRequest {
  /** Repository name, e.g. `library/app`. */
  readonly name: string;
  /** As requested: a tag, or the digest itself. */
  readonly reference: string;
  /** The manifest digest the request resolves to. */
  readonly digest: string;
}

/** Who asks. */
export interface PolicyRequester {
  /** `GET`, `HEAD` or `DELETE`. */
  readonly method: string;
  /** The request's `Authorization` header, already accepted by the AccessController (if any). */
  readonly authorization: string | undefined;
}

/** A denial's `status` defaults to 403. */
export type PolicyDecision = { readonly allow: true } | { readonly allow: false; readonly message: string; readonly status?: number };

export interface TrustPolicy {
  mayServe(req: PolicyRequest, from?: PolicyRequester): Promise<PolicyDecision>;
  mayDelete(req: PolicyRequest, from?: PolicyRequester): Promise<PolicyDecision>;
}

export const ALLOW: PolicyDecision = Object.freeze({ allow: true });

export function deny(message: string, status?: number): PolicyDecision {
  return status === undefined ? { allow: false, message } : { allow: false, message, status };
}

/** The default: everything may be served and deleted. */
export const allowAllPolicy: TrustPolicy = Object.freeze({
  mayServe: async () => ALLOW,
  mayDelete: async () => ALLOW,
});
