/**
 * Public surface of src/serve: the parts of `vouch serve` that are not a choice of
 * implementation — its settings, the one-port request listener, the admin API, the SQLite
 * policy settings store and the audit log. src/bin/serve.ts picks the backends and wires them.
 */
export { resolveServeConfig, registryNames, SERVE_DEFAULTS } from './config.ts';
export type { ServeConfig, ServeOptions } from './config.ts';
export { createServeListener } from './listener.ts';
export type { ServeParts, PartHandler } from './listener.ts';
export { createAdminHandler, ADMIN_PREFIX } from './admin-api.ts';
export type { AdminHandlerOptions } from './admin-api.ts';
export { SqlitePolicyStore, POLICY_MIGRATIONS } from './policy-store.ts';
export { FileAuditSink } from './audit-log.ts';
