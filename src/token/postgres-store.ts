/**
 * The PostgreSQL `TokenStore`: SqlTokenStore (sql-store.ts) on src/storage's PostgreSQL driver,
 * from notary's `db_url` form (`postgres://user@host:5432/db?sslmode=…`). Text columns use the
 * "C" collation, so names compare and sort byte for byte as in the other backends.
 *
 * Example:
 *   const store = await PostgresTokenStore.open('postgres://vouch@db:5432/vouch?sslmode=verify-full');
 *   await store.addUser('alice', 's3cret');
 *   await store.close();
 */
import { PostgresDriver, sqlFailure, type PostgresOptions, type SqlMigration } from '../storage/index.ts';
import type { TokenStoreOptions } from './memory-store.ts';
import { migrateTokenSchema, SqlTokenStore } from './sql-store.ts';

/** The token schema on PostgreSQL, oldest first; append only. */
export const POSTGRES_TOKEN_MIGRATIONS: readonly SqlMigration[] = [
  {
    version: 1,
    name: 'users, grants, namespaces and refresh tokens',
    statements: [
      `CREATE TABLE IF NOT EXISTS token_users (
        name VARCHAR(255) COLLATE "C" PRIMARY KEY,
        password_hash VARCHAR(255) NOT NULL,
        admin SMALLINT NOT NULL CHECK (admin IN (0, 1)),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS token_grants (
        user_name VARCHAR(255) COLLATE "C" NOT NULL,
        namespace VARCHAR(255) COLLATE "C" NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_name, namespace)
      )`,
      `CREATE TABLE IF NOT EXISTS token_namespaces (
        namespace VARCHAR(255) COLLATE "C" PRIMARY KEY,
        anonymous_pull SMALLINT NOT NULL CHECK (anonymous_pull IN (0, 1)),
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS token_refresh_tokens (
        id VARCHAR(64) COLLATE "C" PRIMARY KEY,
        user_name VARCHAR(255) COLLATE "C" NOT NULL,
        client_id VARCHAR(255) NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS token_refresh_tokens_user ON token_refresh_tokens (user_name)',
    ],
  },
];

export interface PostgresTokenStoreOptions extends TokenStoreOptions, PostgresOptions {}

export class PostgresTokenStore extends SqlTokenStore {
  /**
   * Connects to `dbUrl` and brings the token tables up to date.
   * @throws ConfigError for a bad `db_url`; StorageError naming the server when it cannot be
   *   reached or migrated
   */
  static async open(dbUrl: string, opts: PostgresTokenStoreOptions = {}): Promise<PostgresTokenStore> {
    // Loaded on first use, so programs that never open a PostgreSQL store do not pay for it.
    const { default: pg } = await import('pg');
    const driver = new PostgresDriver(pg, dbUrl, { maxConnections: opts.maxConnections ?? 5, ...opts });
    try {
      await migrateTokenSchema(driver, POSTGRES_TOKEN_MIGRATIONS);
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw sqlFailure(driver.label, 'open token store', err);
    }
    return new PostgresTokenStore(driver, opts);
  }
}
