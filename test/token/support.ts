/**
 * Test support for the token service against real clients: a stand-in for `vouch serve`'s one
 * TLS port with only what `docker login` needs from a registry — `GET /v2/` answering the
 * Bearer challenge that points at `/token`, and 200 for a valid token (distribution's base route
 * asks for no particular access) — and `/token` served by the real handler. Every request is
 * logged (method, path with query, Authorization scheme, form fields of a token POST without
 * secrets) so tests can check the exchange a client performed.
 *
 * Listens on 127.0.0.1, a free port, until `close()`.
 *
 * Example:
 *   const front = await startFront({ service, issuer, tls: { cert, key } });
 *   // docker login 127.0.0.1:<front.port> …; front.log
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AuthChallengeError, parseCertBundle, TokenAccessController } from '../../src/auth/index.ts';
import { createTokenHandler, type TokenIssuer, type TokenService } from '../../src/token/index.ts';

export interface LoggedRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  /** `Basic`, `Bearer` or '' */
  readonly authScheme: string;
  /** For a token POST: the form field names with grant_type and client_id values. */
  readonly form?: Record<string, string>;
}

export interface Front {
  readonly port: number;
  /** `127.0.0.1:<port>`: what docker calls the registry. */
  readonly host: string;
  readonly url: string;
  readonly realm: string;
  readonly log: LoggedRequest[];
  /** TLS handshakes that failed (e.g. a client falling back to plain http). */
  readonly tlsErrors: Error[];
  close(): Promise<void>;
}

export interface FrontOptions {
  readonly service: TokenService;
  readonly issuer: TokenIssuer;
  /** The audience the /v2/ check expects (the token service's first service). */
  readonly audience: string;
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

function scheme(req: IncomingMessage): string {
  return (req.headers.authorization ?? '').split(' ')[0] ?? '';
}

export async function startFront(opts: FrontOptions): Promise<Front> {
  const log: LoggedRequest[] = [];
  const tlsErrors: Error[] = [];
  const handleToken = createTokenHandler({ service: opts.service, basicRealm: 'vouch' });
  let realm = '';
  let verifier: TokenAccessController | undefined;

  const server = createServer({ cert: opts.tls.cert, key: opts.tls.key }, (req, res) => {
    const entry: { method: string; url: string; authScheme: string; form?: Record<string, string> } = {
      method: req.method ?? '',
      url: req.url ?? '',
      authScheme: scheme(req),
    };
    log.push(entry);
    void (async () => {
      if (req.method === 'POST') {
        // A second 'data' listener sees the same chunks the handler reads.
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
          entry.form = Object.fromEntries([...form.keys()].map((k) => [k, ['grant_type', 'client_id', 'scope', 'service'].includes(k) ? (form.get(k) ?? '') : '…']));
        });
      }
      if (await handleToken(req, res)) return;
      if (req.url === '/v2/' || req.url === '/v2') {
        try {
          await verifier!.authorized({ authorization: req.headers.authorization, host: req.headers.host }, []);
          res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
          res.end('{}');
        } catch (err) {
          if (!(err instanceof AuthChallengeError)) throw err;
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': err.challenge, 'docker-distribution-api-version': 'registry/2.0' });
          res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] }));
        }
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"NAME_UNKNOWN","message":"not here"}]}');
    })().catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  server.on('tlsClientError', (err) => tlsErrors.push(err));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  realm = `https://127.0.0.1:${port}/token`;
  verifier = new TokenAccessController({ realm, service: opts.audience, issuer: opts.issuer.issuer, roots: parseCertBundle(opts.issuer.rootCertBundle) });
  return {
    port,
    host: `127.0.0.1:${port}`,
    url: `https://127.0.0.1:${port}`,
    realm,
    log,
    tlsErrors,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
