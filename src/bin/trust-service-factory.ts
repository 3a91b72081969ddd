/**
 * Composition root of the trust server: picks the MetaStore, the key store and the signer from
 * notary-server's config, and assembles a TufTrustService from them. Nothing outside src/bin
 * chooses a backend.
 *
 * - `storage.backend: memory` → in-memory metadata and keys (gone on restart, as with notary);
 * - `storage.backend: sqlite3` → one SQLite file (`db_url`) holding metadata, changefeed and the
 *   server's sealed private keys;
 * - `trust_service.type: local` → keys generated and held in-process, sealed at rest with
 *   `trust_service.key_passphrase` / `VOUCH_SERVER_KEY_PASSPHRASE`.
 * - `trust_service.type: remote` → keys held by a notary-signer compatible signer over gRPC
 *   (RemoteCryptoService, wired in ./signer.ts); the server's health check then includes the signer's.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from '../config/index.ts';
import { ConfigError } from '../errors/index.ts';
import { LocalCryptoService } from '../keystore/index.ts';
import type { CryptoService } from '../crypto/index.ts';
import type { TrustServiceHandle } from '../server/serve.ts';
import { TufTrustService } from '../server/tuf-service.ts';
import {
  MemoryKeyRecordStore,
  MemoryMetaStore,
  SqliteKeyRecordStore,
  SqliteMetaStore,
  type KeyRecordStore,
  type MetaStore,
} from '../storage/index.ts';

export async function createTrustService(config: ServerConfig, logger: FastifyBaseLogger): Promise<TrustServiceHandle> {
  // trust_service.type remote: keys are created and used in the signer over gRPC (src/bin/signer.ts);
  // the local key table below then stays unused, so no passphrase is asked for or generated for it.
  // The gRPC client (./signer.ts and @grpc/grpc-js) is loaded only for a remote signer.
  const signer = config.trustService.type === 'remote' ? await import('./signer.ts') : null;
  const remote = signer === null ? null : await signer.connectRemoteSigner(config);
  let store: MetaStore;
  let keys: KeyRecordStore;
  let passphrase = config.trustService.keyPassphrase;
  if (remote !== null) passphrase ??= randomBytes(32).toString('base64');
  switch (config.storage.backend) {
    case 'memory':
      store = new MemoryMetaStore();
      keys = new MemoryKeyRecordStore();
      // Keys live only as long as the process: a per-process passphrase seals them in memory.
      passphrase ??= randomBytes(32).toString('base64');
      break;
    case 'sqlite3': {
      const file = config.storage.dbUrl;
      if (file === null || file === '') throw new ConfigError('storage.db_url: the sqlite3 backend needs a database file path');
      store = new SqliteMetaStore(file);
      keys = new SqliteKeyRecordStore(file);
      passphrase ??= await generatedPassphrase(`${file}.passphrase`, logger);
      break;
    }
    case 'postgres':
    case 'mysql': {
      // A server database is shared by every instance, so the key passphrase must be the same
      // everywhere: it is required rather than generated per process or kept beside one of them.
      const backend = config.storage.backend;
      const url = config.storage.dbUrl;
      if (url === null || url === '') throw new ConfigError(`storage.db_url: the ${backend} backend needs a database source`);
      if (passphrase === null || passphrase === '') {
        throw new ConfigError(
          `storage.backend ${backend}: set trust_service.key_passphrase or VOUCH_SERVER_KEY_PASSPHRASE; every instance on the database must use the same one to sign with the keys sealed there`,
        );
      }
      const sql = await import('../storage/index.ts'); // (the drivers themselves load on open)
      const [openMeta, openKeys] =
        backend === 'postgres'
          ? [() => sql.PostgresMetaStore.open(url), () => sql.PostgresKeyRecordStore.open(url)]
          : [() => sql.MysqlMetaStore.open(url), () => sql.MysqlKeyRecordStore.open(url)];
      store = await openMeta();
      try {
        keys = await openKeys();
      } catch (err) {
        await store.close();
        throw err;
      }
      break;
    }
    default:
      throw new ConfigError(`storage.backend "${config.storage.backend}" is not supported by this version of vouch; use "memory" or "sqlite3"`);
  }
  let crypto: CryptoService;
  if (remote !== null) crypto = remote;
  else {
    // Two keys of the configured algorithm wait generated and sealed, so that a new
    // repository's first timestamp.key request pays neither (local-crypto-service.ts).
    const local = new LocalCryptoService({ store: keys, passphrase, spareKeys: 2 });
    local.prepareSpares(config.trustService.keyAlgorithm);
    crypto = local;
  }
  // Only the memory store is this process's alone; the others may have other writers.
  const service = new TufTrustService({ store, crypto, keyAlgorithm: config.trustService.keyAlgorithm, exclusiveStore: config.storage.backend === 'memory' });
  return {
    service: remote === null || signer === null ? service : signer.withSignerHealth(service, remote),
    async close() {
      remote?.close();
      await store.close();
      await keys.close();
    },
  };
}

/**
 * With no configured passphrase, a random one is kept beside the database (0600) so that the
 * server restarts with its keys. The keys in the database stay sealed, so a copy of the database
 * alone does not reveal them; production setups should set VOUCH_SERVER_KEY_PASSPHRASE instead.
 */
async function generatedPassphrase(file: string, logger: FastifyBaseLogger): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing !== '') return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const passphrase = randomBytes(32).toString('base64');
  await writeFile(file, `${passphrase}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  logger.warn({ file }, 'no trust_service.key_passphrase or VOUCH_SERVER_KEY_PASSPHRASE set: generated one and stored it beside the database');
  return passphrase;
}
