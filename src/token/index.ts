/**
 * Public surface of src/token: the docker token service (docker token spec). Users with scrypt
 * password hashes, namespace grants and anonymous-pull settings (`TokenStore`, memory or
 * SQLite), the authorisation policy, an ES256 issuer whose `x5c` chain verifiers trust through
 * a `rootcertbundle`, and the `/token` endpoint as a handler for any node http(s) server.
 *
 * ```ts
 * const store = new SqliteTokenStore('vouch.db');
 * const issuer = new TokenIssuer({ issuer: 'vouch', material: createSigningMaterial() });
 * const service = new TokenService({ store, issuer, services: ['vouch'] });
 * const handleToken = createTokenHandler({ service });   // (req, res) => Promise<boolean>
 * // trust server / registry: TokenAccessController with rootcertbundle = issuer.rootCertBundle
 * ```
 */
export type { User, AddUserOptions, RefreshTokenRecord, NamespaceSettings, UserStore, NamespaceStore, TokenStore } from './store.ts';
export { InvalidCredentialsError, TokenRequestError } from './errors.ts';
export { MemoryTokenStore } from './memory-store.ts';
export type { TokenStoreOptions } from './memory-store.ts';
export { SqliteTokenStore, TOKEN_MIGRATIONS } from './sqlite-store.ts';
export type { SqliteTokenStoreOptions } from './sqlite-store.ts';
export { hashPassword, passwordMatches, DEFAULT_SCRYPT_LOG_N } from './password.ts';
export { isValidUserName, isValidNamespace, repositoryPath, namespaceCovers } from './names.ts';
export { parseScopes, formatScopes } from './scope.ts';
export { AccessPolicy, REPOSITORY_ACTIONS, DEFAULT_OWNER_ACTIONS } from './policy.ts';
export type { PolicyOptions } from './policy.ts';
export { TokenIssuer, createSigningMaterial, DEFAULT_TOKEN_TTL_SECONDS } from './issuer.ts';
export type { SigningMaterial, CreateSigningOptions, TokenIssuerOptions, TokenClaimsInput, IssuedToken } from './issuer.ts';
export { TokenService, DEFAULT_REFRESH_TOKEN_TTL_SECONDS } from './service.ts';
export type { Credentials, TokenRequest, TokenResult, TokenServiceOptions } from './service.ts';
export { createTokenHandler, basicCredentials } from './handler.ts';
export type { RequestHandler, TokenHandlerOptions } from './handler.ts';
export { startTokenServer } from './server.ts';
export type { TokenServerOptions, TokenServerHandle } from './server.ts';
export { SqlTokenStore, migrateTokenSchema, TOKEN_MIGRATIONS_TABLE } from './sql-store.ts';
export type { TokenSqlDriver } from './sql-store.ts';
export { PostgresTokenStore, POSTGRES_TOKEN_MIGRATIONS } from './postgres-store.ts';
export type { PostgresTokenStoreOptions } from './postgres-store.ts';
export { MysqlTokenStore, MYSQL_TOKEN_MIGRATIONS } from './mysql-store.ts';
export type { MysqlTokenStoreOptions } from './mysql-store.ts';
