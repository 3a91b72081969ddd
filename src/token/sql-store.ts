/**
 * The `TokenStore` over a networked SQL server (PostgreSQL, MySQL/MariaDB), written once on top
 * of src/storage's drivers: the dialect supplies the connection pool, its locks and the table
 * DDL (postgres-store.ts, mysql-store.ts); the semantics are the memory store's
 * (store-conformance.ts).
 *
 * Tables carry a `token_` prefix and the applied schema versions live in their own
 * `token_schema_migrations` table, so the token service can share the trust server's database
 * without either side's migrations knowing about the other. Migrations run under the storage
 * layer's migration lock, so instances starting together apply each one once.
 *
 * Concurrency: every write that reads before it writes runs in one transaction holding a
 * named lock shared by every instance on the database — the user's (`token.user.<name>`) or
 * the namespace's — so "does the user exist" and the write that depends on it never interleave
 * with a removal. Password hashing happens before the transaction. Times are ms since the epoch.
 */
import { NotFoundError, StateError } from '../errors/index.ts';
import { migrate, sqlFailure, toNumber, toText, type MigrationHost, type SqlDriver, type SqlExecutor, type SqlMigration, type SqlRow } from '../storage/index.ts';
import { InvalidCredentialsError } from './errors.ts';
import type { TokenStoreOptions } from './memory-store.ts';
import { checkNamespace, checkUserName } from './names.ts';
import { DEFAULT_SCRYPT_LOG_N, hashPassword, passwordMatches, verifyAgainstNothing } from './password.ts';
import type { AddUserOptions, NamespaceSettings, RefreshTokenRecord, TokenStore, User } from './store.ts';

export const TOKEN_MIGRATIONS_TABLE = 'token_schema_migrations';

/** What a SQL token store needs from a dialect's driver. */
export type TokenSqlDriver = SqlDriver & MigrationHost;

function toUser(row: SqlRow): User {
  return { name: toText(row['name'], 'name'), admin: toNumber(row['admin'], 'admin') === 1, created: new Date(toNumber(row['created_at'], 'created_at')) };
}

function userLock(name: string): string {
  return `token.user.${name}`;
}

function namespaceLock(namespace: string): string {
  return `token.namespace.${namespace}`;
}

/** Brings the token tables up to the last of `migrations` (versions in TOKEN_MIGRATIONS_TABLE). */
export function migrateTokenSchema(driver: TokenSqlDriver, migrations: readonly SqlMigration[]): Promise<void> {
  return migrate(driver, migrations, { table: TOKEN_MIGRATIONS_TABLE, schema: 'token' });
}

/** Safe for concurrent use, also by several processes on one database. */
export class SqlTokenStore implements TokenStore {
  readonly #db: TokenSqlDriver;
  readonly #logN: number;
  readonly #now: () => Date;
  #closed = false;

  /** Use a dialect's `open`, which migrates first. */
  protected constructor(driver: TokenSqlDriver, opts: TokenStoreOptions = {}) {
    this.#db = driver;
    this.#logN = opts.scryptLogN ?? DEFAULT_SCRYPT_LOG_N;
    this.#now = opts.now ?? (() => new Date());
  }

  /** Ends the connection pool; later calls throw StateError. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#db.close();
  }

  async #read(what: string, sql: string, params: (string | number)[] = []): Promise<SqlRow[]> {
    if (this.#closed) throw new StateError('token store is closed');
    try {
      return (await this.#db.query(sql, params)).rows;
    } catch (err) {
      throw sqlFailure(this.#db.label, what, err);
    }
  }

  /** One transaction holding the named lock; a throw rolls back and is rethrown. */
  async #write<T>(what: string, lock: string, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StateError('token store is closed');
    try {
      return await this.#db.inGunTransaction(lock, (tx) => fn(tx));
    } catch (err) {
      throw sqlFailure(this.#db.label, what, err);
    }
  }

  async #mustExist(tx: SqlExecutor, name: string): Promise<void> {
    if ((await tx.query('SELECT 1 AS one FROM token_users WHERE name = ?', [name])).rows.length === 0) {
      throw new NotFoundError(`no such user ${JSON.stringify(name)}`);
    }
  }

  async addUser(name: string, password: string, opts: AddUserOptions = {}): Promise<User> {
    checkUserName(name);
    if ((await this.getUser(name)) !== null) throw new StateError(`user ${JSON.stringify(name)} already exists`);
    const hash = await hashPassword(password, this.#logN);
    const created = this.#now();
    const admin = opts.admin === true;
    return this.#write('add user', userLock(name), async (tx) => {
      if ((await tx.query('SELECT 1 AS one FROM token_users WHERE name = ?', [name])).rows.length > 0) {
        throw new StateError(`user ${JSON.stringify(name)} already exists`);
      }
      await tx.query('INSERT INTO token_users (name, password_hash, admin, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [
        name,
        hash,
        admin ? 1 : 0,
        created.getTime(),
        created.getTime(),
      ]);
      return { name, admin, created };
    });
  }

  async setPassword(name: string, password: string): Promise<void> {
    if ((await this.getUser(name)) === null) throw new NotFoundError(`no such user ${JSON.stringify(name)}`);
    const hash = await hashPassword(password, this.#logN);
    await this.#write('set password', userLock(name), async (tx) => {
      await this.#mustExist(tx, name);
      await tx.query('UPDATE token_users SET password_hash = ?, updated_at = ? WHERE name = ?', [hash, this.#now().getTime(), name]);
      await tx.query('DELETE FROM token_refresh_tokens WHERE user_name = ?', [name]);
    });
  }

  async setAdmin(name: string, admin: boolean): Promise<void> {
    await this.#write('set admin', userLock(name), async (tx) => {
      await this.#mustExist(tx, name);
      await tx.query('UPDATE token_users SET admin = ?, updated_at = ? WHERE name = ?', [admin ? 1 : 0, this.#now().getTime(), name]);
    });
  }

  async removeUser(name: string): Promise<void> {
    await this.#write('remove user', userLock(name), async (tx) => {
      await this.#mustExist(tx, name);
      await tx.query('DELETE FROM token_users WHERE name = ?', [name]);
      await tx.query('DELETE FROM token_grants WHERE user_name = ?', [name]);
      await tx.query('DELETE FROM token_refresh_tokens WHERE user_name = ?', [name]);
    });
  }

  async getUser(name: string): Promise<User | null> {
    const rows = await this.#read('get user', 'SELECT name, admin, created_at FROM token_users WHERE name = ?', [name]);
    return rows[0] === undefined ? null : toUser(rows[0]);
  }

  async listUsers(): Promise<User[]> {
    return (await this.#read('list users', 'SELECT name, admin, created_at FROM token_users ORDER BY name')).map(toUser);
  }

  async verify(name: string, password: string): Promise<User> {
    const first = (await this.#read('verify', 'SELECT password_hash FROM token_users WHERE name = ?', [name]))[0];
    if (first === undefined) {
      await verifyAgainstNothing(password, this.#logN);
      throw new InvalidCredentialsError();
    }
    const hash = toText(first['password_hash'], 'password_hash');
    if (!(await passwordMatches(hash, password))) throw new InvalidCredentialsError();
    // The user may have been removed, or the password changed, while the hash was computed.
    const row = (await this.#read('verify', 'SELECT name, admin, created_at, password_hash FROM token_users WHERE name = ?', [name]))[0];
    if (row === undefined || toText(row['password_hash'], 'password_hash') !== hash) throw new InvalidCredentialsError();
    return toUser(row);
  }

  async grant(user: string, namespace: string): Promise<void> {
    checkNamespace(namespace);
    await this.#write('grant', userLock(user), async (tx) => {
      await this.#mustExist(tx, user);
      const had = await tx.query('SELECT 1 AS one FROM token_grants WHERE user_name = ? AND namespace = ?', [user, namespace]);
      if (had.rows.length > 0) return;
      await tx.query('INSERT INTO token_grants (user_name, namespace, created_at) VALUES (?, ?, ?)', [user, namespace, this.#now().getTime()]);
    });
  }

  async revoke(user: string, namespace: string): Promise<void> {
    await this.#write('revoke', userLock(user), (tx) => tx.query('DELETE FROM token_grants WHERE user_name = ? AND namespace = ?', [user, namespace]));
  }

  async grantsOf(user: string): Promise<string[]> {
    const rows = await this.#read('grants', 'SELECT namespace FROM token_grants WHERE user_name = ? ORDER BY namespace', [user]);
    return rows.map((r) => toText(r['namespace'], 'namespace'));
  }

  async addRefreshToken(record: RefreshTokenRecord): Promise<void> {
    await this.#write('add refresh token', userLock(record.user), async (tx) => {
      await this.#mustExist(tx, record.user);
      await tx.query('INSERT INTO token_refresh_tokens (id, user_name, client_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)', [
        record.id,
        record.user,
        record.clientId,
        record.created.getTime(),
        record.expires.getTime(),
      ]);
    });
  }

  async findRefreshToken(id: string, now: Date): Promise<RefreshTokenRecord | null> {
    const rows = await this.#read(
      'find refresh token',
      'SELECT id, user_name, client_id, created_at, expires_at FROM token_refresh_tokens WHERE id = ? AND expires_at > ?',
      [id, now.getTime()],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return {
      id: toText(row['id'], 'id'),
      user: toText(row['user_name'], 'user_name'),
      clientId: toText(row['client_id'], 'client_id'),
      created: new Date(toNumber(row['created_at'], 'created_at')),
      expires: new Date(toNumber(row['expires_at'], 'expires_at')),
    };
  }

  async revokeRefreshTokens(user: string): Promise<number> {
    const res = await this.#write('revoke refresh tokens', userLock(user), (tx) => tx.query('DELETE FROM token_refresh_tokens WHERE user_name = ?', [user]));
    return res.affected;
  }

  async setAnonymousPull(namespace: string, anonymousPull: boolean): Promise<void> {
    checkNamespace(namespace);
    await this.#write('set anonymous pull', namespaceLock(namespace), async (tx) => {
      await tx.query('DELETE FROM token_namespaces WHERE namespace = ?', [namespace]);
      await tx.query('INSERT INTO token_namespaces (namespace, anonymous_pull, updated_at) VALUES (?, ?, ?)', [
        namespace,
        anonymousPull ? 1 : 0,
        this.#now().getTime(),
      ]);
    });
  }

  async getNamespace(namespace: string): Promise<NamespaceSettings | null> {
    const rows = await this.#read('get namespace', 'SELECT namespace, anonymous_pull FROM token_namespaces WHERE namespace = ?', [namespace]);
    return rows[0] === undefined ? null : toSettings(rows[0]);
  }

  async listNamespaces(): Promise<NamespaceSettings[]> {
    return (await this.#read('list namespaces', 'SELECT namespace, anonymous_pull FROM token_namespaces ORDER BY namespace')).map(toSettings);
  }

  async removeNamespace(namespace: string): Promise<void> {
    await this.#write('remove namespace', namespaceLock(namespace), (tx) => tx.query('DELETE FROM token_namespaces WHERE namespace = ?', [namespace]));
  }
}

function toSettings(row: SqlRow): NamespaceSettings {
  return { namespace: toText(row['namespace'], 'namespace'), anonymousPull: toNumber(row['anonymous_pull'], 'anonymous_pull') === 1 };
}
