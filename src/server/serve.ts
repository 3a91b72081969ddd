/**
 * Run the trust server from its config: build the access controller, the TrustService (through
 * a factory chosen by the composition root), a `node:https` server (`node:http` without TLS)
 * around the dispatcher's request listener (listener.ts), and listen on `server.http_addr`.
 * The fastify app (app.ts) answers the same; it is for hosts that are fastify apps, and
 * `vouch server` does not load it.
 *
 * TLS follows notary-server: `tls_cert_file` + `tls_key_file` enable https; `client_ca_file`
 * additionally requires client certificates signed by that CA. `:port` listens on every
 * interface, as Go does.
 *
 * Example:
 *   const running = await startTrustServer(config, { createTrustService, logger });
 *   console.log(running.url);  await running.close();
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import { TokenAccessController } from '../auth/index.ts';
import { parseListenAddress, type ServerConfig } from '../config/index.ts';
import { ConfigError } from '../errors/index.ts';
import { dispatcherOptionsFromConfig } from './dispatch.ts';
import { answerClientError, createTrustListener } from './listener.ts';
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
  let server: Server | undefined;
  let closing = false;
  try {
    const listener = createTrustListener({
      ...dispatcherOptionsFromConfig(config, { service: handle.service, auth, metrics: createServerMetrics(), logger: deps.logger }),
      logRequests: INFO_LEVELS.has(deps.logger.level),
    });
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      // Shutting down: answer what is in flight, then close each connection instead of keeping it.
      if (closing) res.setHeader('connection', 'close');
      listener(req, res);
    };
    server = https === undefined ? createHttpServer(onRequest) : createHttpsServer(https, onRequest);
    server.on('clientError', answerClientError);
    // The timeouts fastify ran with: idle keep-alive connections live 72 s, requests have no limit.
    server.keepAliveTimeout = 72_000;
    server.requestTimeout = 0;
    const host = addr.host === '' ? '::' : addr.host;
    try {
      await listen(server, host, addr.port);
    } catch (err) {
      // `:port` on a machine without IPv6: fall back to every IPv4 interface.
      if (addr.host !== '' || (err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw err;
      await listen(server, '0.0.0.0', addr.port);
    }
  } catch (err) {
    if (server?.listening === true) server.close();
    await handle.close();
    throw err;
  }
  const running = server;
  const bound = running.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : addr.port;
  const shownHost = addr.host === '' ? '0.0.0.0' : addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  let closed: Promise<void> | undefined;
  return {
    url: `${https === undefined ? 'http' : 'https'}://${shownHost}:${port}`,
    port,
    close() {
      closed ??= (async () => {
        try {
          closing = true;
          const done = once(running, 'close');
          running.close();
          running.closeIdleConnections();
          await done;
        } finally {
          await handle.close();
        }
      })();
      return closed;
    },
  };
}

/** Levels at which pino writes info lines. */
const INFO_LEVELS: ReadonlySet<string> = new Set(['info', 'debug', 'trace']);

async function listen(server: Server, host: string, port: number): Promise<void> {
  const failed = once(server, 'error');
  const listening = once(server, 'listening');
  server.listen({ host, port });
  await Promise.race([listening, failed.then(([err]) => Promise.reject(err as Error))]);
}
