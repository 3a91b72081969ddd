/**
 * The SQLite `PolicySettingsStore` of `vouch serve` (`node:sqlite`): per-namespace
 * content-trust settings in the data dir's one database, next to the trust server's and the
 * token service's tables. Its tables carry a `policy_` prefix and its schema version lives in
 * `policy_schema_migrations`, so it shares the file without knowing the others' migrations (as
 * src/token's store does). Same semantics as the memory store (src/policy/memory-store.ts).
 *
 * WAL with `synchronous=FULL`; each write is one statement (atomic on its own).
 *
 * Example:
 *   const store = new SqlitePolicyStore('/var/lib/vouch/vouch.db');
 *   await store.set(parseNamespacePolicy('team', { enforce: true }));
 *   store.close();
 */
import type { DatabaseSync, SQLOutputValue } from 'node:sqlite';
import { openMigratedSqlite, type SqliteMigration } from '../storage/index.ts';
import { StateError, StorageError, VouchError } from '../errors/index.ts';
import { checkNamespace, type NamespacePolicy, type PolicySettingsStore } from '../policy/index.ts';

/** Oldest first; append only. `required_signers` is a JSON array of names. Times in ms. */
export const POLICY_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'per-namespace content-trust settings',
    sql: `
      CREATE TABLE policy_namespaces (
        namespace TEXT PRIMARY KEY,
        enforce INTEGER NOT NULL CHECK (enforce IN (0, 1)),
        pinned_root_key TEXT,
        required_signers TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
];

type Row = Record<string, SQLOutputValue>;

function failure(what: string, err: unknown): VouchError {
  if (err instanceof VouchError) return err;
  return new StorageError(`sqlite: ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function toPolicy(row: Row): NamespacePolicy {
  const signers: unknown = JSON.parse(String(row['required_signers']));
  if (!Array.isArray(signers) || !signers.every((s) => typeof s === 'string')) throw new StorageError('sqlite: policy_namespaces.required_signers is not a list of names');
  const pin = row['pinned_root_key'];
  return Object.freeze({
    namespace: String(row['namespace']),
    enforce: row['enforce'] === 1,
    pinnedRootKey: typeof pin === 'string' ? pin : null,
    requiredSigners: Object.freeze(signers as string[]),
  });
}

export class SqlitePolicyStore implements PolicySettingsStore {
  readonly #db: DatabaseSync;
  #closed = false;

  /** @throws StorageError when the file cannot be opened or its policy schema is newer than this program's */
  constructor(path: string, opts: { busyTimeoutMs?: number } = {}) {
    // WAL, synchronous=FULL, a new file 0600; its own tables migrated
    this.#db = openMigratedSqlite(path, opts.busyTimeoutMs, POLICY_MIGRATIONS, { table: 'policy_schema_migrations', schema: 'policy schema' });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #run<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new StateError('policy store is closed');
    try {
      return fn();
    } catch (err) {
      throw failure(what, err);
    }
  }

  async get(namespace: string): Promise<NamespacePolicy | null> {
    return this.#run('get policy', () => {
      const row = this.#db.prepare('SELECT * FROM policy_namespaces WHERE namespace = ?').get(namespace);
      return row === undefined ? null : toPolicy(row);
    });
  }

  async set(policy: NamespacePolicy): Promise<void> {
    checkNamespace(policy.namespace);
    this.#run('set policy', () => {
      this.#db
        .prepare(
          `INSERT INTO policy_namespaces (namespace, enforce, pinned_root_key, required_signers, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (namespace) DO UPDATE SET enforce = excluded.enforce, pinned_root_key = excluded.pinned_root_key,
             required_signers = excluded.required_signers, updated_at = excluded.updated_at`,
        )
        .run(policy.namespace, policy.enforce ? 1 : 0, policy.pinnedRootKey, JSON.stringify(policy.requiredSigners), Date.now());
    });
  }

  async remove(namespace: string): Promise<void> {
    this.#run('remove policy', () => {
      this.#db.prepare('DELETE FROM policy_namespaces WHERE namespace = ?').run(namespace);
    });
  }

  async list(): Promise<NamespacePolicy[]> {
    return this.#run('list policies', () => this.#db.prepare('SELECT * FROM policy_namespaces ORDER BY namespace').all().map(toPolicy));
  }
}
