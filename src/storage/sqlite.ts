/**
 * SQLite backends (notary's `sqlite3` storage; `db_url` is a file path) on `node:sqlite`.
 *
 * Semantics are the reference ones (memory.ts, checked by conformance.ts). Each `updateMany`
 * and `delete` is one `BEGIN IMMEDIATE` transaction, so a crash at any point leaves a publish
 * wholly stored or wholly absent, and several processes may share one file (see sqlite-db.ts).
 * The methods are async-shaped as the interfaces require but do their work synchronously.
 *
 * @example
 *   const store = new SqliteMetaStore('/var/lib/vouch/server.db');
 *   await store.updateMany(gun, updates);
 *   await store.close();
 */
import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';
import { StateError, StorageError, VersionConflictError } from '../errors/index.ts';
import { changePage, checkBatch, sha256Hex } from './internal.ts';
import { immediate, openDatabase, storageFailure } from './sqlite-db.ts';
import type { SqliteOptions } from './sqlite-db.ts';
import type { Change, KeyRecord, KeyRecordStore, MetaStore, MetaUpdate, StoredMeta } from './types.ts';

export interface SqliteStoreOptions extends SqliteOptions {
  /** Clock for `createdAt`; defaults to the system clock. */
  readonly now?: () => Date;
}

type Row = Record<string, SQLOutputValue>;

function num(row: Row, col: string): number {
  const v = row[col];
  if (typeof v !== 'number') throw new StorageError(`sqlite: column ${col} is not a number`);
  return v;
}
function str(row: Row, col: string): string {
  const v = row[col];
  if (typeof v !== 'string') throw new StorageError(`sqlite: column ${col} is not text`);
  return v;
}
function blob(row: Row, col: string): Uint8Array {
  const v = row[col];
  if (!(v instanceof Uint8Array)) throw new StorageError(`sqlite: column ${col} is not a blob`);
  return v;
}
function meta(row: Row | undefined): StoredMeta | null {
  if (row === undefined) return null;
  return { data: blob(row, 'data'), createdAt: new Date(num(row, 'created_at')) };
}

/** Base for both stores: owns the connection and turns driver errors into StorageError. */
class SqliteStore {
  protected readonly db: DatabaseSync;
  readonly #path: string;
  #closed = false;

  constructor(path: string, options: SqliteOptions) {
    this.#path = path;
    this.db = openDatabase(path, options);
  }

  /** Runs a read or write; maps driver errors, refuses use after close. */
  protected run<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new StateError(`sqlite store ${this.#path} is closed`);
    try {
      return fn();
    } catch (err) {
      throw storageFailure(what, err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.db.close();
  }
}

/** MetaStore on one SQLite file. Safe to share a file between processes. */
export class SqliteMetaStore extends SqliteStore implements MetaStore {
  readonly #now: () => Date;
  readonly #maxVersion: StatementSync;
  readonly #insertFile: StatementSync;
  readonly #insertChange: StatementSync;
  readonly #current: StatementSync;
  readonly #checksum: StatementSync;
  readonly #version: StatementSync;
  readonly #deleteGun: StatementSync;

  /** @throws StorageError when the file cannot be opened or migrated */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    super(path, options);
    this.#now = options.now ?? (() => new Date());
    const db = this.db;
    this.#maxVersion = db.prepare('SELECT MAX(version) AS v FROM tuf_files WHERE gun = ? AND role = ?');
    this.#insertFile = db.prepare(
      'INSERT INTO tuf_files (created_at, gun, role, version, sha256, data) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#insertChange = db.prepare(
      'INSERT INTO changefeed (created_at, gun, version, sha256, category) VALUES (?, ?, ?, ?, ?)',
    );
    this.#current = db.prepare(
      'SELECT data, created_at FROM tuf_files WHERE gun = ? AND role = ? ORDER BY version DESC LIMIT 1',
    );
    this.#checksum = db.prepare(
      'SELECT data, created_at FROM tuf_files WHERE gun = ? AND role = ? AND sha256 = ? ORDER BY version DESC LIMIT 1',
    );
    this.#version = db.prepare('SELECT data, created_at FROM tuf_files WHERE gun = ? AND role = ? AND version = ?');
    this.#deleteGun = db.prepare('DELETE FROM tuf_files WHERE gun = ?');
  }

  async updateMany(gun: string, updates: readonly MetaUpdate[]): Promise<void> {
    checkBatch(gun, updates);
    this.run('updateMany', () =>
      immediate(this.db, 'updateMany', () => {
        // Spec §6.2 step 6: every version must exceed what was stored before this call.
        const stored = new Map<string, number | null>();
        for (const u of updates) {
          if (!stored.has(u.role)) {
            const v = this.#maxVersion.get(gun, u.role)?.['v'];
            stored.set(u.role, typeof v === 'number' ? v : null);
          }
          const top = stored.get(u.role);
          if (top !== null && top !== undefined && top >= u.version) {
            throw new VersionConflictError(`${gun} ${u.role}: version ${u.version} is not above stored version ${top}`);
          }
        }
        const at = this.#now().getTime();
        for (const u of updates) {
          const sum = sha256Hex(u.data);
          this.#insertFile.run(at, gun, u.role, u.version, sum, u.data);
          if (u.role === 'timestamp') this.#insertChange.run(at, gun, u.version, sum, 'update');
        }
      }),
    );
  }

  async getCurrent(gun: string, role: string): Promise<StoredMeta | null> {
    return this.run('getCurrent', () => meta(this.#current.get(gun, role)));
  }

  async getChecksum(gun: string, role: string, sha256Hex: string): Promise<StoredMeta | null> {
    return this.run('getChecksum', () => meta(this.#checksum.get(gun, role, sha256Hex)));
  }

  async getVersion(gun: string, role: string, version: number): Promise<StoredMeta | null> {
    return this.run('getVersion', () => meta(this.#version.get(gun, role, version)));
  }

  async delete(gun: string): Promise<void> {
    this.run('delete', () =>
      immediate(this.db, 'delete', () => {
        const res = this.#deleteGun.run(gun);
        // As notary's SQLStorage.Delete: no change record when nothing was removed.
        if (Number(res.changes) > 0) this.#insertChange.run(this.#now().getTime(), gun, 0, '', 'deletion');
      }),
    );
  }

  async getChanges(changeId: number, records: number, gun?: string): Promise<Change[]> {
    const page = changePage(changeId, records);
    if (page.limit === 0) return [];
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (gun !== undefined && gun !== '') {
      where.push('gun = ?');
      args.push(gun);
    }
    if (page.bound !== null) {
      where.push(page.backward ? 'id < ?' : 'id > ?');
      args.push(page.bound);
    }
    const sql =
      'SELECT id, created_at, gun, version, sha256, category FROM changefeed' +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY id ${page.backward ? 'DESC' : 'ASC'} LIMIT ?`;
    args.push(page.limit);
    return this.run('getChanges', () => {
      const rows = this.db.prepare(sql).all(...args).map(toChange);
      return page.backward ? rows.reverse() : rows;
    });
  }

  async check(): Promise<void> {
    this.run('check', () => {
      this.db.prepare('SELECT id FROM tuf_files LIMIT 1').get();
      this.db.prepare('SELECT id FROM changefeed LIMIT 1').get();
    });
  }
}

function toChange(row: Row): Change {
  const category = str(row, 'category');
  if (category !== 'update' && category !== 'deletion') throw new StorageError(`sqlite: bad change category ${category}`);
  return {
    id: String(num(row, 'id')),
    createdAt: new Date(num(row, 'created_at')),
    gun: str(row, 'gun'),
    version: num(row, 'version'),
    sha256: str(row, 'sha256'),
    category,
  };
}

/** The `alg` and `enc` of a compact JWE's protected header, for notary's descriptive columns. */
function jweAlgs(jwe: string): { alg: string; enc: string } {
  try {
    const header: unknown = JSON.parse(Buffer.from(jwe.split('.')[0] ?? '', 'base64url').toString('utf8'));
    if (typeof header === 'object' && header !== null) {
      const h = header as Record<string, unknown>;
      return { alg: typeof h['alg'] === 'string' ? h['alg'] : '', enc: typeof h['enc'] === 'string' ? h['enc'] : '' };
    }
  } catch {
    // Not a JWE we can read: the columns are informational only.
  }
  return { alg: '', enc: '' };
}

function toRecord(row: Row): KeyRecord {
  const lastUsed = row['last_used'];
  return {
    keyId: str(row, 'key_id'),
    gun: str(row, 'gun'),
    role: str(row, 'role'),
    algorithm: str(row, 'algorithm'),
    publicKey: blob(row, 'public'),
    privateSealed: str(row, 'private'),
    passphraseAlias: str(row, 'passphrase_alias'),
    createdAt: new Date(num(row, 'created_at')),
    lastUsed: typeof lastUsed === 'number' ? new Date(lastUsed) : null,
  };
}

const KEY_COLUMNS = 'key_id, gun, role, algorithm, public, private, passphrase_alias, created_at, last_used';

/**
 * KeyRecordStore on one SQLite file (table `private_keys`, notary-signer's columns). Holds only
 * what it is given: `privateSealed` must already be ciphertext (src/keystore seals it).
 */
export class SqliteKeyRecordStore extends SqliteStore implements KeyRecordStore {
  readonly #insert: StatementSync;
  readonly #get: StatementSync;
  readonly #list: StatementSync;
  readonly #markUsed: StatementSync;
  readonly #delete: StatementSync;

  /** @throws StorageError when the file cannot be opened or migrated */
  constructor(path: string, options: SqliteOptions = {}) {
    super(path, options);
    const db = this.db;
    this.#insert = db.prepare(
      `INSERT INTO private_keys (key_id, gun, role, algorithm, public, private, passphrase_alias, created_at,
        last_used, updated_at, encryption_alg, keywrap_alg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#get = db.prepare(`SELECT ${KEY_COLUMNS} FROM private_keys WHERE key_id = ?`);
    this.#list = db.prepare(
      `SELECT ${KEY_COLUMNS} FROM private_keys WHERE gun = ? AND role = ? ORDER BY created_at ASC, id ASC`,
    );
    this.#markUsed = db.prepare('UPDATE private_keys SET last_used = ?, updated_at = ? WHERE key_id = ?');
    this.#delete = db.prepare('DELETE FROM private_keys WHERE key_id = ?');
  }

  async addKey(rec: KeyRecord): Promise<void> {
    const { alg, enc } = jweAlgs(rec.privateSealed);
    this.run('addKey', () => {
      try {
        this.#insert.run(
          rec.keyId, rec.gun, rec.role, rec.algorithm, rec.publicKey, rec.privateSealed, rec.passphraseAlias,
          rec.createdAt.getTime(), rec.lastUsed === null ? null : rec.lastUsed.getTime(), Date.now(), enc, alg,
        );
      } catch (err) {
        if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) {
          throw new StorageError(`key ${rec.keyId} already exists`, { cause: err });
        }
        throw err;
      }
    });
  }

  async getKey(keyId: string): Promise<KeyRecord | null> {
    return this.run('getKey', () => {
      const row = this.#get.get(keyId);
      return row === undefined ? null : toRecord(row);
    });
  }

  async listKeys(gun: string, role: string): Promise<KeyRecord[]> {
    return this.run('listKeys', () => this.#list.all(gun, role).map(toRecord));
  }

  async markUsed(keyId: string, when: Date): Promise<void> {
    this.run('markUsed', () => this.#markUsed.run(when.getTime(), Date.now(), keyId));
  }

  async deleteKey(keyId: string): Promise<void> {
    this.run('deleteKey', () => this.#delete.run(keyId));
  }
}
