/**
 * What the token service persists, as two small interfaces: `UserStore` (users with password
 * hashes, the namespaces granted to them, and their refresh tokens) and `NamespaceStore`
 * (per-namespace settings: anonymous pull). `TokenStore` is both; the memory and SQLite
 * backends implement it and pass `store-conformance.ts`.
 *
 * Contracts every backend keeps:
 * - user names and namespaces are validated (names.ts) before anything is stored;
 * - passwords are stored only as scrypt hashes (password.ts); `verify` throws the same
 *   `InvalidCredentialsError` for an unknown user and a wrong password, after the same work;
 * - `setPassword` and `removeUser` revoke the user's refresh tokens; `removeUser` also drops
 *   the user's grants;
 * - refresh tokens are stored by the SHA-256 of the token, never the token itself;
 * - every method is safe to call concurrently (each write is one transaction or one
 *   synchronous step).
 *
 * Example:
 *   await store.addUser('alice', 's3cret');
 *   await store.grant('alice', 'alice');
 *   await store.setAnonymousPull('library', true);
 *   const user = await store.verify('alice', 's3cret');
 */

export interface User {
  readonly name: string;
  /** Admins get every action on every repository and the catalog (policy.ts). */
  readonly admin: boolean;
  readonly created: Date;
}

export interface AddUserOptions {
  readonly admin?: boolean;
}

/** A stored refresh token (an OAuth2 "offline" token, docker's identity token). */
export interface RefreshTokenRecord {
  /** Lowercase hex SHA-256 of the token string. */
  readonly id: string;
  readonly user: string;
  /** The `client_id` it was issued to (informational; docker sends `docker`). */
  readonly clientId: string;
  readonly created: Date;
  readonly expires: Date;
}

export interface NamespaceSettings {
  readonly namespace: string;
  readonly anonymousPull: boolean;
}

export interface UserStore {
  /**
   * @throws RangeError for an invalid name or password
   * @throws StateError when the user exists
   */
  addUser(name: string, password: string, opts?: AddUserOptions): Promise<User>;
  /**
   * Replace the password and revoke the user's refresh tokens.
   * @throws NotFoundError for an unknown user; RangeError for an invalid password
   */
  setPassword(name: string, password: string): Promise<void>;
  /** @throws NotFoundError for an unknown user */
  setAdmin(name: string, admin: boolean): Promise<void>;
  /** Remove the user, their grants and refresh tokens. @throws NotFoundError for an unknown user */
  removeUser(name: string): Promise<void>;
  getUser(name: string): Promise<User | null>;
  /** All users, by name. */
  listUsers(): Promise<User[]>;
  /**
   * The user whose password this is.
   * @throws InvalidCredentialsError for an unknown user or a wrong password (indistinguishable)
   */
  verify(name: string, password: string): Promise<User>;

  /** Give `user` pull, push and delete below `namespace` (idempotent). @throws NotFoundError, RangeError */
  grant(user: string, namespace: string): Promise<void>;
  /** Take a grant away (no-op when absent). */
  revoke(user: string, namespace: string): Promise<void>;
  /** The namespaces granted to `user`, sorted. */
  grantsOf(user: string): Promise<string[]>;

  /** @throws NotFoundError when the user does not exist */
  addRefreshToken(record: RefreshTokenRecord): Promise<void>;
  /** The record with this id, or null when unknown or expired at `now`. */
  findRefreshToken(id: string, now: Date): Promise<RefreshTokenRecord | null>;
  /** Revoke every refresh token of `user`; returns how many there were. */
  revokeRefreshTokens(user: string): Promise<number>;
}

export interface NamespaceStore {
  /** @throws RangeError for an invalid namespace */
  setAnonymousPull(namespace: string, anonymousPull: boolean): Promise<void>;
  getNamespace(namespace: string): Promise<NamespaceSettings | null>;
  /** All namespaces with settings, sorted by name. */
  listNamespaces(): Promise<NamespaceSettings[]>;
  /** Forget a namespace's settings (no-op when absent). */
  removeNamespace(namespace: string): Promise<void>;
}

export interface TokenStore extends UserStore, NamespaceStore {}
