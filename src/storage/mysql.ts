/**
 * MySQL and MariaDB backends (notary's `storage.backend: mysql`, `db_url` as go-sql-driver's
 * DSN: `user:pass@tcp(host:3306)/db?parseTime=True`).
 *
 * Semantics are the reference ones (memory.ts, checked by conformance.ts); the SQL and the
 * concurrency rules are shared with PostgreSQL in sql-store.ts, the connection, locks and schema
 * are in mysql-db.ts. Any number of vouch processes may share one database: each `updateMany` and
 * `delete` is one transaction under a per-GUN lock, so concurrent publishes to a GUN are each
 * stored whole or refused with VersionConflictError. Opening applies pending migrations.
 *
 * @example
 *   const store = await MysqlMetaStore.open('server@tcp(mysql:3306)/notaryserver?parseTime=True');
 *   await store.updateMany(gun, updates);
 *   await store.close();
 */
import { openMysql, type MysqlOptions } from './mysql-db.ts';
import { SqlKeyRecordStore, SqlMetaStore, type SqlStoreOptions } from './sql-store.ts';

export interface MysqlStoreOptions extends MysqlOptions, SqlStoreOptions {}

/** MetaStore on MySQL/MariaDB; owns its connection pool (`close()` ends it). */
export class MysqlMetaStore extends SqlMetaStore {
  /**
   * Connects and migrates the schema.
   * @throws ConfigError for a bad `db_url`; StorageError naming the server when it is unreachable
   */
  static async open(dbUrl: string, options: MysqlStoreOptions = {}): Promise<MysqlMetaStore> {
    return new MysqlMetaStore(await openMysql(dbUrl, options), options);
  }
}

/** KeyRecordStore on MySQL/MariaDB (table `private_keys`); owns its connection pool. */
export class MysqlKeyRecordStore extends SqlKeyRecordStore {
  /**
   * Connects and migrates the schema.
   * @throws ConfigError for a bad `db_url`; StorageError naming the server when it is unreachable
   */
  static async open(dbUrl: string, options: MysqlStoreOptions = {}): Promise<MysqlKeyRecordStore> {
    return new MysqlKeyRecordStore(await openMysql(dbUrl, options), options);
  }
}
