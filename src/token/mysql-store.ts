/**
 * The MySQL/MariaDB `TokenStore`: SqlTokenStore (sql-store.ts) on src/storage's MySQL driver,
 * from notary's go-sql-driver `db_url` form (`user:pass@tcp(host:3306)/db?parseTime=True`).
 * Names are VARBINARY, so they compare and sort byte for byte (never case-folded by a collation).
 *
 * Example:
 *   const store = await MysqlTokenStore.open('vouch:pw@tcp(db:3306)/vouch?parseTime=True');
 *   await store.addUser('alice', 's3cret');
 *   await store.close();
 */
import { MysqlDriver, sqlFailure, type MysqlOptions, type SqlMigration } from '../storage/index.ts';
import type { TokenStoreOptions } from './memory-store.ts';
import { migrateTokenSchema, SqlTokenStore } from './sql-store.ts';

/** The token schema on MySQL/MariaDB, oldest first; append only. DDL commits per statement, so each is re-runnable. */
export const MYSQL_TOKEN_MIGRATIONS: readonly SqlMigration[] = [
  {
    version: 1,
    name: 'users, grants, namespaces and refresh tokens',
    statements: [
      `CREATE TABLE IF NOT EXISTS token_users (
        name VARBINARY(255) NOT NULL PRIMARY KEY,
        password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        admin TINYINT NOT NULL CHECK (admin IN (0, 1)),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      `CREATE TABLE IF NOT EXISTS token_grants (
        user_name VARBINARY(255) NOT NULL,
        namespace VARBINARY(255) NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_name, namespace)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      `CREATE TABLE IF NOT EXISTS token_namespaces (
        namespace VARBINARY(255) NOT NULL PRIMARY KEY,
        anonymous_pull TINYINT NOT NULL CHECK (anonymous_pull IN (0, 1)),
        updated_at BIGINT NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      `CREATE TABLE IF NOT EXISTS token_refresh_tokens (
        id VARBINARY(64) NOT NULL PRIMARY KEY,
        user_name VARBINARY(255) NOT NULL,
        client_id VARCHAR(255) NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        KEY token_refresh_tokens_user (user_name)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ],
  },
];

export interface MysqlTokenStoreOptions extends TokenStoreOptions, MysqlOptions {}

export class MysqlTokenStore extends SqlTokenStore {
  /**
   * Connects to `dbUrl` and brings the token tables up to date.
   * @throws ConfigError for a bad `db_url`; StorageError naming the server when it cannot be
   *   reached or migrated
   */
  static async open(dbUrl: string, opts: MysqlTokenStoreOptions = {}): Promise<MysqlTokenStore> {
    // Loaded on first use, so programs that never open a MySQL store do not pay for it.
    const { default: mysql } = await import('mysql2/promise');
    const driver = new MysqlDriver(mysql, dbUrl, { maxConnections: opts.maxConnections ?? 5, ...opts });
    try {
      await migrateTokenSchema(driver, MYSQL_TOKEN_MIGRATIONS);
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw sqlFailure(driver.label, 'open token store', err);
    }
    return new MysqlTokenStore(driver, opts);
  }
}
