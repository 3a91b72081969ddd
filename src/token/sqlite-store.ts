/**
 * The SQLite `TokenStore` (`node:sqlite`), with the semantics of the memory store
 * (store-conformance.ts). Its tables carry a `token_` prefix and its schema version lives in
 * its own `token_schema_migrations` table, so the store can share one database file with the
 * trust server's tables (`vouch serve` keeps one database) without either side's migrations
 * knowing about the other.
 *
 * Durability and concurrency as in src/storage/sqlite-db.ts: WAL with `synchronous=FULL`, every
 * write one `BEGIN IMMEDIATE` transaction, `busy_timeout` for other processes. Password hashing
 * happens before the transaction, so a slow scrypt never holds the write lock.
 *
 * Example:
 *   const store = new SqliteTokenStore('/var/lib/vouch/vouch.db');
 *   await store.addUser('alice', 's3cret');
 *   store.close();
 */
import type { DatabaseSync, SQLOutputValue } from 'node:sqlite';
import { openMigratedSqlite, type SqliteMigration } from '../storage/index.ts';
import { NotFoundError, StateError, StorageError, VouchError } from '../errors/index.ts';
import type { TokenStoreOptions } from './memory-store.ts';
import { checkNamespace, checkUserName } from './names.ts';
import { DEFAULT_SCRYPT_LOG_N, hashPassword, passwordMatches, verifyAgainstNothing } from './password.ts';
import { InvalidCredentialsError } from './errors.ts';
import type { AddUserOptions, NamespaceSettings, RefreshTokenRecord, TokenStore, User } from './store.ts';

/** The token store's schema, oldest first; append only. Times are ms since the epoch. */
export const TOKEN_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'users, grants, namespaces and refresh tokens',
    sql: `
      CREATE TABLE token_users (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        admin INTEGER NOT NULL CHECK (admin IN (0, 1)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE token_grants (
        user_name TEXT NOT NULL,
        namespace TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_name, namespace)
      );
      CREATE TABLE token_namespaces (
        namespace TEXT PRIMARY KEY,
        anonymous_pull INTEGER NOT NULL CHECK (anonymous_pull IN (0, 1)),
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE token_refresh_tokens (
        id TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        client_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX token_refresh_tokens_user ON token_refresh_tokens (user_name);
    `,
  },
];

export interface SqliteTokenStoreOptions extends TokenStoreOptions {
  /** How long a writer waits for another connection's lock, in ms (default 10 000). */
  readonly busyTimeoutMs?: number;
}

type Row = Record<string, SQLOutputValue>;

function col<T extends 'string' | 'number'>(row: Row, name: string, type: T): T extends 'string' ? string : number {
  const v = row[name];
  if (typeof v !== type) throw new StorageError(`sqlite: column ${name} is not a ${type}`);
  return v as T extends 'string' ? string : number;
}

function toUser(row: Row): User {
  return { name: col(row, 'name', 'string'), admin: col(row, 'admin', 'number') === 1, created: new Date(col(row, 'created_at', 'number')) };
}

function failure(what: string, err: unknown): VouchError {
  if (err instanceof VouchError) return err;
  return new StorageError(`sqlite: ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export class SqliteTokenStore implements TokenStore {
  readonly #db: DatabaseSync;
  readonly #logN: number;
  readonly #now: () => Date;
  #closed = false;

  /** @throws StorageError when the file cannot be opened or its token schema is newer than this program's */
  constructor(path: string, opts: SqliteTokenStoreOptions = {}) {
    this.#logN = opts.scryptLogN ?? DEFAULT_SCRYPT_LOG_N;
    this.#now = opts.now ?? (() => new Date());
    // WAL, synchronous=FULL, a new file 0600; its own tables migrated
    this.#db = openMigratedSqlite(path, opts.busyTimeoutMs, TOKEN_MIGRATIONS, { table: 'token_schema_migrations', schema: 'token schema' });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #read<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new StateError('token store is closed');
    try {
      return fn();
    } catch (err) {
      throw failure(what, err);
    }
  }

  /** One `BEGIN IMMEDIATE … COMMIT`; a throw rolls back and is rethrown. */
  #write<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new StateError('token store is closed');
    const db = this.#db;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw failure(what, err);
    }
    try {
      const out = fn();
      db.exec('COMMIT');
      return out;
    } catch (err) {
      try {
        if (db.isTransaction) db.exec('ROLLBACK');
      } catch {
        // the first failure is the one worth reporting
      }
      throw failure(what, err);
    }
  }

  #mustExist(name: string): void {
    if (this.#db.prepare('SELECT 1 FROM token_users WHERE name = ?').get(name) === undefined) {
      throw new NotFoundError(`no such user ${JSON.stringify(name)}`);
    }
  }

  async addUser(name: string, password: string, opts: AddUserOptions = {}): Promise<User> {
    checkUserName(name);
    if ((await this.getUser(name)) !== null) throw new StateError(`user ${JSON.stringify(name)} already exists`);
    const hash = await hashPassword(password, this.#logN);
    const created = this.#now();
    return this.#write('add user', () => {
      if (this.#db.prepare('SELECT 1 FROM token_users WHERE name = ?').get(name) !== undefined) {
        throw new StateError(`user ${JSON.stringify(name)} already exists`);
      }
      this.#db
        .prepare('INSERT INTO token_users (name, password_hash, admin, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run(name, hash, opts.admin === true ? 1 : 0, created.getTime(), created.getTime());
      return { name, admin: opts.admin === true, created };
    });
  }

  async setPassword(name: string, password: string): Promise<void> {
    if ((await this.getUser(name)) === null) throw new NotFoundError(`no such user ${JSON.stringify(name)}`);
    const hash = await hashPassword(password, this.#logN);
    this.#write('set password', () => {
      this.#mustExist(name);
      this.#db.prepare('UPDATE token_users SET password_hash = ?, updated_at = ? WHERE name = ?').run(hash, this.#now().getTime(), name);
      this.#db.prepare('DELETE FROM token_refresh_tokens WHERE user_name = ?').run(name);
    });
  }

  async setAdmin(name: string, admin: boolean): Promise<void> {
    this.#write('set admin', () => {
      this.#mustExist(name);
      this.#db.prepare('UPDATE token_users SET admin = ?, updated_at = ? WHERE name = ?').run(admin ? 1 : 0, this.#now().getTime(), name);
    });
  }

  async removeUser(name: string): Promise<void> {
    this.#write('remove user', () => {
      this.#mustExist(name);
      this.#db.prepare('DELETE FROM token_users WHERE name = ?').run(name);
      this.#db.prepare('DELETE FROM token_grants WHERE user_name = ?').run(name);
      this.#db.prepare('DELETE FROM token_refresh_tokens WHERE user_name = ?').run(name);
    });
  }

  async getUser(name: string): Promise<User | null> {
    return this.#read('get user', () => {
      const row = this.#db.prepare('SELECT name, admin, created_at FROM token_users WHERE name = ?').get(name);
      return row === undefined ? null : toUser(row);
    });
  }

  async listUsers(): Promise<User[]> {
    return this.#read('list users', () => this.#db.prepare('SELECT name, admin, created_at FROM token_users ORDER BY name').all().map(toUser));
  }

  async verify(name: string, password: string): Promise<User> {
    const hash = this.#read('verify', () => {
      const row = this.#db.prepare('SELECT password_hash FROM token_users WHERE name = ?').get(name);
      return row === undefined ? undefined : col(row, 'password_hash', 'string');
    });
    if (hash === undefined) {
      await verifyAgainstNothing(password, this.#logN);
      throw new InvalidCredentialsError();
    }
    if (!(await passwordMatches(hash, password))) throw new InvalidCredentialsError();
    // The user may have been removed, or the password changed, while the hash was computed.
    const row = this.#read('verify', () => this.#db.prepare('SELECT name, admin, created_at, password_hash FROM token_users WHERE name = ?').get(name));
    if (row === undefined || row['password_hash'] !== hash) throw new InvalidCredentialsError();
    return toUser(row);
  }

  async grant(user: string, namespace: string): Promise<void> {
    checkNamespace(namespace);
    this.#write('grant', () => {
      this.#mustExist(user);
      this.#db.prepare('INSERT OR IGNORE INTO token_grants (user_name, namespace, created_at) VALUES (?, ?, ?)').run(user, namespace, this.#now().getTime());
    });
  }

  async revoke(user: string, namespace: string): Promise<void> {
    this.#write('revoke', () => {
      this.#db.prepare('DELETE FROM token_grants WHERE user_name = ? AND namespace = ?').run(user, namespace);
    });
  }

  async grantsOf(user: string): Promise<string[]> {
    return this.#read('grants', () =>
      this.#db.prepare('SELECT namespace FROM token_grants WHERE user_name = ? ORDER BY namespace').all(user).map((r) => col(r, 'namespace', 'string')),
    );
  }

  async addRefreshToken(record: RefreshTokenRecord): Promise<void> {
    this.#write('add refresh token', () => {
      this.#mustExist(record.user);
      this.#db
        .prepare('INSERT INTO token_refresh_tokens (id, user_name, client_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
        .run(record.id, record.user, record.clientId, record.created.getTime(), record.expires.getTime());
    });
  }

  async findRefreshToken(id: string, now: Date): Promise<RefreshTokenRecord | null> {
    return this.#read('find refresh token', () => {
      const row = this.#db.prepare('SELECT id, user_name, client_id, created_at, expires_at FROM token_refresh_tokens WHERE id = ? AND expires_at > ?').get(id, now.getTime());
      if (row === undefined) return null;
      return {
        id: col(row, 'id', 'string'),
        user: col(row, 'user_name', 'string'),
        clientId: col(row, 'client_id', 'string'),
        created: new Date(col(row, 'created_at', 'number')),
        expires: new Date(col(row, 'expires_at', 'number')),
      };
    });
  }

  async revokeRefreshTokens(user: string): Promise<number> {
    return this.#write('revoke refresh tokens', () => Number(this.#db.prepare('DELETE FROM token_refresh_tokens WHERE user_name = ?').run(user).changes));
  }

  async setAnonymousPull(namespace: string, anonymousPull: boolean): Promise<void> {
    checkNamespace(namespace);
    this.#write('set anonymous pull', () => {
      this.#db
        .prepare(
          'INSERT INTO token_namespaces (namespace, anonymous_pull, updated_at) VALUES (?, ?, ?) ON CONFLICT (namespace) DO UPDATE SET anonymous_pull = excluded.anonymous_pull, updated_at = excluded.updated_at',
        )
        .run(namespace, anonymousPull ? 1 : 0, this.#now().getTime());
    });
  }

  async getNamespace(namespace: string): Promise<NamespaceSettings | null> {
    return this.#read('get namespace', () => {
      const row = this.#db.prepare('SELECT namespace, anonymous_pull FROM token_namespaces WHERE namespace = ?').get(namespace);
      return row === undefined ? null : { namespace: col(row, 'namespace', 'string'), anonymousPull: col(row, 'anonymous_pull', 'number') === 1 };
    });
  }

  async listNamespaces(): Promise<NamespaceSettings[]> {
    return this.#read('list namespaces', () =>
      this.#db
        .prepare('SELECT namespace, anonymous_pull FROM token_namespaces ORDER BY namespace')
        .all()
        .map((row) => ({ namespace: col(row, 'namespace', 'string'), anonymousPull: col(row, 'anonymous_pull', 'number') === 1 })),
    );
  }

  async removeNamespace(namespace: string): Promise<void> {
    this.#write('remove namespace', () => {
      this.#db.prepare('DELETE FROM token_namespaces WHERE namespace = ?').run(namespace);
    });
  }
}
