/**
 * The content-trust hook: before the registry serves or deletes a manifest it asks a
 * `TrustPolicy`. vouch's composition root (`vouch serve`) answers it from the trust server's
 * store; a registry elsewhere could answer it over HTTP. The registry itself never imports the
 * trust client or server (STYLE.md §2).
 *
 * Called for: GET/HEAD of a manifest (`mayServe`, after the reference is resolved to a digest,
 * so a policy can compare the tag's signed target with what would be served) and DELETE of a
 * manifest or tag (`mayDelete`). A denial is answered `403 DENIED` with the policy's message.
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

export type PolicyDecision = { readonly allow: true } | { readonly allow: false; readonly message: string };

export interface TrustPolicy {
  mayServe(req: PolicyRequest): Promise<PolicyDecision>;
  mayDelete(req: PolicyRequest): Promise<PolicyDecision>;
}

export const ALLOW: PolicyDecision = Object.freeze({ allow: true });

export function deny(message: string): PolicyDecision {
  return { allow: false, message };
}

/** The default: everything may be served and deleted. */
export const allowAllPolicy: TrustPolicy = Object.freeze({
  mayServe: async () => ALLOW,
  mayDelete: async () => ALLOW,
});
