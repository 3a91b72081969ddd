/**
 * Public surface of src/policy: content-trust enforcement for the registry, as pure rules over
 * verified trust data plus the `TrustPolicy` that applies them per namespace.
 *
 * - settings.ts: per-namespace settings (enforce, pinned root key, required signers), their
 *   validation, wire form and the closest-namespace rule; `PolicySettingsStore` (memory here,
 *   SQLite in src/serve);
 * - verify.ts: a GUN's stored trust data verified from the stored root down;
 * - decide.ts: serve and delete rules over one verified repository, with actionable reasons;
 * - content-trust.ts: `ContentTrustPolicy`, the registry's TrustPolicy (412 on refusal), with
 *   the pusher rule, caching and auditing;
 * - audit.ts: audit entries and their sink.
 *
 * It reads through interfaces only; `src/bin/serve.ts` gives it the trust server's store, the
 * token verifier and the audit log.
 */
export { ContentTrustPolicy, CONTENT_TRUST_STATUS } from './content-trust.ts';
export type { ContentTrustPolicyOptions, Requester } from './content-trust.ts';
export { decideDelete, decideServe, rolesSigning, signedTarget, tagsSignedFor } from './decide.ts';
export type { Outcome, ServeQuestion } from './decide.ts';
export { earliestExpiry, NoTrustDataError, verifyStoredTrust } from './verify.ts';
export type { TrustMetadataSource, VerifyOptions } from './verify.ts';
export {
  checkNamespace,
  effectivePolicy,
  isValidNamespace,
  namespacesOf,
  parseNamespacePolicy,
  policyToJson,
  PolicySettingsError,
} from './settings.ts';
export type { NamespacePolicy, NamespacePolicyJson, PolicySettingsStore } from './settings.ts';
export { MemoryPolicyStore } from './memory-store.ts';
export { MemoryAuditSink } from './audit.ts';
export type { AuditAction, AuditEntry, AuditSink } from './audit.ts';
