/**
 * `vouch serve`: the composition root of the one-port server — registry, trust server, token
 * service and admin API on one TLS port, embedded storage in one data dir (serve-data.ts).
 * This is where the backends are picked:
 *
 * - the database: SQLite (`vouch.db` in the data dir) by default; with `--db`/`VOUCH_DB_URL`,
 *   PostgreSQL or MySQL/MariaDB, which several instances may share (each store migrates its
 *   own tables on open, under the database's migration lock);
 * - trust server: TufTrustService over that database with the local signer, through the same
 *   factory as `vouch server` (trust-service-factory.ts), mounted with `TRUST_API_ROUTES`; its
 *   keys are sealed with VOUCH_SERVER_KEY_PASSPHRASE or the data dir's generated passphrase;
 * - token service: the token store (SQLite, PostgreSQL or MySQL) in the same database, an ES256
 *   issuer whose certificate the data dir's CA issued, `/token` and `/auth/token` (the realm of the challenges is
 *   `https://<Host>/auth/token`, so it follows whatever name the client used);
 * - one `TokenAccessController` verifying those tokens for the registry, the trust API and the
 *   admin API;
 * - the registry over the filesystem (`registry/`), its `TrustPolicy` the content-trust policy
 *   (src/policy) reading the trust service in-process, with settings in the same database and an
 *   audit log;
 * - on first start (a database without users), an admin user `admin` (password from
 *   `VOUCH_ADMIN_PASSWORD`, else generated, printed once and kept in `initial-admin-password`);
 *   of instances starting together on one database, exactly one creates it.
 *
 * Nothing here caches what another instance may change: users, grants, policy settings and the
 * current trust metadata are read from the database on each request when it is shared.
 *
 * Example:
 *   const running = await startServe({ addr: '127.0.0.1:0', dataDir }, { env: {} });
 *   console.log(running.url); await running.close();
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import { parseCertBundle, TokenAccessController } from '../auth/index.ts';
import { KEY_PASSPHRASE_ENV, parseServerConfig, type ServerConfig } from '../config/index.ts';
import { TRUST_API_ROUTES, TRUST_ROUTES } from '../http/index.ts';
import { StateError } from '../errors/index.ts';
import { ContentTrustPolicy, type PolicySettingsStore, type Requester, type TrustMetadataSource } from '../policy/index.ts';
import { createRegistryApp, parseDigest, parseManifest, REGISTRY_SERVER_OPTIONS, type RegistryStore } from '../registry/index.ts';
import { answerClientError, createServerMetrics, createTrustDispatcher, dispatcherOptionsFromConfig, type TrustService } from '../server/index.ts';
import { createAdminHandler, createServeListener, FileAuditSink, registryNames, resolveServeConfig, SqlitePolicyStore, type ServeConfig, type ServeDatabase, type ServeOptions } from '../serve/index.ts';
import { createTokenHandler, SqliteTokenStore, TokenIssuer, TokenService, type TokenStore } from '../token/index.ts';
import { prepareServeDataDir, serveKeyPassphrase, writeSecret, type ServeFiles } from './serve-data.ts';
import { createTrustService } from './trust-service-factory.ts';

/** The token service's `service` (token audience) and issuer names. */
export const SERVE_TOKEN_SERVICE = 'vouch';
export const SERVE_TOKEN_ISSUER = 'vouch';
export const FIRST_ADMIN = 'admin';

export interface ServeDeps {
  /** Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A logger to use instead of pino on stderr. */
  readonly logger?: Logger;
}

export interface RunningServe {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** `host:port` as docker names the registry (the first loopback name). */
  readonly host: string;
  readonly config: ServeConfig;
  readonly files: ServeFiles;
  /** The generated or configured password of the admin created at this start; undefined when users existed. */
  readonly adminPassword: string | undefined;
  /** What to tell a person who just started the server. */
  readonly hints: readonly string[];
  /** Stop accepting, finish in-flight requests, close the stores. Idempotent. */
  close(): Promise<void>;
}

/** The trust service's store as the content-trust policy reads it. */
function trustSource(service: TrustService): TrustMetadataSource {
  return {
    current: async (gun, role) => (await service.getCurrent(gun, role))?.data ?? null,
    byChecksum: async (gun, role, sha) => (await service.getByChecksum(gun, role, sha))?.data ?? null,
  };
}

/** Child manifests of an image index in the registry, remembered by digest (content never changes). */
function manifestChildren(store: RegistryStore): (name: string, digest: string) => Promise<readonly string[]> {
  const known = new Map<string, readonly string[]>();
  return async (name, digest) => {
    const hit = known.get(digest);
    if (hit !== undefined) return hit;
    const d = parseDigest(digest);
    const m = d === null ? null : await store.getManifest(name, d);
    if (m === null) return [];
    let children: readonly string[] = [];
    try {
      children = parseManifest(m.bytes, m.mediaType).manifests.map((d) => d.digest);
    } catch {
      children = [];
    }
    known.set(digest, children);
    if (known.size > 4096) known.delete(known.keys().next().value!);
    return children;
  };
}

async function createLogger(level: ServeConfig['logLevel']): Promise<Logger> {
  const { pino } = await import('pino');
  return pino({ level, base: { service: 'vouch-serve' } }, pino.destination(2));
}

/**
 * @throws ConfigError for bad settings; StorageError for an unusable database; listen errors
 */
export async function startServe(opts: ServeOptions, deps: ServeDeps = {}): Promise<RunningServe> {
  const env = deps.env ?? process.env;
  const cfg = resolveServeConfig(opts, env);
  const files = await prepareServeDataDir(cfg.dataDir, cfg.hostnames);
  const logger = deps.logger ?? (await createLogger(cfg.logLevel));
  // Every instance on one database must seal and unseal its keys with the same passphrase:
  // VOUCH_SERVER_KEY_PASSPHRASE, or the one kept in the (shared) data dir.
  const key = await serveKeyPassphrase(files, env[KEY_PASSPHRASE_ENV]);
  if (key.generated) logger.warn({ file: files.passphraseFile }, `no ${KEY_PASSPHRASE_ENV} set: generated a key passphrase and kept it in the data dir`);
  const db = cfg.database;
  const trustConfig: ServerConfig = parseServerConfig(
    {
      server: { http_addr: `${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}` },
      trust_service: { type: 'local', key_algorithm: 'ecdsa', key_passphrase: key.passphrase },
      storage: db.backend === 'sqlite3' ? { backend: 'sqlite3', db_url: files.dbFile } : { backend: db.backend, db_url: db.url },
      logging: { level: cfg.logLevel },
    },
    // notary-server's NOTARY_SERVER_* overrides are not vouch serve's settings.
    { env: {} },
  );

  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const trust = await createTrustService(trustConfig, logger as unknown as FastifyBaseLogger);
    closers.push(() => trust.close());
    const users = await openTokenStore(db, files);
    closers.push(() => users.close());
    const policies = await openPolicyStore(db, files);
    closers.push(() => policies.close());
    const audit = new FileAuditSink(files.auditFile, { onError: (err) => logger.error({ err }, 'audit log write failed') });
    closers.push(() => audit.close());
    await audit.open();

    const firstAdmin = await ensureAdmin(users, files, env);

    let port = cfg.port;
    const issuer = new TokenIssuer({ issuer: SERVE_TOKEN_ISSUER, material: files.tokenMaterial, ttlSeconds: cfg.tokenTtlSeconds });
    const tokens = new TokenService({ store: users, issuer, services: [SERVE_TOKEN_SERVICE], policy: { registryHosts: registryNames(cfg, cfg.port) } });
    const auth = new TokenAccessController({ realm: '', service: SERVE_TOKEN_SERVICE, issuer: SERVE_TOKEN_ISSUER, autoRedirect: true, roots: parseCertBundle(issuer.rootCertBundle) });
    const identify = async (authorization: string | undefined): Promise<Requester | null> => {
      if (authorization === undefined) return null;
      try {
        return await auth.authorized({ authorization, host: undefined }, []);
      } catch {
        return null;
      }
    };

    const onError = (err: unknown, req?: IncomingMessage): void => logger.error({ err, method: req?.method, url: req?.url }, 'request failed');
    let policy: ContentTrustPolicy | undefined;
    const registry = createRegistryApp({
      storageDir: files.registryDir,
      auth,
      policy: {
        mayServe: (r, from) => policy!.mayServe(r, from),
        mayDelete: (r, from) => policy!.mayDelete(r, from),
      },
      onError,
    });
    policy = new ContentTrustPolicy({
      settings: policies,
      trust: trustSource(trust.service),
      gunsFor: (name) => registryNames(cfg, port).map((h) => `${h}/${name}`),
      identify,
      audit,
      manifestChildren: manifestChildren(registry.store),
    });

    const dispatch = dispatcherOptionsFromConfig(trustConfig, { service: trust.service, auth, metrics: createServerMetrics(), logger });
    const tokenHandlers = ['/token', '/auth/token'].map((path) => createTokenHandler({ service: tokens, path, onError: (err) => onError(err) }));
    const listener = createServeListener({
      token: async (req, res) => {
        for (const h of tokenHandlers) if (await h(req, res)) return true;
        return false;
      },
      admin: createAdminHandler({
        users,
        policies,
        verifyToken: async (h) => (await identify(h))?.subject ?? null,
        onError: (err) => onError(err),
        onChange: (admin, what) => logger.info({ admin }, what),
      }),
      registry: registry.handle,
      trust: createTrustDispatcher({ ...dispatch, routes: TRUST_API_ROUTES }),
      ops: createTrustDispatcher({ ...dispatch, routes: TRUST_ROUTES.filter((r) => r.operation === 'Health' || r.operation === 'Metrics') }),
      onError,
    });

    let closing = false;
    const server: Server = createServer(
      { ...REGISTRY_SERVER_OPTIONS, cert: await readFile(files.certFile), key: await readFile(files.keyFile) },
      (req: IncomingMessage, res: ServerResponse) => {
        if (closing) res.setHeader('connection', 'close');
        listener(req, res);
      },
    );
    server.on('clientError', answerClientError);
    server.keepAliveTimeout = 72_000;
    closers.push(async () => {
      closing = true;
      if (!server.listening) return;
      const done = once(server, 'close');
      server.close();
      server.closeIdleConnections();
      await done;
    });
    const failed = once(server, 'error').then(([err]) => Promise.reject(err as Error));
    server.listen({ host: cfg.host === '' ? '::' : cfg.host, port: cfg.port });
    await Promise.race([once(server, 'listening'), failed]);
    failed.catch(() => {});
    const bound = server.address();
    port = typeof bound === 'object' && bound !== null ? bound.port : cfg.port;

    const host = `127.0.0.1:${port}`;
    const url = `https://${host}`;
    const hints = serveHints(files, host, cfg, firstAdmin);
    let closed: Promise<void> | undefined;
    return { url, port, host, config: cfg, files, adminPassword: firstAdmin?.password, hints, close: () => (closed ??= closeAll()) };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

type Closing<T> = T & { close(): void | Promise<void> };

async function openTokenStore(db: ServeDatabase, files: ServeFiles): Promise<Closing<TokenStore>> {
  if (db.backend === 'sqlite3') return new SqliteTokenStore(files.dbFile);
  const { PostgresTokenStore, MysqlTokenStore } = await import('../token/index.ts');
  return db.backend === 'postgres' ? PostgresTokenStore.open(db.url) : MysqlTokenStore.open(db.url);
}

async function openPolicyStore(db: ServeDatabase, files: ServeFiles): Promise<Closing<PolicySettingsStore>> {
  if (db.backend === 'sqlite3') return new SqlitePolicyStore(files.dbFile);
  const { PostgresPolicyStore, MysqlPolicyStore } = await import('../serve/index.ts');
  return db.backend === 'postgres' ? PostgresPolicyStore.open(db.url) : MysqlPolicyStore.open(db.url);
}

/**
 * On a database without users: create the first admin; returns its password. When another
 * instance on the same database creates it first, this one leaves it be (undefined).
 */
async function ensureAdmin(users: TokenStore, files: ServeFiles, env: Readonly<Record<string, string | undefined>>): Promise<FirstAdmin | undefined> {
  if ((await users.listUsers()).length > 0) return undefined;
  const given = env['VOUCH_ADMIN_PASSWORD'];
  const generated = given === undefined || given === '';
  const password = generated ? randomBytes(18).toString('base64url') : given;
  try {
    await users.addUser(FIRST_ADMIN, password, { admin: true });
  } catch (err) {
    if (err instanceof StateError && (await users.getUser(FIRST_ADMIN)) !== null) return undefined; // another instance won
    throw err;
  }
  if (generated) await writeSecret(files.adminPasswordFile, `${password}\n`);
  return { password, generated };
}

interface FirstAdmin {
  readonly password: string;
  /** Generated here (and kept in the data dir), not taken from VOUCH_ADMIN_PASSWORD. */
  readonly generated: boolean;
}

/** The lines `vouch serve` prints at start. */
export function serveHints(files: ServeFiles, host: string, cfg: ServeConfig, admin: FirstAdmin | undefined): string[] {
  const lines = [
    `data dir: ${files.dataDir}`,
    `database: ${cfg.database.backend === 'sqlite3' ? files.dbFile : cfg.database.label}`,
    `CA certificate clients must trust: ${files.caFile}`,
    `  docker (trust, vouch): mkdir -p ~/.docker/tls/${host} && cp ${files.caFile} ~/.docker/tls/${host}/ca.crt`,
    `  docker engine (a non-loopback host name): cp ${files.caFile} /etc/docker/certs.d/<host:port>/ca.crt`,
    `  skopeo: --dest-cert-dir / --src-cert-dir a directory holding ${files.caFile} as ca.crt`,
  ];
  if (admin !== undefined) {
    const kept = admin.generated ? ` (kept in ${files.adminPasswordFile}; change it with: vouch user passwd ${FIRST_ADMIN} --server ${host})` : ' (from VOUCH_ADMIN_PASSWORD)';
    lines.push(`admin user created: ${FIRST_ADMIN} / ${admin.password}${kept}`);
  }
  lines.push(
    `log in:        docker login ${host} -u ${FIRST_ADMIN}`,
    `content trust: DOCKER_CONTENT_TRUST=1 docker pull ${host}/<namespace>/<image>:<tag> (the trust server is this same address)`,
    `enforce it:    vouch policy set <namespace> --enforce --server ${host}`,
    `users:         vouch user add <name> --grant <namespace> --server ${host}`,
  );
  if (cfg.publicNames.length > 0) lines.push(`also reachable as: ${cfg.publicNames.map((p) => (p.port === null ? p.name : `${p.name}:${p.port}`)).join(', ')}`);
  return lines;
}
