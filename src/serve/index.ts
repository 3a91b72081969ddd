/**
 * Public surface of src/serve: the parts of `vouch serve` that are not a choice of
 * implementation — its settings, the one-port request listener, the admin API, the policy
 * settings stores (SQLite, PostgreSQL, MySQL/MariaDB) and the audit log. src/bin/serve.ts picks the backends and wires them.
 */
export { resolveServeConfig, registryNames, parseServeDatabase, SERVE_DEFAULTS } from './config.ts';
export type { ServeConfig, ServeOptions, ServeDatabase, PublicName } from './config.ts';
export { createServeListener } from './listener.ts';
export type { ServeParts, PartHandler } from './listener.ts';
export { createAdminHandler, ADMIN_PREFIX } from './admin-api.ts';
export type { AdminHandlerOptions } from './admin-api.ts';
export { SqlitePolicyStore, POLICY_MIGRATIONS } from './policy-store.ts';
export { SqlPolicyStore, PostgresPolicyStore, MysqlPolicyStore, POSTGRES_POLICY_MIGRATIONS, MYSQL_POLICY_MIGRATIONS } from './sql-policy-store.ts';
export { FileAuditSink } from './audit-log.ts';
