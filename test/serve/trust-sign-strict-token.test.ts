/**
 * `vouch trust sign` against a registry whose token service refuses, rather than trims, a scope
 * the user may not have: logged in, the signer first asks for `pull,push` (what lets it read an
 * unsigned tag where content trust is enforced); refused that, it reads the manifest with a
 * `pull` token and signs, and does not ask for push again on its next read of the repository
 * (a new repository's manifest is read twice). The registry here is a small strict one on loopback (plain HTTP, as
 * docker allows for 127.0.0.1); the trust server is `vouch server`.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult } from '../support/exec.ts';
import { PASSPHRASE } from '../support/notary-cli.ts';
import { makePki, removeDir, tempDir } from '../support/pki.ts';
import { startServer, type ServerHandle } from '../support/servers.ts';
import { vouch } from './support.ts';

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 2 }, layers: [] }));
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;

describe('vouch trust sign with a token service that refuses a push scope', { timeout: 120_000 }, () => {
  let dir: string;
  let trust: ServerHandle;
  let registry: Server;
  let host: string;
  /** Token requests seen: the scope asked for and the answer. */
  const seen: string[] = [];

  before(async () => {
    dir = await tempDir('serve-trust-sign-strict');
    for (const d of ['pki', 'server']) await mkdir(join(dir, d));
    trust = await startServer('vouch-memory', { pki: await makePki(join(dir, 'pki')), dir: join(dir, 'server') });
    const tokens = new Set<string>();
    registry = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        const scope = url.searchParams.get('scope') ?? '';
        const ok = req.headers.authorization === `Basic ${Buffer.from('reader:reader-secret').toString('base64')}` && scope.endsWith(':pull');
        seen.push(`${scope} ${ok ? 200 : 403}`);
        if (!ok) return void res.writeHead(403, { 'content-type': 'application/json' }).end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
        const token = `t${tokens.size}`;
        tokens.add(token);
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (bearer === null || !tokens.has(bearer[1]!)) {
        return void res
          .writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="strict"`, 'content-type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      }
      if (url.pathname !== '/v2/team/app/manifests/v1') return void res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': DIGEST }).end(MANIFEST);
    });
    registry.listen(0, '127.0.0.1');
    await once(registry, 'listening');
    host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
  });
  after(async () => {
    registry?.closeAllConnections();
    registry?.close();
    await trust?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('asks for pull,push, is refused, and signs what a pull token reads', async () => {
    const home = join(dir, 'home');
    const configDir = join(home, 'docker-config');
    const trustHost = new URL(trust.url).host;
    await mkdir(join(configDir, 'tls', trustHost), { recursive: true });
    await copyFile(trust.caFile, join(configDir, 'tls', trustHost, 'ca.crt'));
    await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from('reader:reader-secret').toString('base64') } } }));
    const r = await vouch(['trust', 'sign', `${host}/team/app:v1`], {
      HOME: home,
      TZ: 'UTC',
      DOCKER_CONFIG: configDir,
      DOCKER_CONTENT_TRUST_SERVER: trust.url,
      DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: PASSPHRASE,
      DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE,
    });
    assert.equal(r.code, 0, describeResult(['vouch trust sign'], r));
    assert.match(r.stderr, new RegExp(`manifest ${DIGEST} in the registry`));
    assert.deepEqual(seen, ['repository:team/app:push,pull 403', 'repository:team/app:pull 403', 'repository:team/app:pull 200']);
  });
});
