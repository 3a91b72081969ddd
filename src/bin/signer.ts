/**
 * Composition root of `vouch signer --config FILE` (a drop-in for `notary-signer -config FILE`,
 * spec §8), and of the trust server's side of `trust_service.type: remote`.
 *
 * Signer: reads notary-signer's config, picks the key store from `storage.backend`
 * (memory → in-process, keys gone on restart, as notary; sqlite3/postgres/mysql → the
 * `private_keys` table), resolves alias passphrases from `NOTARY_SIGNER_<ALIAS>` at each use,
 * and serves the gRPC API over TLS (mutual TLS with `server.client_ca_file`).
 * Exit codes: 0 after SIGINT/SIGTERM, 1 when startup fails (reason on stderr).
 *
 * Server side: `connectRemoteSigner` builds the RemoteCryptoService from `trust_service.*`, and
 * `withSignerHealth` adds the signer's health services to the server's health check (notary's
 * "Trust operational").
 *
 * Example: vouch signer -config fixtures/signer-config.json
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { pino, type Logger } from 'pino';
import type { ServerConfig } from '../config/index.ts';
import { aliasPassphraseEnvName, loadSignerConfig, type SignerConfig } from '../config/signer-config.ts';
import { ConfigError } from '../errors/index.ts';
import type { TrustService } from '../server/trust-service.ts';
import { RemoteCryptoService, SignerKeyService, startSignerServer, type RunningSigner } from '../signer/index.ts';
import { MemoryKeyRecordStore, SqliteKeyRecordStore, type KeyRecordStore } from '../storage/index.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface SignerCommandDeps {
  /** Default: process.env (config overrides and alias passphrases). */
  readonly env?: Env;
  /** Install SIGINT/SIGTERM handlers (default true). */
  readonly handleSignals?: boolean;
  readonly stdout?: (line: string) => void;
}

export interface SignerProcess {
  readonly signer: RunningSigner;
  readonly config: SignerConfig;
  /** Stop serving, then close the key store. */
  close(): Promise<void>;
}

async function readTls(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ConfigError(`unable to set up TLS: cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The key store of `storage.backend`; SQL drivers load only when chosen. */
async function openKeyStore(config: SignerConfig): Promise<KeyRecordStore> {
  const { backend, dbUrl } = config.storage;
  switch (backend) {
    case 'memory':
      return new MemoryKeyRecordStore();
    case 'sqlite3':
      return new SqliteKeyRecordStore(dbUrl ?? '');
    case 'postgres':
    case 'mysql': {
      const sql = await import('../storage/index.ts');
      return backend === 'postgres' ? sql.PostgresKeyRecordStore.open(dbUrl ?? '') : sql.MysqlKeyRecordStore.open(dbUrl ?? '');
    }
  }
}

/** Start the signer described by `configFile`. */
export async function runSigner(opts: { config: string; logf?: string }, deps: SignerCommandDeps = {}): Promise<SignerProcess> {
  const env = deps.env ?? process.env;
  const config = await loadSignerConfig(opts.config, { env });
  const logger: Logger = pino({ level: config.logging.level, base: { service: 'vouch-signer' } }, pino.destination(2));
  for (const w of config.warnings) logger.warn(w);
  const tls = {
    cert: await readTls(config.server.tls.certFile, 'server.tls_cert_file'),
    key: await readTls(config.server.tls.keyFile, 'server.tls_key_file'),
    clientCa: config.server.tls.clientCaFile === null ? null : await readTls(config.server.tls.clientCaFile, 'server.client_ca_file'),
  };

  const memory = config.storage.backend === 'memory';
  // notary-signer's memory store seals with a constant; a per-process random passphrase is no weaker.
  const memoryPassphrase = randomBytes(32).toString('base64');
  const passphrase = memory ? () => memoryPassphrase : (alias: string) => env[aliasPassphraseEnvName(alias)];
  const defaultAlias = config.storage.defaultAlias ?? 'memory';
  if (!memory && (passphrase(defaultAlias) ?? '') === '') {
    logger.warn({ alias: defaultAlias }, `${aliasPassphraseEnvName(defaultAlias)} is not set: creating keys will fail until it is`);
  }

  const store = await openKeyStore(config);
  const keys = new SignerKeyService({
    store,
    defaultAlias,
    passphrase,
    reusePendingKeys: !memory,
    onWarning: (msg, err) => logger.error({ err }, msg),
  });
  let signer: RunningSigner;
  try {
    signer = await startSignerServer({ keys, tls, host: config.server.host, port: config.server.port, logger });
  } catch (err) {
    await store.close();
    throw new Error(`grpc server failed to listen on ${config.server.grpcAddr}: ${(err as Error).message}`, { cause: err });
  }
  const print = deps.stdout ?? ((l: string) => process.stdout.write(`${l}\n`));
  print(`vouch signer listening on ${signer.address}`);
  logger.info({ address: signer.address, storage: config.storage.backend, defaultAlias }, 'listening');

  let closing: Promise<void> | undefined;
  const proc: SignerProcess = {
    signer,
    config,
    close() {
      closing ??= signer.close().then(() => store.close());
      return closing;
    },
  };
  if (deps.handleSignals !== false) {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down');
      proc.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  return proc;
}

/** Add `vouch signer` to the program. */
export function registerSignerCommand(program: Command, deps: SignerCommandDeps = {}): void {
  program
    .command('signer')
    .description('run the signing service (drop-in for notary-signer)')
    .requiredOption('--config <file>', "path to notary-signer's configuration file (JSON or YAML)")
    .addOption(new Option('--logf <format>', 'log format').choices(['json', 'logfmt']).default('json'))
    .option('--debug', 'accepted for notary-signer compatibility (no debug server)')
    .option('--bootstrap', 'accepted for notary-signer compatibility (tables are created on start)')
    .action(async (o: { config: string; logf: string }) => {
      await runSigner(o, deps);
    });
}

/**
 * The RemoteCryptoService for `trust_service.type: remote`: TLS roots from `tls_ca_file` only,
 * the client certificate from `tls_client_cert`/`tls_client_key`.
 * @throws ConfigError when a TLS file cannot be read
 */
export async function connectRemoteSigner(config: ServerConfig): Promise<RemoteCryptoService> {
  const ts = config.trustService;
  if (ts.hostname === null || ts.port === null) throw new ConfigError('trust_service: a remote trust service needs hostname and port');
  const read = async (file: string | null, what: string): Promise<Buffer | null> => {
    if (file === null) return null;
    try {
      return await readFile(file);
    } catch (err) {
      throw new ConfigError(`Unable to configure TLS to the trust service: cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return new RemoteCryptoService({
    hostname: ts.hostname,
    port: ts.port,
    caCert: await read(ts.tlsCaFile, 'trust_service.tls_ca_file'),
    clientCert: await read(ts.tlsClientCert, 'trust_service.tls_client_cert'),
    clientKey: await read(ts.tlsClientKey, 'trust_service.tls_client_key'),
  });
}

/** `service` whose health check also asks the signer's health services (10 s deadline, as notary). */
export function withSignerHealth(service: TrustService, signer: { checkHealth(): Promise<void> }): TrustService {
  return {
    publish: (gun, parts) => service.publish(gun, parts),
    getCurrent: (gun, role) => service.getCurrent(gun, role),
    getByChecksum: (gun, role, sha) => service.getByChecksum(gun, role, sha),
    getByVersion: (gun, role, version) => service.getByVersion(gun, role, version),
    getOrCreateKey: (gun, role) => service.getOrCreateKey(gun, role),
    rotateKey: (gun, role) => service.rotateKey(gun, role),
    deleteGun: (gun) => service.deleteGun(gun),
    changes: (changeId, records, gun) => service.changes(changeId, records, gun),
    async check() {
      await service.check();
      await signer.checkHealth();
    },
  };
}
