import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { TrustRequest } from '../server/index.ts';
import { createServeListener } from './listener.ts';

const claim = (name: string, prefix: string) => async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
  if (!(req.url ?? '').startsWith(prefix)) return false;
  res.writeHead(200).end(name);
  return true;
};
const dispatcher = (name: string, test: (p: string) => boolean) => async (req: TrustRequest) =>
  test(req.rawUrl) ? { status: 200, headers: { 'content-type': 'text/plain' }, body: name } : null;

describe('the one-port listener', () => {
  it('tries token, admin, registry, trust API and operations in turn; 404 envelope for the rest', async () => {
    const listener = createServeListener({
      token: claim('token', '/token'),
      admin: claim('admin', '/_vouch/'),
      registry: async (req, res) => {
        if (!(req.url ?? '').startsWith('/v2/') || (req.url ?? '').includes('/_trust')) return false;
        res.writeHead(200).end('registry');
        return true;
      },
      trust: dispatcher('trust', (p) => p.includes('/_trust/')),
      ops: dispatcher('ops', (p) => p === '/metrics'),
    });
    const server = createServer(listener);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    try {
      assert.equal((await get('/token?service=vouch')).body, 'token');
      assert.equal((await get('/_vouch/policy')).body, 'admin');
      assert.equal((await get('/v2/team/app/manifests/v1')).body, 'registry');
      assert.equal((await get('/v2/host:1/team/app/_trust/tuf/root.json')).body, 'trust');
      assert.equal((await get('/metrics')).body, 'ops');
      const r = await get('/nothing');
      assert.equal(r.status, 404);
      assert.equal(JSON.parse(r.body).errors[0].code, 'NOT_FOUND');
    } finally {
      server.close();
    }
  });
});
