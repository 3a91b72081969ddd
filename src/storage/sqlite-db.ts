/**
 * Opening a vouch SQLite database (`node:sqlite`, no native addon): connection settings, the
 * schema migrations (kept as data, applied by the program itself) and the transaction helper
 * shared by the sqlite backends.
 *
 * Durability: WAL journal with `synchronous=FULL`, so a committed transaction survives a
 * crash and an interrupted one leaves no trace. Concurrency: every write transaction starts
 * with `BEGIN IMMEDIATE`, so two processes on one file serialise on the write lock instead of
 * failing mid-transaction; `busy_timeout` makes the loser wait rather than fail at once.
 * `node:sqlite` is synchronous, so one transaction never interleaves with another call on the
 * same connection. Not done here: schema downgrades (a newer schema is refused).
 */
import { closeSync, openSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { StorageError, VouchError } from '../errors/index.ts';

export interface SqliteOptions {
  /** How long a writer waits for another connection's lock, in ms (default 10 000). */
  readonly busyTimeoutMs?: number;
}

/**
 * The schema, oldest first. Append only: a released migration never changes. Times are
 * milliseconds since the epoch; `sha256` is lowercase hex of `data`.
 */
export const MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'tuf files, changefeed and private keys',
    sql: `
      CREATE TABLE tuf_files (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at INTEGER NOT NULL,
        gun TEXT NOT NULL,
        role TEXT NOT NULL,
        version INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        data BLOB NOT NULL,
        UNIQUE (gun, role, version)
      );
      CREATE INDEX tuf_files_checksum ON tuf_files (gun, role, sha256);
      CREATE TABLE changefeed (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at INTEGER NOT NULL,
        gun TEXT NOT NULL,
        version INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        category TEXT NOT NULL CHECK (category IN ('update', 'deletion'))
      );
      CREATE INDEX changefeed_gun ON changefeed (gun, id);
      CREATE TABLE private_keys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        key_id TEXT NOT NULL UNIQUE,
        encryption_alg TEXT NOT NULL,
        keywrap_alg TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        passphrase_alias TEXT NOT NULL,
        gun TEXT NOT NULL,
        role TEXT NOT NULL,
        public BLOB NOT NULL,
        private TEXT NOT NULL,
        last_used INTEGER
      );
      CREATE INDEX private_keys_gun_role ON private_keys (gun, role, created_at);
    `,
  },
];

/** Turns a driver failure into a StorageError; vouch's own errors pass through. */
export function storageFailure(what: string, err: unknown): VouchError {
  if (err instanceof VouchError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new StorageError(`sqlite: ${what}: ${detail}`, { cause: err });
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT`; any throw rolls everything back and is rethrown
 * (driver errors as StorageError).
 */
export function immediate<T>(db: DatabaseSync, what: string, fn: () => T): T {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    throw storageFailure(what, err);
  }
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    try {
      if (db.isTransaction) db.exec('ROLLBACK');
    } catch {
      // The original failure is the one worth reporting.
    }
    throw storageFailure(what, err);
  }
}

/**
 * Opens (creating if needed) a SQLite file in WAL mode with `synchronous=FULL`: how every vouch
 * store opens its database. A new file is created 0600 first, so the database, and the `-wal`
 * and `-shm` files SQLite gives the same mode, are private from the start: it holds sealed
 * private keys and password hashes. An existing file keeps its mode. `:memory:` and `file:` URIs
 * are passed to SQLite as they are.
 * @throws StorageError (`what` names the file in the message)
 */
export function openSqliteFile(path: string, busyTimeoutMs = 10_000): DatabaseSync {
  let db: DatabaseSync;
  try {
    if (path !== ':memory:' && !path.startsWith('file:')) createPrivateFile(path);
    db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  } catch (err) {
    throw storageFailure(`open ${path}`, err);
  }
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    return db;
  } catch (err) {
    db.close();
    throw storageFailure(`prepare ${path}`, err);
  }
}

/** Create `path` empty with mode 0600 unless it exists. */
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * `openSqliteFile`, then `migrateSqlite` with `migrations` recorded in `record`; the file is
 * closed again when migrating fails.
 * @throws StorageError when the file cannot be opened, a migration fails, or the schema is
 *   newer than this program knows
 */
export function openMigratedSqlite(path: string, busyTimeoutMs: number | undefined, migrations: readonly SqliteMigration[], record: SchemaRecordName): DatabaseSync {
  const db = openSqliteFile(path, busyTimeoutMs);
  try {
    migrateSqlite(db, migrations, record);
    return db;
  } catch (err) {
    db.close();
    throw storageFailure(`prepare ${path}`, err);
  }
}

/** Opens (creating if needed) the trust database at `path` and brings its schema up to date. */
export function openDatabase(path: string, options: SqliteOptions = {}): DatabaseSync {
  return openMigratedSqlite(path, options.busyTimeoutMs, MIGRATIONS, TRUST_RECORD);
}

const TRUST_RECORD: SchemaRecordName = { table: 'schema_migrations', schema: 'schema' };

/** Where one part of a database records its applied versions, and its name in errors. */
export interface SchemaRecordName {
  readonly table: string;
  readonly schema: string;
}

/** A SQLite schema migration: its SQL (any number of statements) runs once, in version order. */
export interface SqliteMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Brings the tables of one part of a database up to the last of `migrations`, recording applied
 * versions in `record.table`, in one `BEGIN IMMEDIATE` transaction (concurrent openers wait).
 * The trust tables, the token service's and the policy settings' each keep their own record, so
 * they share a file without knowing each other's migrations.
 * @throws StorageError when the recorded version is newer than `migrations`, or SQL fails
 */
export function migrateSqlite(db: DatabaseSync, migrations: readonly SqliteMigration[], record: SchemaRecordName): void {
  immediate(db, 'migrate', () => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${record.table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const row = db.prepare(`SELECT MAX(version) AS v FROM ${record.table}`).get();
    const current = typeof row?.['v'] === 'number' ? row['v'] : 0;
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    if (current > latest) {
      throw new StorageError(`sqlite: ${record.schema} version ${current} is newer than this program's ${latest}`);
    }
    const insert = db.prepare(`INSERT INTO ${record.table} (version, name, applied_at) VALUES (?, ?, ?)`);
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      insert.run(m.version, m.name, Date.now());
    }
  });
}
