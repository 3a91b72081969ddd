/**
 * The PostgreSQL side of the SQL backends (driver: `pg`): a connection pool from notary's
 * `db_url`, the schema migrations (data, applied on open), and the locks sql-store.ts relies on.
 *
 * Locks are transaction-scoped advisory locks (`pg_advisory_xact_lock`), released by commit,
 * rollback or a dropped connection, so a crashed instance never leaves one behind:
 * - per GUN, around every `updateMany`/`delete` (key: a hash of the GUN; a collision between two
 *   GUNs only serialises them);
 * - one changefeed lock, taken just before change records are inserted and held to commit, so
 *   change ids (a sequence) are handed out in commit order;
 * - one migration lock: DDL is transactional here, so a migration is applied wholly or not at all.
 * `lock_timeout` bounds every wait, and `idle_in_transaction_session_timeout` ends a transaction
 * whose client went away without closing its connection.
 *
 * Times are stored in `timestamp` columns (no zone, as notary's tables) holding UTC; they are read
 * back as text and parsed as UTC, never through the process's local zone.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { StorageError } from '../errors/index.ts';
import { MIGRATIONS_TABLE, migrate, type MigrationHost, type SqlMigration } from './sql-migrate.ts';
import { lockNumber, sqlFailure, type SqlDriver, type SqlExecutor, type SqlResult, type SqlTransaction, type SqlValue } from './sql-store.ts';
import { describePostgres, parsePostgresUrl, type PostgresTarget } from './postgres-url.ts';

export interface PostgresOptions {
  /** Pool size per store (default 10). */
  readonly maxConnections?: number;
  /** Longest wait for a lock, in ms (default 30 000); a timed-out write fails with StorageError. */
  readonly lockTimeoutMs?: number;
  /** Where `PG*` defaults come from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Advisory lock classes (first key of the two-key form): "vo" followed by a purpose number. */
const GUN_LOCK = 0x766f0001;
const FEED_LOCK = 0x766f0002;
const MIGRATION_LOCK = 0x766f0003;

/**
 * The schema, oldest first. Append only: a released migration never changes. Table and column
 * names are notary's; `IF NOT EXISTS` adopts tables notary's own migrations created.
 */
export const POSTGRES_MIGRATIONS: readonly SqlMigration[] = [
  {
    version: 1,
    name: 'tuf files, changefeed and private keys (notary layout)',
    statements: [
      `CREATE TABLE IF NOT EXISTS tuf_files (
        id BIGSERIAL PRIMARY KEY,
        created_at TIMESTAMP NULL DEFAULT NULL,
        updated_at TIMESTAMP NULL DEFAULT NULL,
        deleted_at TIMESTAMP NULL DEFAULT NULL,
        gun VARCHAR(255) NOT NULL,
        role VARCHAR(255) NOT NULL,
        version BIGINT NOT NULL,
        sha256 VARCHAR(64) DEFAULT NULL,
        data BYTEA NOT NULL,
        UNIQUE (gun, role, version)
      )`,
      'CREATE INDEX IF NOT EXISTS tuf_files_gun_role_sha256 ON tuf_files (gun, role, sha256)',
      `CREATE TABLE IF NOT EXISTS changefeed (
        id BIGSERIAL PRIMARY KEY,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        gun VARCHAR(255) NOT NULL,
        version BIGINT NOT NULL,
        sha256 VARCHAR(64) DEFAULT NULL,
        category VARCHAR(20) NOT NULL DEFAULT 'update' CHECK (category IN ('update', 'deletion'))
      )`,
      'CREATE INDEX IF NOT EXISTS changefeed_gun_id ON changefeed (gun, id)',
      `CREATE TABLE IF NOT EXISTS private_keys (
        id BIGSERIAL PRIMARY KEY,
        created_at TIMESTAMP NULL DEFAULT NULL,
        updated_at TIMESTAMP NULL DEFAULT NULL,
        deleted_at TIMESTAMP NULL DEFAULT NULL,
        key_id VARCHAR(255) NOT NULL UNIQUE,
        encryption_alg VARCHAR(255) NOT NULL,
        keywrap_alg VARCHAR(255) NOT NULL,
        algorithm VARCHAR(50) NOT NULL,
        passphrase_alias VARCHAR(50) NOT NULL,
        gun VARCHAR(255) NOT NULL,
        role VARCHAR(255) NOT NULL,
        public BYTEA NOT NULL,
        private BYTEA NOT NULL,
        last_used TIMESTAMP NULL DEFAULT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS private_keys_gun_role ON private_keys (gun, role, created_at)',
    ],
  },
];

const TIMESTAMP_OIDS = new Set([1114, 1184]); // timestamp, timestamptz: keep the text

/** `?` placeholders become `$1, $2, …` (vouch's statements have no `?` anywhere else). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function toResult(res: pg.QueryResult): SqlResult {
  return { rows: res.rows as Record<string, unknown>[], affected: res.rowCount ?? 0 };
}

/** The SQLSTATEs after which a transaction can simply run again. */
function retryable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/** A `-c name=value` startup option, escaped as the server's option parser expects. */
function runtimeOption(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new StorageError(`postgres: unsupported db_url parameter "${name}"`);
  return `-c ${name}=${value.replace(/[\\\s]/g, (c) => `\\${c}`)}`;
}

function sslOptions(t: PostgresTarget): boolean | ConnectionOptions {
  if (t.sslmode === 'disable') return false;
  const read = (file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new StorageError(`${describePostgres(t)}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const opts: ConnectionOptions = { ca: read(t.sslrootcert), cert: read(t.sslcert), key: read(t.sslkey) };
  // lib/pq: plain `require` checks nothing, unless a root certificate is given (then like verify-ca).
  if (t.sslmode === 'require' && t.sslrootcert === undefined) return { ...opts, rejectUnauthorized: false };
  if (t.sslmode === 'verify-full') return { ...opts, rejectUnauthorized: true };
  return { ...opts, rejectUnauthorized: true, checkServerIdentity: () => undefined };
}

/** A PostgreSQL connection pool speaking the SqlDriver contract. Safe for concurrent use. */
export class PostgresDriver implements SqlDriver, MigrationHost {
  readonly label: string;
  readonly bookkeepingTable = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
    version INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    applied_at VARCHAR(40) NOT NULL
  )`;
  readonly #pool: pg.Pool;
  #ended: Promise<void> | null = null;

  /**
   * Use `openPostgres`, which also loads the driver module and migrates.
   * @throws ConfigError for a bad `db_url`, StorageError for unreadable certificate files
   */
  constructor(driver: typeof pg, dbUrl: string, options: PostgresOptions = {}) {
    const t = parsePostgresUrl(dbUrl, options.env ?? process.env);
    this.label = describePostgres(t);
    const lockTimeout = options.lockTimeoutMs ?? 30_000;
    const runtime = Object.entries(t.runtimeParams).map(([k, v]) => runtimeOption(k, v));
    this.#pool = new driver.Pool({
      host: t.host,
      port: t.port,
      user: t.user,
      password: t.password,
      database: t.database,
      ssl: sslOptions(t),
      connectionTimeoutMillis: (t.connectTimeoutSeconds ?? 30) * 1000,
      application_name: t.applicationName ?? 'vouch',
      options: runtime.length > 0 ? runtime.join(' ') : undefined,
      max: options.maxConnections ?? 10,
      lock_timeout: lockTimeout,
      idle_in_transaction_session_timeout: Math.max(lockTimeout * 2, 60_000),
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          TIMESTAMP_OIDS.has(oid) ? (v: string) => v : driver.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
      },
    });
    // An idle connection the server dropped: the pool discards it and the next query reconnects.
    this.#pool.on('error', () => undefined);
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlResult> {
    return toResult(await this.#pool.query(numbered(sql), [...params]));
  }

  async inGunTransaction<T>(gun: string, fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#transaction(async (client) => {
          await client.query('SELECT pg_advisory_xact_lock($1, $2)', [GUN_LOCK, lockNumber(gun)]);
          const tx: SqlTransaction = {
            query: async (sql, params = []) => toResult(await client.query(numbered(sql), [...params])),
            lockChangefeed: async () => {
              await client.query('SELECT pg_advisory_xact_lock($1, 0)', [FEED_LOCK]);
            },
          };
          return fn(tx);
        });
      } catch (err) {
        if (attempt < 3 && retryable(err)) continue;
        throw err;
      }
    }
  }

  withMigrationLock<T>(body: (db: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, 0)', [MIGRATION_LOCK]);
      return body({ query: async (sql, params = []) => toResult(await client.query(numbered(sql), [...params])) });
    });
  }

  isUniqueViolation(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === '23505';
  }

  /** Ends the pool once; waits for checked-out connections to come back. */
  close(): Promise<void> {
    this.#ended ??= this.#pool.end();
    return this.#ended;
  }

  /** BEGIN … COMMIT on one pooled connection; any throw rolls back. */
  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is unusable: do not return it to the pool
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/**
 * Opens a pool on `dbUrl` and brings the schema up to date.
 * @throws ConfigError for a bad `db_url`; StorageError naming the server when it cannot be
 *   reached or migrated
 */
export async function openPostgres(dbUrl: string, options: PostgresOptions = {}): Promise<PostgresDriver> {
  // Loaded on first use, so programs that never open a PostgreSQL store do not pay for it.
  const { default: pgModule } = await import('pg');
  const driver = new PostgresDriver(pgModule, dbUrl, options);
  try {
    await migrate(driver, POSTGRES_MIGRATIONS);
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw sqlFailure(driver.label, 'open', err);
  }
  return driver;
}
