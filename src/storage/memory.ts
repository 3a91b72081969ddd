/**
 * In-memory backends: the reference implementation of the storage contracts (STYLE.md §1.4).
 *
 * Unlike notary's memory store this one checks the role on checksum lookups, deletes exactly
 * one GUN and pages the changefeed backward without failing (spec §13.6). It keeps nothing
 * across restarts and copies bytes in and out, so callers cannot mutate stored metadata.
 * Safe for concurrent use within one process: every method runs to completion synchronously.
 *
 * @example
 *   const store = new MemoryMetaStore();
 *   await store.updateMany('example.com/app', [{ role: 'root', version: 1, data: bytes }]);
 *   const root = await store.getCurrent('example.com/app', 'root');
 */
import { StateError, StorageError, VersionConflictError } from '../errors/index.ts';
import { changePage, checkBatch, sha256Hex } from './internal.ts';
import type { Change, KeyRecord, KeyRecordStore, MetaStore, MetaUpdate, StoredMeta } from './types.ts';

export interface MemoryStoreOptions {
  /** Clock for `createdAt`; defaults to the system clock. */
  readonly now?: () => Date;
}

interface Row {
  readonly version: number;
  readonly data: Uint8Array;
  readonly sha256: string;
  readonly createdAt: Date;
}

function out(row: Row | undefined): StoredMeta | null {
  if (row === undefined) return null;
  return { data: row.data.slice(), createdAt: new Date(row.createdAt) };
}

export class MemoryMetaStore implements MetaStore {
  readonly #now: () => Date;
  /** gun → role → rows ordered by ascending version. */
  readonly #files = new Map<string, Map<string, Row[]>>();
  readonly #changes: Change[] = [];
  #nextChangeId = 1;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  async updateMany(gun: string, updates: readonly MetaUpdate[]): Promise<void> {
    this.#open();
    checkBatch(gun, updates);
    const roles = this.#files.get(gun);
    for (const u of updates) {
      const rows = roles?.get(u.role);
      const top = rows?.[rows.length - 1];
      if (top !== undefined && top.version >= u.version) {
        throw new VersionConflictError(`${gun} ${u.role}: version ${u.version} is not above stored version ${top.version}`);
      }
    }
    // Every check passed: nothing below can fail, so the batch is all-or-nothing.
    const createdAt = this.#now();
    const target = roles ?? new Map<string, Row[]>();
    if (roles === undefined) this.#files.set(gun, target);
    for (const u of updates) {
      const data = Uint8Array.from(u.data);
      const row: Row = { version: u.version, data, sha256: sha256Hex(data), createdAt };
      const rows = target.get(u.role);
      if (rows === undefined) target.set(u.role, [row]);
      else {
        rows.push(row);
        rows.sort((a, b) => a.version - b.version);
      }
      if (u.role === 'timestamp') {
        this.#appendChange({ gun, version: u.version, sha256: row.sha256, category: 'update', createdAt });
      }
    }
  }

  async getCurrent(gun: string, role: string): Promise<StoredMeta | null> {
    this.#open();
    const rows = this.#files.get(gun)?.get(role);
    return out(rows?.[rows.length - 1]);
  }

  async getChecksum(gun: string, role: string, sha256Hex: string): Promise<StoredMeta | null> {
    this.#open();
    const rows = this.#files.get(gun)?.get(role) ?? [];
    return out(rows.findLast((r) => r.sha256 === sha256Hex));
  }

  async getVersion(gun: string, role: string, version: number): Promise<StoredMeta | null> {
    this.#open();
    const rows = this.#files.get(gun)?.get(role) ?? [];
    return out(rows.find((r) => r.version === version));
  }

  async delete(gun: string): Promise<void> {
    this.#open();
    // As notary's stores do: no change record when there was nothing to delete.
    if (!this.#files.delete(gun)) return;
    this.#appendChange({ gun, version: 0, sha256: '', category: 'deletion', createdAt: this.#now() });
  }

  async getChanges(changeId: number, records: number, gun?: string): Promise<Change[]> {
    this.#open();
    const page = changePage(changeId, records);
    const wanted = (c: Change): boolean => gun === undefined || gun === '' || c.gun === gun;
    let picked: Change[];
    if (page.backward) {
      const bound = page.bound;
      const before = this.#changes.filter((c) => wanted(c) && (bound === null || Number(c.id) < bound));
      picked = page.limit === 0 ? [] : before.slice(-page.limit);
    } else {
      const bound = page.bound ?? 0;
      picked = this.#changes.filter((c) => wanted(c) && Number(c.id) > bound).slice(0, page.limit);
    }
    return picked.map((c) => ({ ...c, createdAt: new Date(c.createdAt) }));
  }

  async check(): Promise<void> {
    this.#open();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #appendChange(c: Omit<Change, 'id'>): void {
    this.#changes.push({ ...c, id: String(this.#nextChangeId++) });
  }

  #open(): void {
    if (this.#closed) throw new StateError('memory meta store is closed');
  }
}

export class MemoryKeyRecordStore implements KeyRecordStore {
  /** keyId → record, in insertion order (which is creation order). */
  readonly #keys = new Map<string, KeyRecord>();
  #closed = false;

  async addKey(rec: KeyRecord): Promise<void> {
    this.#open();
    if (this.#keys.has(rec.keyId)) throw new StorageError(`key ${rec.keyId} already exists`);
    this.#keys.set(rec.keyId, copyRecord(rec));
  }

  async getKey(keyId: string): Promise<KeyRecord | null> {
    this.#open();
    const rec = this.#keys.get(keyId);
    return rec === undefined ? null : copyRecord(rec);
  }

  async listKeys(gun: string, role: string): Promise<KeyRecord[]> {
    this.#open();
    const found = [...this.#keys.values()].filter((r) => r.gun === gun && r.role === role);
    // Stable sort: equal createdAt keeps insertion order.
    return found.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(copyRecord);
  }

  async markUsed(keyId: string, when: Date): Promise<void> {
    this.#open();
    const rec = this.#keys.get(keyId);
    if (rec !== undefined) this.#keys.set(keyId, { ...rec, lastUsed: new Date(when) });
  }

  async deleteKey(keyId: string): Promise<void> {
    this.#open();
    this.#keys.delete(keyId);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new StateError('memory key store is closed');
  }
}

function copyRecord(rec: KeyRecord): KeyRecord {
  return {
    keyId: rec.keyId,
    gun: rec.gun,
    role: rec.role,
    algorithm: rec.algorithm,
    publicKey: Uint8Array.from(rec.publicKey),
    privateSealed: rec.privateSealed,
    passphraseAlias: rec.passphraseAlias,
    createdAt: new Date(rec.createdAt),
    lastUsed: rec.lastUsed === null ? null : new Date(rec.lastUsed),
  };
}
