/**
 * The route suite (route-suite.ts) through the node:http request listener that `vouch server`
 * runs, injected with light-my-request (fastify's inject() engine, so both hosts get the same
 * raw requests), and what the listener adds: one write per answer, Go's answer to unparsable
 * requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import inject from 'light-my-request';
import { dispatcherOptionsFromConfig } from './dispatch.ts';
import { FakeTrustService } from './fake-trust-service.ts';
import { answerClientError, createTrustListener } from './listener.ts';
import { runRouteSuite } from './route-suite.ts';
import type { TrustService } from './trust-service.ts';

runRouteSuite('node:http listener', ({ service, config, metrics }) => {
  const listener = createTrustListener(dispatcherOptionsFromConfig(config, { service, metrics }));
  return {
    async inject(o) {
      const r = await inject((req, res) => listener(req as IncomingMessage, res as ServerResponse), o);
      return { statusCode: r.statusCode, headers: r.headers, body: r.body };
    },
  };
});

const OPTS = { gunPrefixes: [], currentMaxAge: 300, consistentMaxAge: 2592000, maxUploadBytes: 1 << 20 };

/** Raw bytes in, raw bytes out, over a loopback socket (what inject() cannot show). */
async function exchange(request: string, service: TrustService = new FakeTrustService()): Promise<{ text: string; writes: number }> {
  const listener = createTrustListener({ ...OPTS, service });
  let writes = 0;
  const server = createServer(listener);
  server.on('connection', (socket: Socket) => {
    // count the writes that reach the socket's handle (a writev of several chunks is one)
    const write = socket._write.bind(socket);
    const writev = socket._writev?.bind(socket);
    socket._write = (chunk, encoding, cb) => (writes++, write(chunk, encoding, cb));
    if (writev !== undefined) socket._writev = (chunks, cb) => (writes++, writev(chunks, cb));
  });
  server.on('clientError', answerClientError);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  try {
    const socket = connect(port, '127.0.0.1');
    socket.end(request);
    let text = '';
    socket.on('data', (b: Buffer) => (text += b.toString('latin1')));
    await once(socket, 'close');
    return { text, writes };
  } finally {
    server.close();
  }
}

test('an answer is one write: status line, headers in order, content-length, body', async () => {
  const service = new FakeTrustService({ now: () => new Date(Date.UTC(2026, 10, 22, 3, 57, 54)) });
  service.put('g', 'root', 1, '{"signed":{"_type":"Root","version":1},"signatures":[]}');
  const { text, writes } = await exchange('GET /v2/g/_trust/tuf/root.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', service);
  assert.equal(writes, 1);
  const [head, body] = text.split('\r\n\r\n');
  const lines = head!.split('\r\n').filter((l) => !l.startsWith('Date: '));
  assert.deepEqual(lines, [
    'HTTP/1.1 200 OK',
    'content-type: text/plain; charset=utf-8',
    'last-modified: Sun, 22 Nov 2026 03:57:54 UTC',
    'cache-control: public, max-age=300, s-maxage=300, must-revalidate',
    'content-length: 55',
    'Connection: close',
  ]);
  assert.equal(body, '{"signed":{"_type":"Root","version":1},"signatures":[]}');
});

test('an unparsable request gets Go net/http’s 400 and the connection closes', async () => {
  const { text } = await exchange('GET /v2/ HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
  assert.equal(text, 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
});
