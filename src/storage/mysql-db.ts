/**
 * The MySQL/MariaDB side of the SQL backends (driver: `mysql2`): a connection pool from notary's
 * go-sql-driver `db_url`, the schema migrations (data, applied on open), and the locks
 * sql-store.ts relies on.
 *
 * Locks are named user locks (`GET_LOCK`), taken on the transaction's own connection before
 * `START TRANSACTION` and released after `COMMIT`/`ROLLBACK`; the server drops them with the
 * connection, so a crashed instance never leaves one behind. Per GUN around every write, one
 * for the changefeed (so AUTO_INCREMENT ids are handed out in commit order), one for migrations.
 * MySQL commits DDL statement by statement, so migrations are written to be re-runnable.
 *
 * Identifiers (GUN, role, key id) are VARBINARY: comparisons are byte for byte, never folded by a
 * case-insensitive or trailing-space-padding collation. Times are DATETIME(3) holding UTC; every
 * connection sets `time_zone = '+00:00'` so notary's TIMESTAMP columns (on adopted tables) agree,
 * and times are read back as text and parsed as UTC.
 */
import { createHash } from 'node:crypto';
import type mysql from 'mysql2/promise';
import { ConfigError, StorageError } from '../errors/index.ts';
import { describeMysql, parseMysqlDsn } from './mysql-dsn.ts';
import { MIGRATIONS_TABLE, migrate, type MigrationHost, type SqlMigration } from './sql-migrate.ts';
import { sqlFailure, type SqlDriver, type SqlExecutor, type SqlResult, type SqlTransaction, type SqlValue } from './sql-store.ts';

export interface MysqlOptions {
  /** Pool size per store (default 10). */
  readonly maxConnections?: number;
  /** Longest wait for a lock, in ms (default 30 000); a timed-out write fails with StorageError. */
  readonly lockTimeoutMs?: number;
}

/**
 * The schema, oldest first. Append only: a released migration never changes. Table and column
 * names are notary's; `IF NOT EXISTS` adopts tables notary's own migrations created.
 */
export const MYSQL_MIGRATIONS: readonly SqlMigration[] = [
  {
    version: 1,
    name: 'tuf files, changefeed and private keys (notary layout)',
    statements: [
      `CREATE TABLE IF NOT EXISTS tuf_files (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        created_at DATETIME(3) NULL DEFAULT NULL,
        updated_at DATETIME(3) NULL DEFAULT NULL,
        deleted_at DATETIME(3) NULL DEFAULT NULL,
        gun VARBINARY(255) NOT NULL,
        role VARBINARY(255) NOT NULL,
        version BIGINT NOT NULL,
        sha256 VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL DEFAULT NULL,
        data LONGBLOB NOT NULL,
        UNIQUE KEY tuf_files_gun_role_version (gun, role, version),
        KEY tuf_files_gun_role_sha256 (gun, role, sha256)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      `CREATE TABLE IF NOT EXISTS changefeed (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        created_at DATETIME(3) NULL DEFAULT NULL,
        gun VARBINARY(255) NOT NULL,
        version BIGINT NOT NULL,
        sha256 VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL DEFAULT NULL,
        category VARCHAR(20) CHARACTER SET ascii NOT NULL DEFAULT 'update' CHECK (category IN ('update', 'deletion')),
        KEY changefeed_gun_id (gun, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      `CREATE TABLE IF NOT EXISTS private_keys (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        created_at DATETIME(3) NULL DEFAULT NULL,
        updated_at DATETIME(3) NULL DEFAULT NULL,
        deleted_at DATETIME(3) NULL DEFAULT NULL,
        key_id VARBINARY(255) NOT NULL,
        encryption_alg VARCHAR(255) NOT NULL,
        keywrap_alg VARCHAR(255) NOT NULL,
        algorithm VARCHAR(50) NOT NULL,
        passphrase_alias VARCHAR(50) NOT NULL,
        gun VARBINARY(255) NOT NULL,
        role VARBINARY(255) NOT NULL,
        public BLOB NOT NULL,
        private BLOB NOT NULL,
        last_used DATETIME(3) NULL DEFAULT NULL,
        UNIQUE KEY private_keys_key_id (key_id),
        KEY private_keys_gun_role (gun, role, created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ],
  },
];

const FEED_LOCK = 'vouch.changefeed';
const MIGRATION_LOCK = 'vouch.migrate';

/** User-lock names are limited to 64 characters: GUNs are named by a digest. */
function gunLockName(gun: string): string {
  return `vouch.gun.${createHash('sha256').update(gun).digest('hex').slice(0, 48)}`;
}

function toResult(res: unknown): SqlResult {
  if (Array.isArray(res)) return { rows: res as Record<string, unknown>[], affected: 0 };
  const affected = (res as { affectedRows?: unknown } | null)?.affectedRows;
  return { rows: [], affected: typeof affected === 'number' ? affected : 0 };
}

function errno(err: unknown): unknown {
  return (err as { errno?: unknown } | null)?.errno;
}

type Conn = mysql.PoolConnection;

async function run(conn: Conn | mysql.Pool, sql: string, params: readonly SqlValue[] = []): Promise<SqlResult> {
  const [res] = await conn.query(sql, [...params]);
  return toResult(res);
}

/** A MySQL/MariaDB connection pool speaking the SqlDriver contract. Safe for concurrent use. */
export class MysqlDriver implements SqlDriver, MigrationHost {
  readonly label: string;
  readonly bookkeepingTable = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
    version INT NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    applied_at VARCHAR(40) NOT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
  readonly #pool: mysql.Pool;
  readonly #lockTimeoutS: number;
  #ended: Promise<void> | null = null;

  /**
   * Use `openMysql`, which also loads the driver module and migrates.
   * @throws ConfigError for a bad `db_url`
   */
  constructor(driver: typeof mysql, dbUrl: string, options: MysqlOptions = {}) {
    const t = parseMysqlDsn(dbUrl);
    this.label = describeMysql(t);
    this.#lockTimeoutS = Math.max(1, Math.ceil((options.lockTimeoutMs ?? 30_000) / 1000));
    const vars = Object.entries(t.systemVars);
    for (const [k, v] of vars) {
      // Values are spliced into client-side escaped statements, which this mode would break.
      if (k.toLowerCase() === 'sql_mode' && /NO_BACKSLASH_ESCAPES/i.test(v)) {
        throw new ConfigError('storage.db_url: sql_mode NO_BACKSLASH_ESCAPES is not supported');
      }
    }
    this.#pool = driver.createPool({
      host: t.host,
      port: t.port,
      socketPath: t.socketPath,
      user: t.user,
      password: t.password,
      database: t.database,
      charset: t.charset === undefined || t.charset.toLowerCase().startsWith('utf8') ? 'utf8mb4' : t.charset,
      ssl: t.tls === 'off' ? undefined : { rejectUnauthorized: t.tls === 'verify' },
      connectTimeout: t.connectTimeoutMs ?? 30_000,
      connectionLimit: options.maxConnections ?? 10,
      waitForConnections: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      timezone: 'Z',
    });
    this.#pool.pool.on('connection', (conn) => {
      const init = [`SET time_zone = '+00:00'`, ...vars.map(([k, v]) => `SET ${k} = ${v}`)];
      for (const sql of init) {
        conn.query(sql, (err: unknown) => {
          // A connection that cannot be set up must not serve queries in the wrong time zone.
          if (err !== null && err !== undefined) conn.destroy();
        });
      }
    });
  }

  query(sql: string, params: readonly SqlValue[] = []): Promise<SqlResult> {
    return run(this.#pool, sql, params);
  }

  async inGunTransaction<T>(gun: string, fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#withLocks(gunLockName(gun), async (session) => {
          const { conn } = session;
          await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
          await conn.query('START TRANSACTION');
          try {
            const result = await fn({ query: (sql, params) => run(conn, sql, params), lockChangefeed: () => session.lock(FEED_LOCK) });
            await conn.query('COMMIT');
            return result;
          } catch (err) {
            try {
              await conn.query('ROLLBACK');
            } catch {
              session.broken = true;
            }
            throw err;
          }
        });
      } catch (err) {
        if (attempt < 3 && errno(err) === 1213) continue; // ER_LOCK_DEADLOCK: the transaction was rolled back
        throw err;
      }
    }
  }

  withMigrationLock<T>(body: (db: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#withLocks(MIGRATION_LOCK, ({ conn }) => body({ query: (sql, params) => run(conn, sql, params) }));
  }

  isUniqueViolation(err: unknown): boolean {
    return errno(err) === 1062 || errno(err) === 1022;
  }

  close(): Promise<void> {
    this.#ended ??= this.#pool.end();
    return this.#ended;
  }

  /**
   * Runs `fn` on one connection holding user lock `first` (and any it takes with `lock`), all
   * released afterwards. A connection marked broken, or whose locks cannot be released, is
   * destroyed rather than returned to the pool (the server then drops its locks).
   */
  async #withLocks<T>(first: string, fn: (session: LockSession) => Promise<T>): Promise<T> {
    const conn = await this.#pool.getConnection();
    const held: string[] = [];
    const session: LockSession = {
      conn,
      broken: false,
      lock: async (name) => {
        const [rows] = await conn.query('SELECT GET_LOCK(?, ?) AS got', [name, this.#lockTimeoutS]);
        const got = Array.isArray(rows) ? (rows[0] as Record<string, unknown> | undefined)?.['got'] : undefined;
        if (Number(got) !== 1) throw new StorageError(`${this.label}: timed out after ${this.#lockTimeoutS}s waiting for lock ${name}`);
        held.push(name);
      },
    };
    try {
      await session.lock(first);
      return await fn(session);
    } finally {
      for (const name of held.reverse()) {
        try {
          await conn.query('SELECT RELEASE_LOCK(?)', [name]);
        } catch {
          session.broken = true;
        }
      }
      if (session.broken) conn.destroy();
      else conn.release();
    }
  }
}

interface LockSession {
  readonly conn: Conn;
  broken: boolean;
  lock(name: string): Promise<void>;
}

/**
 * Opens a pool on `dbUrl` and brings the schema up to date.
 * @throws ConfigError for a bad `db_url`; StorageError naming the server when it cannot be
 *   reached or migrated
 */
export async function openMysql(dbUrl: string, options: MysqlOptions = {}): Promise<MysqlDriver> {
  // Loaded on first use, so programs that never open a MySQL store do not pay for it.
  const { default: mysqlModule } = await import('mysql2/promise');
  const driver = new MysqlDriver(mysqlModule, dbUrl, options);
  try {
    await migrate(driver, MYSQL_MIGRATIONS);
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw sqlFailure(driver.label, 'open', err);
  }
  return driver;
}
