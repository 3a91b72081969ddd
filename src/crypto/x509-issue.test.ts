import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generatePrivateKey, issueCertificate, parseCertificateChain, privateKeyObject } from './index.ts';

test('a CA and a server certificate it signs pass openssl verify and a real TLS handshake', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-x509-'));
  try {
    const caKey = generatePrivateKey('ecdsa');
    const caPem = issueCertificate({ commonName: 'vouch test CA', key: caKey, ca: true, days: 30 });
    const key = generatePrivateKey('ecdsa');
    const pem = issueCertificate({ commonName: 'localhost', key, issuer: { pem: caPem, key: caKey }, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
    const ca = parseCertificateChain(caPem)[0]!;
    const leaf = parseCertificateChain(pem)[0]!;
    assert.equal(ca.isCA, true);
    assert.equal(leaf.isCA, false);
    assert.equal(leaf.commonName, 'localhost');
    writeFileSync(join(dir, 'ca.crt'), caPem);
    writeFileSync(join(dir, 'server.crt'), pem);
    const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslserver', join(dir, 'server.crt')], { encoding: 'utf8' });
    assert.match(out, /server\.crt: OK/);
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'server.crt')], { encoding: 'utf8' });
    assert.match(text, /DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);

    const server = createServer({ key: privateKeyObject(key).export({ type: 'pkcs8', format: 'pem' }), cert: pem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const body = await new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/', ca: caPem }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c));
          res.on('end', () => resolve(b));
        })
          .on('error', reject)
          .end();
      });
      assert.equal(body, 'ok');
    } finally {
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only ECDSA keys are certified', () => {
  assert.throws(() => issueCertificate({ commonName: 'x', key: generatePrivateKey('ed25519') }), /ECDSA/);
});
