/**
 * `docker login` (docker CLI 28, no engine) against the token service.
 *
 * Without a daemon the CLI logs in by itself (cli/command/registry/login.go: the daemon's
 * RegistryLogin fails with a connection error, so `loginClientSide` runs the registry client's
 * `Auth`): `GET /v2/` → 401 Bearer challenge → `GET <realm>?account=…&client_id=docker&
 * offline_token=true&service=…` with Basic credentials → `GET /v2/` with the token → 200. The
 * refresh token of the answer is stored as the identity token in `$DOCKER_CONFIG/config.json`.
 *
 * TLS: docker treats 127.0.0.0/8 as an insecure registry by default, so it does not verify the
 * certificate of a loopback registry and reads no CA for it (`/etc/docker/certs.d/<host:port>/`
 * is only consulted for secure registries). The test cannot make docker verify a certificate
 * without a non-loopback name resolving to this machine.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSigningMaterial, MemoryTokenStore, TokenIssuer, TokenService } from '../../src/token/index.ts';
import { DockerTrust } from '../support/docker-cli.ts';
import { describeResult } from '../support/exec.ts';
import { makePki, removeDir, tempDir } from '../support/pki.ts';
import { startFront, type Front } from './support.ts';

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
}

describe('docker login against the token service', { timeout: 120_000 }, () => {
  let dir: string;
  let front: Front;
  let service: TokenService;
  let homes = 0;

  before(async () => {
    dir = await tempDir('docker-login');
    const pki = await makePki(dir);
    const store = new MemoryTokenStore({ scryptLogN: 10 });
    await store.addUser('alice', 'alice-secret');
    await store.grant('alice', 'alice');
    const issuer = new TokenIssuer({ issuer: 'vouch', material: createSigningMaterial() });
    service = new TokenService({ store, issuer, services: ['vouch'] });
    front = await startFront({ service, issuer, audience: 'vouch', tls: { cert: await readFile(pki.certFile), key: await readFile(pki.keyFile) } });
  });
  after(async () => {
    await front?.close();
    if (dir !== undefined) await removeDir(dir);
  });

  async function docker(): Promise<DockerTrust> {
    return DockerTrust.create({ url: front.url, caFile: join(dir, 'ca.crt'), home: await tempDirUnder(`home-${++homes}`) });
  }
  async function tempDirUnder(name: string): Promise<string> {
    const { mkdir } = await import('node:fs/promises');
    const p = join(dir, name);
    await mkdir(p, { recursive: true });
    return p;
  }
  async function config(d: DockerTrust): Promise<DockerConfigFile> {
    try {
      return JSON.parse(await readFile(join(d.configDir, 'config.json'), 'utf8')) as DockerConfigFile;
    } catch {
      return {};
    }
  }
  const login = (d: DockerTrust, user: string, password: string) => d.run(['login', front.host, '-u', user, '--password-stdin'], { input: `${password}\n` });

  it('the right password: Login Succeeded, identity token stored in config.json', async () => {
    const d = await docker();
    const from = front.log.length;
    const r = await login(d, 'alice', 'alice-secret');
    assert.equal(r.code, 0, describeResult(['docker', 'login'], r));
    assert.match(r.stdout, /^Login Succeeded$/m);

    const exchange = front.log.slice(from).map((e) => `${e.method} ${e.url} ${e.authScheme}`.trim());
    assert.deepEqual(exchange, ['GET /v2/', 'GET /token?account=alice&client_id=docker&offline_token=true&service=vouch Basic', 'GET /v2/ Bearer']);

    const entry = (await config(d)).auths?.[front.host];
    assert.ok(entry !== undefined, JSON.stringify(await config(d)));
    assert.equal(Buffer.from(entry.auth ?? '', 'base64').toString(), 'alice:', 'docker keeps the user name, not the password');
    assert.match(entry.identitytoken ?? '', /^[A-Za-z0-9_-]{43}$/);
    // The stored identity token is a live refresh token for alice.
    const t = await service.token({ credentials: { kind: 'refresh', refreshToken: entry.identitytoken! }, scopes: ['repository:alice/app:pull'], offline: false });
    assert.equal(t.subject, 'alice');
    assert.deepEqual(front.tlsErrors, []);
  });

  it('a wrong password: an error exit with docker’s unauthorized message, nothing stored', async () => {
    const d = await docker();
    const from = front.log.length;
    const r = await login(d, 'alice', 'not-the-password');
    assert.equal(r.code, 1, describeResult(['docker', 'login'], r));
    assert.doesNotMatch(r.stdout, /Login Succeeded/);
    assert.match(r.stderr, /unauthorized: incorrect username or password/, describeResult(['docker', 'login'], r));
    assert.equal((await config(d)).auths?.[front.host], undefined);
    const exchange = front.log.slice(from).map((e) => `${e.method} ${e.url} ${e.authScheme}`.trim());
    assert.deepEqual(exchange, ['GET /v2/', 'GET /token?account=alice&client_id=docker&offline_token=true&service=vouch Basic'], 'no retry, no plain-http fallback');
    assert.deepEqual(front.tlsErrors, []);
  });

  it('an unknown user fails the same way', async () => {
    const d = await docker();
    const r = await login(d, 'mallory', 'alice-secret');
    assert.equal(r.code, 1, describeResult(['docker', 'login'], r));
    assert.match(r.stderr, /unauthorized: incorrect username or password/);
    assert.equal((await config(d)).auths?.[front.host], undefined);
  });

  it('a failed login keeps the credentials of an earlier successful one', async () => {
    const d = await docker();
    assert.equal((await login(d, 'alice', 'alice-secret')).code, 0);
    const before = (await config(d)).auths?.[front.host];
    assert.ok(before?.identitytoken);
    assert.equal((await login(d, 'alice', 'wrong')).code, 1);
    assert.deepEqual((await config(d)).auths?.[front.host], before);
  });
});
