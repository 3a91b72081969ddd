/**
 * Public surface of src/registry: the OCI distribution registry (Distribution Spec v1.1).
 *
 * - `createRegistryApp({ storageDir, auth?, policy? })` → `{ handle(req, res): Promise<boolean>, listener, store }`,
 *   a node:http request handler that `vouch serve` mounts next to the trust API;
 * - `TrustPolicy`: the content-trust hook (`mayServe`, `mayDelete`), default allow-all;
 * - `RegistryStore`: the storage contract, with the filesystem and memory backends and the
 *   conformance suite they pass;
 * - `gc(storageDir, { keep })`: garbage collection that keeps what tags, signatures
 *   (`keep`) and referrers still need;
 * - the route table and path builders, the error-code table, and the name/tag/digest grammar.
 */
export { createRegistryApp, REGISTRY_SERVER_OPTIONS } from './app.ts';
export type { RegistryApp, CreateRegistryAppOptions } from './app.ts';
export { DEFAULT_LIMITS, resolveLimits } from './config.ts';
export type { RegistryOptions, RegistryLimits } from './config.ts';
export { OCI_ERRORS, OciErrorCode, RegistryApiError } from './errors.ts';
export { ALLOW, deny, allowAllPolicy } from './policy.ts';
export type { TrustPolicy, PolicyRequest, PolicyRequester, PolicyDecision } from './policy.ts';
export { REGISTRY_ROUTES, matchRegistryRoute, registryPaths } from './routes.ts';
export type { RegistryRoute, RouteName, RouteMatch, RouteParams, Method } from './routes.ts';
export { MediaType, parseManifest } from './manifest.ts';
export type { ParsedManifest, Descriptor, ManifestMediaType } from './manifest.ts';
export { isValidRepositoryName, isValidTag, parseDigest, parseReference, digestOf, hasTrustComponent } from './names.ts';
export type { Digest, DigestAlgorithm, Reference } from './names.ts';
export { FsRegistryStore } from './store/fs-store.ts';
export type { FsRegistryStoreOptions } from './store/fs-store.ts';
export { MemoryRegistryStore } from './store/memory-store.ts';
export type { RegistryStore, UploadSession, OpenBlob, StoredManifest, ManifestInfo, ReferrerDescriptor, PutManifestInput, BlobEntry, AppendOptions } from './store/types.ts';
export { gc, gcStore, DEFAULT_GC_GRACE_MS, DEFAULT_UPLOAD_MAX_AGE_MS } from './gc.ts';
export type { GcOptions, GcReport } from './gc.ts';
