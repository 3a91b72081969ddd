/**
 * Test double for `TrustService`: an in-memory store of uploaded bytes with no TUF validation,
 * plus hooks to make any method fail. Route tests use it to exercise the HTTP layer alone.
 *
 * Behaviour: publish parses each part just enough to read `signed.version` (a part that is not
 * `{"signed":{"version":<int>}}` raises DeserializationError), refuses versions at or below the
 * stored one (VersionConflictError) and stores the parts; getCurrent/getByVersion/getByChecksum
 * read them back; keys are fresh random ed25519-sized blobs; changes are recorded per publish
 * and delete. Not safe for concurrent use.
 *
 * Example:
 *   const fake = new FakeTrustService({ now: () => new Date(0) });
 *   fake.failWith('publish', new UpdateValidationError('ErrBadRoot', 'nope'));
 */
import { createHash, randomBytes } from 'node:crypto';
import { DeserializationError, VersionConflictError } from '../errors/index.ts';
import type { TufKey } from '../crypto/types.ts';
import type { Change, StoredMeta } from '../storage/types.ts';
import type { TrustService, UploadPart } from './trust-service.ts';

interface Stored extends StoredMeta {
  readonly version: number;
  readonly sha256: string;
}

export type FakeMethod = keyof TrustService;

export class FakeTrustService implements TrustService {
  readonly calls: { method: FakeMethod; args: unknown[] }[] = [];
  readonly #meta = new Map<string, Stored[]>();
  readonly #changes: Change[] = [];
  readonly #failures = new Map<FakeMethod, unknown>();
  readonly #now: () => Date;

  constructor(opts: { now?: () => Date } = {}) {
    this.#now = opts.now ?? (() => new Date());
  }

  /** Make every later call of `method` throw `err` (until cleared with `undefined`). */
  failWith(method: FakeMethod, err: unknown): void {
    if (err === undefined) this.#failures.delete(method);
    else this.#failures.set(method, err);
  }

  #enter(method: FakeMethod, args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.#failures.has(method)) throw this.#failures.get(method);
  }

  /** Store bytes directly (as if published). */
  put(gun: string, role: string, version: number, data: Uint8Array | string, createdAt = this.#now()): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const key = `${gun}\u0000${role}`;
    const list = this.#meta.get(key) ?? [];
    list.push({ data: bytes, createdAt, version, sha256: createHash('sha256').update(bytes).digest('hex') });
    this.#meta.set(key, list);
    if (role === 'timestamp') this.#record(gun, version, list[list.length - 1]!.sha256, 'update');
  }

  #record(gun: string, version: number, sha256: string, category: 'update' | 'deletion'): void {
    this.#changes.push({ id: String(this.#changes.length + 1), createdAt: this.#now(), gun, version, sha256, category });
  }

  async publish(gun: string, parts: readonly UploadPart[]): Promise<void> {
    this.#enter('publish', [gun, parts]);
    const versions = parts.map((p) => {
      let v: unknown;
      try {
        v = (JSON.parse(new TextDecoder().decode(p.data)) as { signed?: { version?: unknown } }).signed?.version;
      } catch (err) {
        throw new DeserializationError(`${p.role}: not JSON`, { cause: err });
      }
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new DeserializationError(`${p.role}: no signed.version`);
      const cur = this.#meta.get(`${gun}\u0000${p.role}`)?.at(-1);
      if (cur !== undefined && v <= cur.version) throw new VersionConflictError(`${p.role} version ${v} is not above ${cur.version}`);
      return v;
    });
    parts.forEach((p, i) => this.put(gun, p.role, versions[i]!, p.data));
  }

  async getCurrent(gun: string, role: string): Promise<StoredMeta | null> {
    this.#enter('getCurrent', [gun, role]);
    return this.#meta.get(`${gun}\u0000${role}`)?.at(-1) ?? null;
  }

  async getByChecksum(gun: string, role: string, sha256Hex: string): Promise<StoredMeta | null> {
    this.#enter('getByChecksum', [gun, role, sha256Hex]);
    return this.#meta.get(`${gun}\u0000${role}`)?.find((m) => m.sha256 === sha256Hex) ?? null;
  }

  async getByVersion(gun: string, role: string, version: number): Promise<StoredMeta | null> {
    this.#enter('getByVersion', [gun, role, version]);
    return this.#meta.get(`${gun}\u0000${role}`)?.find((m) => m.version === version) ?? null;
  }

  async getOrCreateKey(gun: string, role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    this.#enter('getOrCreateKey', [gun, role]);
    return { keytype: 'ed25519', public: randomBytes(32) };
  }

  async rotateKey(gun: string, role: 'snapshot' | 'timestamp'): Promise<TufKey> {
    this.#enter('rotateKey', [gun, role]);
    return { keytype: 'ed25519', public: randomBytes(32) };
  }

  async deleteGun(gun: string): Promise<void> {
    this.#enter('deleteGun', [gun]);
    for (const key of [...this.#meta.keys()]) if (key.startsWith(`${gun}\u0000`)) this.#meta.delete(key);
    this.#record(gun, 0, '', 'deletion');
  }

  async changes(changeId: number, records: number, gun?: string): Promise<Change[]> {
    this.#enter('changes', [changeId, records, gun]);
    const all = this.#changes.filter((c) => gun === undefined || c.gun === gun);
    if (records > 0) return all.filter((c) => Number(c.id) > changeId).slice(0, records);
    const before = changeId < 0 ? all : all.filter((c) => Number(c.id) < changeId);
    return before.slice(Math.max(0, before.length + records));
  }

  async check(): Promise<void> {
    this.#enter('check', []);
  }
}
