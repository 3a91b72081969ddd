import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MaliciousServerError, NetworkError } from './client-errors.ts';
import { ERROR_BODY_LIMIT, NodeFetcher } from './fetcher.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base = '';
const handlers = new Map<string, Handler>();
const seen: IncomingMessage[] = [];
const sockets = new Set<Socket>();

before(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const h = handlers.get(req.url ?? '');
    if (h === undefined) {
      res.writeHead(404).end();
      return;
    }
    h(req, res);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const fetcher = new NodeFetcher({ timeoutMs: 5_000, userAgent: 'vouch-test' });

describe('NodeFetcher', () => {
  it('returns status, headers and body; sends the user agent; GETs share a kept-alive connection', async () => {
    handlers.set('/ok', (_req, res) => res.writeHead(200, { 'X-Test': 'yes' }).end('hello'));
    const own = new NodeFetcher({ timeoutMs: 5_000, userAgent: 'vouch-test' });
    const r = await own.fetch({ url: `${base}/ok`, maxLength: 100 });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-test'], 'yes');
    assert.equal(new TextDecoder().decode(r.body), 'hello');
    const req = seen.at(-1) as IncomingMessage;
    assert.notEqual(req.headers.connection, 'close');
    assert.equal(req.headers['user-agent'], 'vouch-test');
    await own.fetch({ url: `${base}/ok`, maxLength: 100 });
    assert.equal((seen.at(-1) as IncomingMessage).socket, req.socket);
  });

  it('a GET that meets a kept-alive connection closed by the server goes out once more on a new one', async () => {
    const own = new NodeFetcher({ timeoutMs: 5_000 });
    handlers.set('/first', (_req, res) => res.writeHead(200).end('1'));
    let drops = 0;
    handlers.set('/second', (req, res) => {
      if (drops++ === 0) req.socket.destroy(); // the idle connection is gone when the request comes
      else res.writeHead(200).end('2');
    });
    await own.fetch({ url: `${base}/first`, maxLength: 10 });
    const first = seen.at(-1) as IncomingMessage;
    const r = await own.fetch({ url: `${base}/second`, maxLength: 10 });
    assert.equal(new TextDecoder().decode(r.body), '2');
    assert.equal(drops, 2);
    assert.equal(seen.at(-2)?.socket, first.socket);
    assert.notEqual(seen.at(-1)?.socket, first.socket);
    // no second chance for a connection of its own, nor after an answer began
    handlers.set('/drop', (req) => req.socket.destroy());
    await assert.rejects(new NodeFetcher({ timeoutMs: 5_000 }).fetch({ url: `${base}/drop`, maxLength: 10 }), NetworkError);
  });

  it('any other method has a connection of its own (Connection: close)', async () => {
    handlers.set('/post', (_req, res) => res.writeHead(200).end());
    await fetcher.fetch({ method: 'POST', url: `${base}/post`, body: new Uint8Array(1), maxLength: 10 });
    assert.equal((seen.at(-1) as IncomingMessage).headers.connection, 'close');
  });

  it('sends the path verbatim and a body with its length', async () => {
    let got = '';
    handlers.set('/v2/a:b/x%20y/_trust/tuf/', (req, res) => {
      req.on('data', (c: Buffer) => (got += c.toString()));
      req.on('end', () => res.writeHead(200).end());
    });
    const r = await fetcher.fetch({ method: 'POST', url: `${base}/v2/a:b/x%20y/_trust/tuf/`, body: new TextEncoder().encode('payload'), maxLength: 10 });
    assert.equal(r.status, 200);
    assert.equal(got, 'payload');
    assert.equal((seen.at(-1) as IncomingMessage).headers['content-length'], '7');
  });

  it('refuses a 2xx whose Content-Length is over the limit without reading it', async () => {
    handlers.set('/big', (_req, res) => res.writeHead(200, { 'Content-Length': '1000' }).end('x'.repeat(1000)));
    await assert.rejects(fetcher.fetch({ url: `${base}/big`, maxLength: 999, resource: 'snapshot' }), (e) => {
      return e instanceof MaliciousServerError && e.message === 'trust server returned a bad response.' && e.resource === 'snapshot' && e.limit === 999;
    });
    const r = await fetcher.fetch({ url: `${base}/big`, maxLength: 1000 });
    assert.equal(r.body.length, 1000);
  });

  it('cuts off a body that streams past the limit (endless response)', async () => {
    handlers.set('/endless', (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    await assert.rejects(fetcher.fetch({ url: `${base}/endless`, maxLength: 1 << 20 }), MaliciousServerError);
  });

  it('reads at most 1 KiB of an error body', async () => {
    handlers.set('/err', (_req, res) => res.writeHead(500).end('e'.repeat(5000)));
    const r = await fetcher.fetch({ url: `${base}/err`, maxLength: 10 });
    assert.equal(r.status, 500);
    assert.equal(r.body.length, ERROR_BODY_LIMIT);
  });

  it('does not follow redirects', async () => {
    handlers.set('/moved', (_req, res) => res.writeHead(301, { Location: '/ok' }).end());
    const r = await fetcher.fetch({ url: `${base}/moved`, maxLength: 10 });
    assert.equal(r.status, 301);
  });

  it('a body cut short, a refused connection and a stalled response are NetworkErrors', async () => {
    handlers.set('/short', (req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('only a bit');
      setTimeout(() => req.socket.destroy(), 20);
    });
    await assert.rejects(fetcher.fetch({ url: `${base}/short`, maxLength: 1000 }), NetworkError);
    handlers.set('/stall', () => {});
    await assert.rejects(fetcher.fetch({ url: `${base}/stall`, maxLength: 10, timeoutMs: 200 }), (e) => e instanceof NetworkError && /timed out/.test(e.message));
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const addr = closed.address();
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    await assert.rejects(fetcher.fetch({ url: `http://127.0.0.1:${port}/`, maxLength: 10 }), (e) => e instanceof NetworkError && e.status === undefined);
  });

  it('refuses a client certificate without its key, and non-http URLs', async () => {
    assert.throws(() => new NodeFetcher({ cert: 'x' }), TypeError);
    await assert.rejects(fetcher.fetch({ url: 'ftp://127.0.0.1/', maxLength: 1 }), TypeError);
  });
});
