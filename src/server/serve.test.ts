/**
 * startTrustServer on a loopback socket: plain http, https from the config's TLS files, and a
 * clean close that also closes the trust service.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { parseServerConfig } from '../config/index.ts';
import { buildCertificate } from '../auth/test-certs.ts';
import { FakeTrustService } from './fake-trust-service.ts';
import { startTrustServer, type TrustServiceFactory } from './serve.ts';

const logger = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;

function fakeFactory(): { factory: TrustServiceFactory; closed: () => number } {
  let closed = 0;
  return {
    factory: () => ({ service: new FakeTrustService(), close: async () => void closed++ }),
    closed: () => closed,
  };
}

test('http: listens on the configured address and closes the service on close()', async () => {
  const { factory, closed } = fakeFactory();
  const config = parseServerConfig({ server: { http_addr: '127.0.0.1:0' } }, { env: {} });
  const running = await startTrustServer(config, { createTrustService: factory, logger });
  try {
    assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${running.url}/v2/`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '{}');
  } finally {
    await running.close();
    await running.close();
  }
  assert.equal(closed(), 1);
});

test('https: TLS from tls_cert_file/tls_key_file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-serve-'));
  try {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Date.now();
    const cert = buildCertificate({ serial: 7, subject: 'localhost', issuer: 'localhost', publicKey: keys.publicKey, signingKey: keys.privateKey, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3600_000), ca: true });
    await writeFile(join(dir, 'server.crt'), cert.toString());
    await writeFile(join(dir, 'server.key'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'server.json'), '{}');
    const config = parseServerConfig(
      { server: { http_addr: '127.0.0.1:0', tls_cert_file: 'server.crt', tls_key_file: 'server.key' } },
      { env: {}, configFile: join(dir, 'server.json') },
    );
    const { factory } = fakeFactory();
    const running = await startTrustServer(config, { createTrustService: factory, logger });
    try {
      assert.match(running.url, /^https:/);
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(`${running.url}/_notary_server/health`, { ca: cert.toString(), checkServerIdentity: () => undefined }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(`${res.statusCode} ${b}`));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(body, '200 {}');
    } finally {
      await running.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('unreadable TLS files are config errors and the service is never created', async () => {
  let created = false;
  const config = parseServerConfig({ server: { http_addr: '127.0.0.1:0', tls_cert_file: '/nonexistent.crt', tls_key_file: '/nonexistent.key' } }, { env: {} });
  await assert.rejects(
    startTrustServer(config, { createTrustService: () => ((created = true), { service: new FakeTrustService(), close: async () => {} }), logger }),
    /unable to read server.tls_cert_file/,
  );
  assert.equal(created, false);
});

test('a port in use fails startup and closes the service', async () => {
  const first = fakeFactory();
  const config = parseServerConfig({ server: { http_addr: '127.0.0.1:0' } }, { env: {} });
  const running = await startTrustServer(config, { createTrustService: first.factory, logger });
  try {
    const second = fakeFactory();
    const clash = parseServerConfig({ server: { http_addr: `127.0.0.1:${running.port}` } }, { env: {} });
    await assert.rejects(startTrustServer(clash, { createTrustService: second.factory, logger }), /EADDRINUSE/);
    assert.equal(second.closed(), 1);
  } finally {
    await running.close();
  }
});
