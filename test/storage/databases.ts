/**
 * Fresh databases on the machine's PostgreSQL and MariaDB/MySQL servers for backend tests: each
 * call creates `vouch_test_<random>` and returns its `db_url` (in notary's forms) and a `drop()`.
 * An unreachable server is an error that names it and says how to start it — never a skip.
 *
 * Servers (override with the environment):
 * - VOUCH_TEST_POSTGRES_URL, default `postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable`
 * - VOUCH_TEST_MYSQL_DSN, default `root:@tcp(127.0.0.1:3306)/test?parseTime=True`
 * The database named there is only used to connect; tests work in their own database.
 *
 * @example
 *   const db = await freshPostgres();
 *   try { const store = await PostgresMetaStore.open(db.url); … } finally { await db.drop(); }
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { parseMysqlDsn } from '../../src/storage/mysql-dsn.ts';
import { parsePostgresUrl } from '../../src/storage/postgres-url.ts';

export const POSTGRES_ADMIN_URL = process.env['VOUCH_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable';
export const MYSQL_ADMIN_DSN = process.env['VOUCH_TEST_MYSQL_DSN'] ?? 'root:@tcp(127.0.0.1:3306)/test?parseTime=True';

export interface FreshDatabase {
  readonly name: string;
  /** `db_url` of the new database, in the backend's notary form. */
  readonly url: string;
  /** Runs one statement as the administrator inside the new database; returns its rows. */
  admin(sql: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

function unreachable(server: string, how: string, err: unknown): Error {
  const detail = err instanceof AggregateError ? err.errors.map((e: unknown) => String(e)).join('; ') : String(err);
  return new Error(
    `${server} is not reachable (${detail}). These tests need it: run scripts/ensure-peers.sh (or .ci/run) to start it, or set ${how}.`,
    { cause: err },
  );
}

/**
 * Retries `connect` for up to `waitMs` while the server refuses connections (scripts/ensure-peers.sh
 * starts MariaDB in the background, so it may still be coming up), then throws the last error.
 */
async function patiently<T>(connect: () => Promise<T>, waitMs = 20_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await connect();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function freshName(): string {
  return `vouch_test_${randomBytes(6).toString('hex')}`;
}

/** A new PostgreSQL database; its url is `postgres://…/vouch_test_…?sslmode=disable`. */
export async function freshPostgres(): Promise<FreshDatabase> {
  const t = parsePostgresUrl(POSTGRES_ADMIN_URL);
  const server = `PostgreSQL at ${t.host}:${t.port} (user ${t.user ?? '(default)'})`;
  const connect = async (database: string | undefined): Promise<pg.Client> => {
    const c = new pg.Client({ host: t.host, port: t.port, user: t.user, password: t.password, database, ssl: false, connectionTimeoutMillis: 10_000 });
    try {
      await c.connect();
    } catch (err) {
      throw unreachable(server, 'VOUCH_TEST_POSTGRES_URL', err);
    }
    return c;
  };
  const name = freshName();
  const root = await patiently(() => connect(t.database));
  try {
    await root.query(`CREATE DATABASE ${name}`);
  } finally {
    await root.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async admin(sql) {
      const c = await connect(name);
      try {
        return (await c.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = await connect(t.database);
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A new MySQL/MariaDB database; its url is `user:pass@tcp(host:port)/vouch_test_…?parseTime=True`. */
export async function freshMysql(): Promise<FreshDatabase> {
  const t = parseMysqlDsn(MYSQL_ADMIN_DSN);
  const server = `MariaDB/MySQL at ${t.host}:${t.port} (user ${t.user})`;
  const connect = async (database: string): Promise<mysql.Connection> => {
    try {
      return await mysql.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, database, connectTimeout: 10_000 });
    } catch (err) {
      throw unreachable(server, 'VOUCH_TEST_MYSQL_DSN', err);
    }
  };
  const name = freshName();
  const root = await patiently(() => connect(t.database));
  try {
    await root.query(`CREATE DATABASE ${name}`);
  } finally {
    await root.end();
  }
  const at = MYSQL_ADMIN_DSN.lastIndexOf('/');
  const q = MYSQL_ADMIN_DSN.indexOf('?', at);
  const url = `${MYSQL_ADMIN_DSN.slice(0, at + 1)}${name}${q < 0 ? '' : MYSQL_ADMIN_DSN.slice(q)}`;
  return {
    name,
    url,
    async admin(sql) {
      const c = await connect(name);
      try {
        const [rows] = await c.query(sql);
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = await connect(t.database);
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await c.end();
      }
    },
  };
}
