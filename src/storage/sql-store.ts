/**
 * The storage contracts (types.ts) over a networked SQL server, written once for PostgreSQL and
 * MySQL/MariaDB. Each dialect supplies a `SqlDriver` (postgres-db.ts, mysql-db.ts): how to run a
 * statement, how to hold a lock for the length of a transaction, and which errors are unique
 * violations. Everything else — the version rule, the changefeed, the row layout — lives here,
 * so the two backends cannot drift apart. Not part of the public surface.
 *
 * The tables are notary's own (server/storage/sql_models.go, signer/keydbstore), so vouch can run
 * on a database that notary-server created and the other way round:
 * - `tuf_files (id, created_at, updated_at, deleted_at, gun, role, version, sha256, data)`,
 *   unique (gun, role, version);
 * - `changefeed (id, created_at, gun, version, sha256, category)`;
 * - `private_keys` with notary-signer's columns (`private` holds the compact JWE as bytes).
 * Times are UTC; statements are written with `?` placeholders, which drivers translate.
 *
 * Concurrency (several processes on one database, spec §6.2 step 6): `updateMany` and `delete`
 * run in one transaction holding a per-GUN lock that every vouch instance takes, so the
 * "version ≥ new" probe and the inserts are never interleaved with another writer of the GUN;
 * the unique (gun, role, version) key still refuses a duplicate written by anything that does not
 * take the lock (a notary-server on the same tables). Change records are inserted under one
 * database-wide lock held to commit, so change ids increase in commit order and a reader paging
 * forward never misses a record that commits later with a smaller id.
 */
import { createHash } from 'node:crypto';
import { StateError, StorageError, VersionConflictError, VouchError } from '../errors/index.ts';
import { changePage, checkBatch, sha256Hex } from './internal.ts';
import type { Change, KeyRecord, KeyRecordStore, MetaStore, MetaUpdate, StoredMeta } from './types.ts';

/** A parameter value: drivers bind these natively (bytes as bytea/BLOB). */
export type SqlValue = string | number | Uint8Array | null;
export type SqlRow = Record<string, unknown>;

export interface SqlResult {
  readonly rows: SqlRow[];
  /** Rows changed by INSERT/UPDATE/DELETE; 0 for reads. */
  readonly affected: number;
}

export interface SqlExecutor {
  /** One statement with `?` placeholders. */
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlResult>;
}

export interface SqlTransaction extends SqlExecutor {
  /** Takes the database-wide changefeed lock, held until the transaction ends. */
  lockChangefeed(): Promise<void>;
}

export interface SqlDriver extends SqlExecutor {
  /** Names the server in messages, e.g. `postgres vouch@127.0.0.1:5432/notary` (no password). */
  readonly label: string;
  /**
   * Runs `fn` in one READ COMMITTED transaction that holds the write lock of `gun` — shared by
   * every connection and process using this database — from before its first statement until
   * after its commit or rollback. A throw from `fn` rolls back and is rethrown.
   */
  inGunTransaction<T>(gun: string, fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /** A duplicate key (unique constraint) violation. */
  isUniqueViolation(err: unknown): boolean;
  close(): Promise<void>;
}

/** Turns a driver failure into a StorageError naming the server; vouch's own errors pass through. */
export function sqlFailure(label: string, what: string, err: unknown): VouchError {
  if (err instanceof VouchError) return err;
  let detail = err instanceof Error ? err.message : String(err);
  if (detail === '' && err instanceof AggregateError) detail = err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ');
  const code = typeof err === 'object' && err !== null && 'code' in err ? ` (${String(err.code)})` : '';
  return new StorageError(`${label}: ${what}: ${detail}${code}`, { cause: err });
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC, the form both servers take for timestamp/datetime columns. */
export function sqlTime(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new TypeError('invalid date');
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/;

/** Reads a time column: a Date, or a text timestamp that is UTC unless it carries an offset. */
export function toDate(v: unknown, col: string): Date {
  if (v instanceof Date) return new Date(v.getTime());
  if (typeof v === 'string') {
    const m = TIME_RE.exec(v.trim());
    if (m !== null) {
      const frac = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
      let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(frac));
      if (m[9] !== undefined) {
        const off = (Number(m[10]) * 3600 + Number(m[11] ?? 0) * 60 + Number(m[12] ?? 0)) * 1000;
        ms -= m[9] === '+' ? off : -off;
      }
      return new Date(ms);
    }
  }
  throw new StorageError(`column ${col}: not a timestamp: ${String(v)}`);
}

export function toNumber(v: unknown, col: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'bigint' || typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new StorageError(`column ${col}: not an integer: ${String(v)}`);
  return n;
}

/** Text columns may come back as strings or (binary columns) as bytes. */
export function toText(v: unknown, col: string): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  throw new StorageError(`column ${col}: not text`);
}

/** A plain, unshared Uint8Array copy (drivers hand out Buffers). */
export function toBytes(v: unknown, col: string): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  throw new StorageError(`column ${col}: not bytes`);
}

function bytesParam(data: Uint8Array): Buffer {
  // Exactly the view's bytes, even when it is a window into a larger buffer.
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function meta(row: SqlRow | undefined): StoredMeta | null {
  if (row === undefined) return null;
  return { data: toBytes(row['data'], 'data'), createdAt: toDate(row['created_at'], 'created_at') };
}

export interface SqlStoreOptions {
  /** Clock for `createdAt`; defaults to the system clock. */
  readonly now?: () => Date;
}

/** Owns the driver: refuses use after close and names the server in every error. */
class SqlStore {
  protected readonly driver: SqlDriver;
  protected readonly now: () => Date;
  #closed = false;

  protected constructor(driver: SqlDriver, options: SqlStoreOptions) {
    this.driver = driver;
    this.now = options.now ?? (() => new Date());
  }

  protected async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StateError(`${this.driver.label}: store is closed`);
    try {
      return await fn();
    } catch (err) {
      throw sqlFailure(this.driver.label, what, err);
    }
  }

  protected query(what: string, sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.run(what, async () => (await this.driver.query(sql, params)).rows);
  }

  /** Closes the pool; later calls throw StateError. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.driver.close();
  }
}

const META_COLUMNS = 'data, created_at';

/** MetaStore on a SQL server. Safe for concurrent use, and for several processes on one database. */
export class SqlMetaStore extends SqlStore implements MetaStore {
  async updateMany(gun: string, updates: readonly MetaUpdate[]): Promise<void> {
    checkBatch(gun, updates);
    if (updates.length === 0) return;
    const roles = [...new Set(updates.map((u) => u.role))];
    await this.run('updateMany', () =>
      this.driver.inGunTransaction(gun, async (tx) => {
        // Spec §6.2 step 6: every version must exceed what was stored before this call. The GUN
        // lock makes this read and the inserts below one step for every other vouch writer.
        const top = await tx.query(
          `SELECT role, MAX(version) AS v FROM tuf_files WHERE gun = ? AND role IN (${roles.map(() => '?').join(', ')}) GROUP BY role`,
          [gun, ...roles],
        );
        const stored = new Map(top.rows.map((r) => [toText(r['role'], 'role'), toNumber(r['v'], 'version')]));
        for (const u of updates) {
          const v = stored.get(u.role);
          if (v !== undefined && v >= u.version) {
            throw new VersionConflictError(`${gun} ${u.role}: version ${u.version} is not above stored version ${v}`);
          }
        }
        const at = sqlTime(this.now());
        const changes: [number, string][] = [];
        for (const u of updates) {
          const sum = sha256Hex(u.data);
          try {
            await tx.query(
              'INSERT INTO tuf_files (created_at, updated_at, gun, role, version, sha256, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
              [at, at, gun, u.role, u.version, sum, bytesParam(u.data)],
            );
          } catch (err) {
            // Only a writer that skips the GUN lock (notary-server on the same tables) gets here.
            if (this.driver.isUniqueViolation(err)) {
              throw new VersionConflictError(`${gun} ${u.role}: version ${u.version} is already stored`, { cause: err });
            }
            throw err;
          }
          if (u.role === 'timestamp') changes.push([u.version, sum]);
        }
        if (changes.length > 0) {
          await tx.lockChangefeed();
          for (const [version, sum] of changes) {
            await tx.query('INSERT INTO changefeed (created_at, gun, version, sha256, category) VALUES (?, ?, ?, ?, ?)', [at, gun, version, sum, 'update']);
          }
        }
      }),
    );
  }

  async getCurrent(gun: string, role: string): Promise<StoredMeta | null> {
    const rows = await this.query('getCurrent', `SELECT ${META_COLUMNS} FROM tuf_files WHERE gun = ? AND role = ? ORDER BY version DESC LIMIT 1`, [gun, role]);
    return meta(rows[0]);
  }

  async getChecksum(gun: string, role: string, sha256Hex: string): Promise<StoredMeta | null> {
    const rows = await this.query(
      'getChecksum',
      `SELECT ${META_COLUMNS} FROM tuf_files WHERE gun = ? AND role = ? AND sha256 = ? ORDER BY version DESC LIMIT 1`,
      [gun, role, sha256Hex],
    );
    return meta(rows[0]);
  }

  async getVersion(gun: string, role: string, version: number): Promise<StoredMeta | null> {
    if (!Number.isSafeInteger(version)) return null;
    const rows = await this.query('getVersion', `SELECT ${META_COLUMNS} FROM tuf_files WHERE gun = ? AND role = ? AND version = ?`, [gun, role, version]);
    return meta(rows[0]);
  }

  async delete(gun: string): Promise<void> {
    await this.run('delete', () =>
      this.driver.inGunTransaction(gun, async (tx) => {
        const res = await tx.query('DELETE FROM tuf_files WHERE gun = ?', [gun]);
        // As notary's SQLStorage.Delete: no change record when nothing was removed.
        if (res.affected === 0) return;
        await tx.lockChangefeed();
        await tx.query('INSERT INTO changefeed (created_at, gun, version, sha256, category) VALUES (?, ?, ?, ?, ?)', [
          sqlTime(this.now()), gun, 0, '', 'deletion',
        ]);
      }),
    );
  }

  async getChanges(changeId: number, records: number, gun?: string): Promise<Change[]> {
    const page = changePage(changeId, records);
    if (page.limit === 0) return [];
    const where: string[] = [];
    const args: SqlValue[] = [];
    if (gun !== undefined && gun !== '') {
      where.push('gun = ?');
      args.push(gun);
    }
    if (page.bound !== null) {
      where.push(page.backward ? 'id < ?' : 'id > ?');
      args.push(page.bound);
    }
    args.push(page.limit);
    const rows = await this.query(
      'getChanges',
      'SELECT id, created_at, gun, version, sha256, category FROM changefeed' +
        (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
        ` ORDER BY id ${page.backward ? 'DESC' : 'ASC'} LIMIT ?`,
      args,
    );
    const changes = rows.map(toChange);
    return page.backward ? changes.reverse() : changes;
  }

  async check(): Promise<void> {
    await this.query('check', 'SELECT id FROM tuf_files LIMIT 1');
    await this.query('check', 'SELECT id FROM changefeed LIMIT 1');
  }
}

function toChange(row: SqlRow): Change {
  const category = toText(row['category'], 'category');
  if (category !== 'update' && category !== 'deletion') throw new StorageError(`bad change category ${category}`);
  const sum = row['sha256'];
  return {
    id: String(toNumber(row['id'], 'id')),
    createdAt: toDate(row['created_at'], 'created_at'),
    gun: toText(row['gun'], 'gun'),
    version: toNumber(row['version'], 'version'),
    // notary's tables declare sha256 CHAR(64): an empty value reads back blank-padded.
    sha256: sum === null ? '' : toText(sum, 'sha256').trimEnd(),
    category,
  };
}

/** The `alg` and `enc` of a compact JWE's protected header, for notary-signer's descriptive columns. */
function jweHeader(jwe: string): { alg: string; enc: string } {
  const field = (h: Record<string, unknown>, k: string): string => (typeof h[k] === 'string' ? h[k] : '');
  try {
    const parsed: unknown = JSON.parse(Buffer.from(jwe.slice(0, jwe.indexOf('.')), 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) {
      const h = parsed as Record<string, unknown>;
      return { alg: field(h, 'alg'), enc: field(h, 'enc') };
    }
  } catch {
    // Not a readable JWE: the columns are informational only.
  }
  return { alg: '', enc: '' };
}

const KEY_COLUMNS = 'key_id, gun, role, algorithm, public, private, passphrase_alias, created_at, last_used';

function toRecord(row: SqlRow): KeyRecord {
  const lastUsed = row['last_used'];
  return {
    keyId: toText(row['key_id'], 'key_id'),
    gun: toText(row['gun'], 'gun'),
    role: toText(row['role'], 'role'),
    algorithm: toText(row['algorithm'], 'algorithm'),
    publicKey: toBytes(row['public'], 'public'),
    privateSealed: toText(row['private'], 'private'),
    passphraseAlias: toText(row['passphrase_alias'], 'passphrase_alias'),
    createdAt: toDate(row['created_at'], 'created_at'),
    lastUsed: lastUsed === null || lastUsed === undefined ? null : toDate(lastUsed, 'last_used'),
  };
}

/**
 * KeyRecordStore on a SQL server (notary-signer's `private_keys` table). Holds only what it is
 * given: `privateSealed` must already be ciphertext. Rows notary-signer soft-deleted
 * (`deleted_at` set) are invisible; vouch deletes rows outright so a key id can come back.
 */
export class SqlKeyRecordStore extends SqlStore implements KeyRecordStore {
  async addKey(rec: KeyRecord): Promise<void> {
    const { alg, enc } = jweHeader(rec.privateSealed);
    const at = sqlTime(this.now());
    await this.run('addKey', async () => {
      try {
        await this.driver.query(
          `INSERT INTO private_keys (created_at, updated_at, key_id, encryption_alg, keywrap_alg, algorithm, passphrase_alias,
            gun, role, public, private, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            sqlTime(rec.createdAt), at, rec.keyId, enc, alg, rec.algorithm, rec.passphraseAlias, rec.gun, rec.role,
            bytesParam(rec.publicKey), Buffer.from(rec.privateSealed, 'utf8'), rec.lastUsed === null ? null : sqlTime(rec.lastUsed),
          ],
        );
      } catch (err) {
        if (this.driver.isUniqueViolation(err)) throw new StorageError(`key ${rec.keyId} already exists`, { cause: err });
        throw err;
      }
    });
  }

  async getKey(keyId: string): Promise<KeyRecord | null> {
    const rows = await this.query('getKey', `SELECT ${KEY_COLUMNS} FROM private_keys WHERE key_id = ? AND deleted_at IS NULL`, [keyId]);
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  async listKeys(gun: string, role: string): Promise<KeyRecord[]> {
    const rows = await this.query(
      'listKeys',
      `SELECT ${KEY_COLUMNS} FROM private_keys WHERE gun = ? AND role = ? AND deleted_at IS NULL ORDER BY created_at ASC, id ASC`,
      [gun, role],
    );
    return rows.map(toRecord);
  }

  async markUsed(keyId: string, when: Date): Promise<void> {
    await this.query('markUsed', 'UPDATE private_keys SET last_used = ?, updated_at = ? WHERE key_id = ? AND deleted_at IS NULL', [
      sqlTime(when), sqlTime(this.now()), keyId,
    ]);
  }

  async deleteKey(keyId: string): Promise<void> {
    await this.query('deleteKey', 'DELETE FROM private_keys WHERE key_id = ?', [keyId]);
  }
}

/** A 32-bit lock number for `name`, from its sha256 (collisions only serialise more). */
export function lockNumber(name: string): number {
  return createHash('sha256').update(name).digest().readInt32BE(0);
}
