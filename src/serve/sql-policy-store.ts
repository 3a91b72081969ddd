/**
 * The `PolicySettingsStore` of `vouch serve` on a shared SQL server: PostgreSQL or MySQL/MariaDB,
 * on src/storage's drivers, from notary's `db_url` forms. Same semantics as the memory and SQLite
 * stores (src/policy/store-conformance.ts), and no cache: every read goes to the database, so a
 * setting changed through one instance holds at once on every other instance on the database.
 *
 * Tables carry a `policy_` prefix and the applied schema versions live in
 * `policy_schema_migrations`, so the policy settings share the database with the trust server's
 * and the token service's tables without knowing their migrations. Migrations run under the
 * storage layer's migration lock (instances starting together apply each one once). Each write is
 * one statement (an upsert or a delete), atomic on its own. Namespaces compare and sort byte for
 * byte (`COLLATE "C"`, VARBINARY), as in the other backends.
 *
 * Example:
 *   const store = await PostgresPolicyStore.open('postgres://vouch@db:5432/vouch?sslmode=verify-full');
 *   await store.set(parseNamespacePolicy('team', { enforce: true }));
 *   await store.close();
 */
import { StateError, StorageError } from '../errors/index.ts';
import { checkNamespace, type NamespacePolicy, type PolicySettingsStore } from '../policy/index.ts';
import {
  migrate,
  MysqlDriver,
  PostgresDriver,
  sqlFailure,
  toNumber,
  toText,
  type MigrationHost,
  type MysqlOptions,
  type PostgresOptions,
  type SqlDriver,
  type SqlMigration,
  type SqlRow,
  type SqlValue,
} from '../storage/index.ts';

export const POLICY_MIGRATIONS_TABLE = 'policy_schema_migrations';

/** The policy schema on PostgreSQL, oldest first; append only. */
export const POSTGRES_POLICY_MIGRATIONS: readonly SqlMigration[] = [
  {
    version: 1,
    name: 'per-namespace content-trust settings',
    statements: [
      `CREATE TABLE IF NOT EXISTS policy_namespaces (
        namespace VARCHAR(255) COLLATE "C" PRIMARY KEY,
        enforce SMALLINT NOT NULL CHECK (enforce IN (0, 1)),
        pinned_root_key VARCHAR(64),
        required_signers TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
];

/** The policy schema on MySQL/MariaDB, oldest first; append only. DDL commits per statement, so each is re-runnable. */
export const MYSQL_POLICY_MIGRATIONS: readonly SqlMigration[] = [
  {
    version: 1,
    name: 'per-namespace content-trust settings',
    statements: [
      `CREATE TABLE IF NOT EXISTS policy_namespaces (
        namespace VARBINARY(255) NOT NULL PRIMARY KEY,
        enforce TINYINT NOT NULL CHECK (enforce IN (0, 1)),
        pinned_root_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
        required_signers TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ],
  },
];

const COLUMNS = 'namespace, enforce, pinned_root_key, required_signers, updated_at';
const POSTGRES_UPSERT = `INSERT INTO policy_namespaces (${COLUMNS}) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (namespace) DO UPDATE SET enforce = EXCLUDED.enforce, pinned_root_key = EXCLUDED.pinned_root_key,
    required_signers = EXCLUDED.required_signers, updated_at = EXCLUDED.updated_at`;
const MYSQL_UPSERT = `INSERT INTO policy_namespaces (${COLUMNS}) VALUES (?, ?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE enforce = VALUES(enforce), pinned_root_key = VALUES(pinned_root_key),
    required_signers = VALUES(required_signers), updated_at = VALUES(updated_at)`;

type PolicySqlDriver = SqlDriver & MigrationHost;

/** Brings the policy tables up to the last of `migrations` (versions in POLICY_MIGRATIONS_TABLE). */
function migratePolicySchema(driver: PolicySqlDriver, migrations: readonly SqlMigration[]): Promise<void> {
  return migrate(driver, migrations, { table: POLICY_MIGRATIONS_TABLE, schema: 'policy' });
}

function toPolicy(row: SqlRow, label: string): NamespacePolicy {
  let signers: unknown;
  try {
    signers = JSON.parse(toText(row['required_signers'], 'required_signers'));
  } catch {
    signers = null;
  }
  if (!Array.isArray(signers) || !signers.every((s) => typeof s === 'string')) throw new StorageError(`${label}: policy_namespaces.required_signers is not a list of names`);
  const pin = row['pinned_root_key'];
  return Object.freeze({
    namespace: toText(row['namespace'], 'namespace'),
    enforce: toNumber(row['enforce'], 'enforce') === 1,
    pinnedRootKey: pin === null || pin === undefined ? null : toText(pin, 'pinned_root_key'),
    requiredSigners: Object.freeze([...(signers as string[])].sort()),
  });
}

/** Safe for concurrent use, also by several processes on one database. */
export class SqlPolicyStore implements PolicySettingsStore {
  readonly #db: PolicySqlDriver;
  readonly #upsert: string;
  #closed = false;

  /** Use a dialect's `open`, which migrates first. */
  protected constructor(driver: PolicySqlDriver, upsert: string) {
    this.#db = driver;
    this.#upsert = upsert;
  }

  /** Ends the connection pool; later calls throw StateError. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.close();
  }

  async #query(what: string, sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    if (this.#closed) throw new StateError('policy store is closed');
    try {
      return (await this.#db.query(sql, params)).rows;
    } catch (err) {
      throw sqlFailure(this.#db.label, what, err);
    }
  }

  async get(namespace: string): Promise<NamespacePolicy | null> {
    const rows = await this.#query('get policy', `SELECT ${COLUMNS} FROM policy_namespaces WHERE namespace = ?`, [namespace]);
    return rows[0] === undefined ? null : toPolicy(rows[0], this.#db.label);
  }

  async set(policy: NamespacePolicy): Promise<void> {
    checkNamespace(policy.namespace);
    const signers = JSON.stringify([...policy.requiredSigners].sort());
    await this.#query('set policy', this.#upsert, [policy.namespace, policy.enforce ? 1 : 0, policy.pinnedRootKey, signers, Date.now()]);
  }

  async remove(namespace: string): Promise<void> {
    await this.#query('remove policy', 'DELETE FROM policy_namespaces WHERE namespace = ?', [namespace]);
  }

  async list(): Promise<NamespacePolicy[]> {
    const rows = await this.#query('list policies', `SELECT ${COLUMNS} FROM policy_namespaces ORDER BY namespace`);
    return rows.map((r) => toPolicy(r, this.#db.label));
  }
}

/** Opens a pool, migrates, and closes the pool again when that fails. */
async function opened<T>(driver: PolicySqlDriver, migrations: readonly SqlMigration[], make: () => T): Promise<T> {
  try {
    await migratePolicySchema(driver, migrations);
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw sqlFailure(driver.label, 'open policy store', err);
  }
  return make();
}

export class PostgresPolicyStore extends SqlPolicyStore {
  /**
   * Connects to `dbUrl` (`postgres://…`) and brings the policy tables up to date.
   * @throws ConfigError for a bad `db_url`; StorageError naming the server when it cannot be reached or migrated
   */
  static async open(dbUrl: string, opts: PostgresOptions = {}): Promise<PostgresPolicyStore> {
    // Loaded on first use, so programs that never open a PostgreSQL store do not pay for it.
    const { default: pg } = await import('pg');
    const driver = new PostgresDriver(pg, dbUrl, { maxConnections: 3, ...opts });
    return opened(driver, POSTGRES_POLICY_MIGRATIONS, () => new PostgresPolicyStore(driver, POSTGRES_UPSERT));
  }
}

export class MysqlPolicyStore extends SqlPolicyStore {
  /**
   * Connects to `dbUrl` (go-sql-driver DSN) and brings the policy tables up to date.
   * @throws ConfigError for a bad `db_url`; StorageError naming the server when it cannot be reached or migrated
   */
  static async open(dbUrl: string, opts: MysqlOptions = {}): Promise<MysqlPolicyStore> {
    // Loaded on first use, so programs that never open a MySQL store do not pay for it.
    const { default: mysql } = await import('mysql2/promise');
    const driver = new MysqlDriver(mysql, dbUrl, { maxConnections: 3, ...opts });
    return opened(driver, MYSQL_POLICY_MIGRATIONS, () => new MysqlPolicyStore(driver, MYSQL_UPSERT));
  }
}
