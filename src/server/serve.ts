/**
 * Run the trust server from its config: build the access controller, the TrustService (through
 * a factory chosen by the composition root), the fastify app with TLS when configured, and
 * listen on `server.http_addr`.
 *
 * TLS follows notary-server: `tls_cert_file` + `tls_key_file` enable https; `client_ca_file`
 * additionally requires client certificates signed by that CA. `:port` listens on every
 * interface, as Go does.
 *
 * Example:
 *   const running = await startTrustServer(config, { createTrustService, logger });
 *   console.log(running.url);  await running.close();
 */
import { readFile } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import { TokenAccessController } from '../auth/index.ts';
import { parseListenAddress, type ServerConfig } from '../config/index.ts';
import { ConfigError } from '../errors/index.ts';
import { buildTrustApp } from './app.ts';
import { createServerMetrics } from './metrics.ts';
import type { TrustService } from './trust-service.ts';

export interface TrustServiceHandle {
  readonly service: TrustService;
  close(): Promise<void>;
}

/** What `src/server/tuf-service.ts` exports as `createTrustService`. */
export type TrustServiceFactory = (config: ServerConfig, logger: FastifyBaseLogger) => Promise<TrustServiceHandle> | TrustServiceHandle;

export interface RunningTrustServer {
  /** `https://127.0.0.1:4443` (the bound address; the port is the real one when 0 was asked). */
  readonly url: string;
  readonly port: number;
  /** Stop accepting, finish in-flight requests, close the service. Idempotent. */
  close(): Promise<void>;
}

async function readTlsFile(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ConfigError(`unable to read ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * @throws ConfigError for unreadable TLS or token files, or an unusable listen address;
 *   whatever the factory throws; listen errors (EADDRINUSE…)
 */
export async function startTrustServer(
  config: ServerConfig,
  deps: { createTrustService: TrustServiceFactory; logger: FastifyBaseLogger },
): Promise<RunningTrustServer> {
  const addr = parseListenAddress(config.server.httpAddr);
  if (addr === null) throw new ConfigError(`server.http_addr: not a host:port address: ${config.server.httpAddr}`);
  const auth = config.auth === null ? null : await TokenAccessController.create(config.auth);
  const tls = config.server.tls;
  const https =
    tls === null
      ? undefined
      : {
          cert: await readTlsFile(tls.certFile, 'server.tls_cert_file'),
          key: await readTlsFile(tls.keyFile, 'server.tls_key_file'),
          ...(tls.clientCaFile === null
            ? {}
            : { ca: await readTlsFile(tls.clientCaFile, 'server.client_ca_file'), requestCert: true, rejectUnauthorized: true }),
        };

  const handle = await deps.createTrustService(config, deps.logger);
  let app;
  try {
    app = buildTrustApp({ service: handle.service, config, logger: deps.logger, auth, metrics: createServerMetrics(), ...(https === undefined ? {} : { https }) });
    const host = addr.host === '' ? '::' : addr.host;
    try {
      await app.listen({ host, port: addr.port });
    } catch (err) {
      // `:port` on a machine without IPv6: fall back to every IPv4 interface.
      if (addr.host !== '' || (err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw err;
      await app.listen({ host: '0.0.0.0', port: addr.port });
    }
  } catch (err) {
    await app?.close().catch(() => undefined);
    await handle.close();
    throw err;
  }
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : addr.port;
  const shownHost = addr.host === '' ? '0.0.0.0' : addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  let closing: Promise<void> | undefined;
  return {
    url: `${https === undefined ? 'http' : 'https'}://${shownHost}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        try {
          await app.close();
        } finally {
          await handle.close();
        }
      })();
      return closing;
    },
  };
}
