/**
 * The reference `TokenStore`: everything in maps, lost on exit. Used by tests and by a server
 * run without a database. Semantics are the ones store-conformance.ts checks; the SQLite
 * backend follows them.
 *
 * Concurrency: every mutation happens in one synchronous step after any hashing, so
 * concurrent calls never see half an update.
 *
 * Example:
 *   const store = new MemoryTokenStore();
 *   await store.addUser('admin', 'pw', { admin: true });
 */
import { NotFoundError, StateError } from '../errors/index.ts';
import { checkNamespace, checkUserName } from './names.ts';
import { DEFAULT_SCRYPT_LOG_N, hashPassword, passwordMatches, verifyAgainstNothing } from './password.ts';
import { InvalidCredentialsError } from './errors.ts';
import type { AddUserOptions, NamespaceSettings, RefreshTokenRecord, TokenStore, User } from './store.ts';

export interface TokenStoreOptions {
  /** scrypt cost as log2(N) for new hashes (default 15; tests use 10). */
  readonly scryptLogN?: number;
  /** Clock for `created`; default the system clock. */
  readonly now?: () => Date;
}

interface UserRow {
  user: User;
  hash: string;
  grants: Set<string>;
}

export class MemoryTokenStore implements TokenStore {
  readonly #users = new Map<string, UserRow>();
  readonly #refresh = new Map<string, RefreshTokenRecord>();
  readonly #namespaces = new Map<string, boolean>();
  readonly #logN: number;
  readonly #now: () => Date;

  constructor(opts: TokenStoreOptions = {}) {
    this.#logN = opts.scryptLogN ?? DEFAULT_SCRYPT_LOG_N;
    this.#now = opts.now ?? (() => new Date());
  }

  #row(name: string): UserRow {
    const row = this.#users.get(name);
    if (row === undefined) throw new NotFoundError(`no such user ${JSON.stringify(name)}`);
    return row;
  }

  async addUser(name: string, password: string, opts: AddUserOptions = {}): Promise<User> {
    checkUserName(name);
    if (this.#users.has(name)) throw new StateError(`user ${JSON.stringify(name)} already exists`);
    const hash = await hashPassword(password, this.#logN);
    if (this.#users.has(name)) throw new StateError(`user ${JSON.stringify(name)} already exists`);
    const user: User = { name, admin: opts.admin === true, created: this.#now() };
    this.#users.set(name, { user, hash, grants: new Set() });
    return user;
  }

  async setPassword(name: string, password: string): Promise<void> {
    this.#row(name);
    const hash = await hashPassword(password, this.#logN);
    this.#row(name).hash = hash;
    this.#dropRefresh(name);
  }

  async setAdmin(name: string, admin: boolean): Promise<void> {
    const row = this.#row(name);
    row.user = { ...row.user, admin };
  }

  async removeUser(name: string): Promise<void> {
    this.#row(name);
    this.#users.delete(name);
    this.#dropRefresh(name);
  }

  async getUser(name: string): Promise<User | null> {
    return this.#users.get(name)?.user ?? null;
  }

  async listUsers(): Promise<User[]> {
    return [...this.#users.values()].map((r) => r.user).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async verify(name: string, password: string): Promise<User> {
    const row = this.#users.get(name);
    if (row === undefined) {
      await verifyAgainstNothing(password, this.#logN);
      throw new InvalidCredentialsError();
    }
    const hash = row.hash;
    if (!(await passwordMatches(hash, password))) throw new InvalidCredentialsError();
    // The user may have been removed, or the password changed, while the hash was computed.
    const now = this.#users.get(name);
    if (now === undefined || now.hash !== hash) throw new InvalidCredentialsError();
    return now.user;
  }

  async grant(user: string, namespace: string): Promise<void> {
    checkNamespace(namespace);
    this.#row(user).grants.add(namespace);
  }

  async revoke(user: string, namespace: string): Promise<void> {
    this.#users.get(user)?.grants.delete(namespace);
  }

  async grantsOf(user: string): Promise<string[]> {
    return [...(this.#users.get(user)?.grants ?? [])].sort();
  }

  async addRefreshToken(record: RefreshTokenRecord): Promise<void> {
    this.#row(record.user);
    this.#refresh.set(record.id, record);
  }

  async findRefreshToken(id: string, now: Date): Promise<RefreshTokenRecord | null> {
    const r = this.#refresh.get(id);
    if (r === undefined || r.expires.getTime() <= now.getTime()) return null;
    return r;
  }

  async revokeRefreshTokens(user: string): Promise<number> {
    return this.#dropRefresh(user);
  }

  #dropRefresh(user: string): number {
    let n = 0;
    for (const [id, r] of this.#refresh) {
      if (r.user === user) {
        this.#refresh.delete(id);
        n++;
      }
    }
    return n;
  }

  async setAnonymousPull(namespace: string, anonymousPull: boolean): Promise<void> {
    checkNamespace(namespace);
    this.#namespaces.set(namespace, anonymousPull);
  }

  async getNamespace(namespace: string): Promise<NamespaceSettings | null> {
    const v = this.#namespaces.get(namespace);
    return v === undefined ? null : { namespace, anonymousPull: v };
  }

  async listNamespaces(): Promise<NamespaceSettings[]> {
    return [...this.#namespaces.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([namespace, anonymousPull]) => ({ namespace, anonymousPull }));
  }

  async removeNamespace(namespace: string): Promise<void> {
    this.#namespaces.delete(namespace);
  }
}
