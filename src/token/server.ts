/**
 * A token service on its own port, for tests and for running it apart from `vouch serve`
 * (which mounts `createTokenHandler` on its one TLS port instead). https when given a
 * certificate, plain http otherwise; 127.0.0.1 and a free port unless told otherwise.
 *
 * Example:
 *   const srv = await startTokenServer({ service, tls: { cert, key } });
 *   // srv.realm → https://127.0.0.1:<port>/token
 *   await srv.close();
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTokenHandler, type TokenHandlerOptions } from './handler.ts';

export interface TokenServerOptions extends TokenHandlerOptions {
  /** PEM certificate (chain) and key; absent: plain http. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
}

export interface TokenServerHandle {
  /** `https://127.0.0.1:<port>` (or http). */
  readonly url: string;
  /** The token endpoint: the `realm` verifiers put in their challenges. */
  readonly realm: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServerHandle> {
  const handle = createTokenHandler(opts);
  const listener = (req: Parameters<typeof handle>[0], res: Parameters<typeof handle>[1]): void => {
    handle(req, res).then(
      (handled) => {
        if (!handled) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"details":"not found"}');
        }
      },
      (err: unknown) => {
        opts.onError?.(err);
        res.destroy();
      },
    );
  };
  const server: Server = opts.tls === undefined ? createHttpServer(listener) : createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, listener);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    realm: `${url}${opts.path ?? '/token'}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeAllConnections();
      }),
  };
}
