/**
 * Schema migrations for the SQL server backends, kept as data and applied by vouch itself when a
 * store opens (no external migration tool). Each dialect lists its migrations (postgres-db.ts,
 * mysql-db.ts) and supplies a lock that serialises migrating processes, so several instances
 * starting at once on a fresh database apply each migration exactly once.
 *
 * Applied versions are recorded in `vouch_schema_migrations`, not `schema_migrations`: that name
 * belongs to the migration tool notary's own deployments run on the same tables.
 * Not done here: downgrades (a schema newer than this program knows is refused).
 */
import { StorageError } from '../errors/index.ts';
import { toNumber, type SqlExecutor } from './sql-store.ts';

export interface SqlMigration {
  readonly version: number;
  readonly name: string;
  /**
   * Statements run in order. They must be safe to run again (IF NOT EXISTS): MySQL commits each
   * DDL statement by itself, so a migration cut short is simply run again on the next start.
   */
  readonly statements: readonly string[];
}

export interface MigrationHost {
  readonly label: string;
  /** DDL of the bookkeeping table (`version`, `name`, `applied_at`), with IF NOT EXISTS. */
  readonly bookkeepingTable: string;
  /** Runs `body` while holding the database-wide migration lock (in one transaction where DDL is transactional). */
  withMigrationLock<T>(body: (db: SqlExecutor) => Promise<T>): Promise<T>;
}

export const MIGRATIONS_TABLE = 'vouch_schema_migrations';

/** Where one part's schema versions are kept, for parts with their own (token, policy). */
export interface SchemaRecord {
  /** Bookkeeping table (`version`, `name`, `applied_at`), created when missing. */
  readonly table: string;
  /** Named in errors: "<label>: <schema> schema version …". */
  readonly schema: string;
}

/**
 * Brings the schema up to the last of `migrations` (oldest first, versions increasing). The
 * trust server's versions go to MIGRATIONS_TABLE (the host's DDL); a part that shares the
 * database but migrates on its own (token service, policy settings) names its own `record`.
 * @throws StorageError when a statement fails or the database has a newer schema than `migrations`
 */
export async function migrate(host: MigrationHost, migrations: readonly SqlMigration[], record?: SchemaRecord, now: () => Date = () => new Date()): Promise<void> {
  const latest = migrations.at(-1)?.version ?? 0;
  const table = record?.table ?? MIGRATIONS_TABLE;
  const what = record === undefined ? 'schema' : `${record.schema} schema`;
  await host.withMigrationLock(async (db) => {
    await db.query(
      record === undefined
        ? host.bookkeepingTable
        : `CREATE TABLE IF NOT EXISTS ${table} (version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at VARCHAR(40) NOT NULL)`,
    );
    const row = (await db.query(`SELECT MAX(version) AS v FROM ${table}`)).rows[0];
    const current = row === undefined || row['v'] === null ? 0 : toNumber(row['v'], 'version');
    if (current > latest) {
      throw new StorageError(`${host.label}: ${what} version ${current} is newer than this program's ${latest}`);
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      for (const sql of m.statements) await db.query(sql);
      await db.query(`INSERT INTO ${table} (version, name, applied_at) VALUES (?, ?, ?)`, [m.version, m.name, now().toISOString()]);
    }
  });
}
