/**
 * PostgreSQL backends (notary's `storage.backend: postgres`, `db_url` as lib/pq takes it:
 * `postgres://user:pass@host:5432/db?sslmode=disable` or `host=… dbname=…`).
 *
 * Semantics are the reference ones (memory.ts, checked by conformance.ts); the SQL and the
 * concurrency rules are shared with MySQL in sql-store.ts, the connection, locks and schema are in
 * postgres-db.ts. Any number of vouch processes may share one database: each `updateMany` and
 * `delete` is one transaction under a per-GUN lock, so concurrent publishes to a GUN are each
 * stored whole or refused with VersionConflictError. Opening applies pending migrations.
 *
 * @example
 *   const store = await PostgresMetaStore.open('postgres://vouch@db:5432/notaryserver?sslmode=disable');
 *   await store.updateMany(gun, updates);
 *   await store.close();
 */
import { openPostgres, type PostgresOptions } from './postgres-db.ts';
import { SqlKeyRecordStore, SqlMetaStore, type SqlStoreOptions } from './sql-store.ts';

export interface PostgresStoreOptions extends PostgresOptions, SqlStoreOptions {}

/** MetaStore on PostgreSQL; owns its connection pool (`close()` ends it). */
export class PostgresMetaStore extends SqlMetaStore {
  /**
   * Connects and migrates the schema.
   * @throws ConfigError for a bad `db_url`; StorageError naming the server when it is unreachable
   */
  static async open(dbUrl: string, options: PostgresStoreOptions = {}): Promise<PostgresMetaStore> {
    return new PostgresMetaStore(await openPostgres(dbUrl, options), options);
  }
}

/** KeyRecordStore on PostgreSQL (table `private_keys`); owns its connection pool. */
export class PostgresKeyRecordStore extends SqlKeyRecordStore {
  /**
   * Connects and migrates the schema.
   * @throws ConfigError for a bad `db_url`; StorageError naming the server when it is unreachable
   */
  static async open(dbUrl: string, options: PostgresStoreOptions = {}): Promise<PostgresKeyRecordStore> {
    return new PostgresKeyRecordStore(await openPostgres(dbUrl, options), options);
  }
}
