/**
 * The token service's tokens at the trust server, end to end: the real notary-server (and vouch
 * server) with `auth.type: token` and our `rootcertbundle`, driven by the real notary CLI
 * (Basic credentials from NOTARY_AUTH, GET /token) and by docker trust holding the identity token
 * `docker login` stored (OAuth2 POST with grant_type=refresh_token).
 *
 * Policy under test: alice is granted `alice`, bob is granted `bob`, root is an admin; the
 * notary GUNs carry a configured registry host (`registry.e2e.test/…`), docker's carry the
 * registry's `127.0.0.1:<port>`, and both mean the repository path after the host.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createSigningMaterial, MemoryTokenStore, TokenIssuer, TokenService } from '../../src/token/index.ts';
import { DockerTrust } from '../support/docker-cli.ts';
import { describeResult } from '../support/exec.ts';
import { httpRequest } from '../support/http.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { makePki, removeDir, tempDir } from '../support/pki.ts';
import { selectedTargets, startServer, type ServerHandle } from '../support/servers.ts';
import { startFront, type Front } from './support.ts';

const PASSWORDS: Record<string, string> = { alice: 'alice-secret', bob: 'bob-secret', root: 'root-secret' };
const GUN = 'registry.e2e.test/alice/app';
const SHA = 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';

class AuthedNotary extends NotaryCli {
  readonly user: string | undefined;
  constructor(base: NotaryCli, user: string | undefined) {
    super({ url: base.url, caFile: base.caFile, home: base.home, trustDir: base.trustDir });
    this.user = user;
  }
  override env(): NodeJS.ProcessEnv {
    const env = super.env();
    if (this.user !== undefined) env['NOTARY_AUTH'] = Buffer.from(`${this.user}:${PASSWORDS[this.user]}`).toString('base64');
    return env;
  }
}

for (const target of selectedTargets()) {
  describe(`token service tokens at ${target}`, { timeout: 300_000 }, () => {
    let dir: string;
    let store: MemoryTokenStore;
    let service: TokenService;
    let front: Front;
    let server: ServerHandle;
    let homes = 0;

    before(async () => {
      dir = await tempDir(`token-trust-${target}`);
      const pki = await makePki(dir);
      store = new MemoryTokenStore({ scryptLogN: 10 });
      await store.addUser('alice', PASSWORDS['alice']!);
      await store.addUser('bob', PASSWORDS['bob']!);
      await store.addUser('root', PASSWORDS['root']!, { admin: true });
      await store.grant('alice', 'alice');
      await store.grant('bob', 'bob');
      const issuer = new TokenIssuer({ issuer: 'vouch', material: createSigningMaterial() });
      service = new TokenService({ store, issuer, services: ['vouch'], policy: { registryHosts: ['registry.e2e.test'] } });
      front = await startFront({ service, issuer, audience: 'vouch', tls: { cert: await readFile(pki.certFile), key: await readFile(pki.keyFile) } });
      const bundle = join(dir, 'token-root.crt');
      await writeFile(bundle, issuer.rootCertBundle);
      server = await startServer(target, {
        pki,
        dir,
        extraConfig: { auth: { type: 'token', options: { realm: front.realm, service: 'vouch', issuer: 'vouch', rootcertbundle: bundle } } },
      });
    });
    afterEach((t) => {
      if ((t as { passed?: boolean }).passed === false && server !== undefined) {
        process.stderr.write(`\n--- ${target} output (tail) ---\n${server.output().slice(-4000)}\n--- token requests ---\n${front.log.map((e) => `${e.method} ${e.url} ${e.authScheme} ${JSON.stringify(e.form ?? {})}`).join('\n')}\n`);
      }
    });
    after(async () => {
      await server?.stop();
      await front?.close();
      if (dir !== undefined) await removeDir(dir);
    });

    async function home(name: string): Promise<string> {
      const h = join(dir, `${name}-${++homes}`);
      await mkdir(h, { recursive: true });
      return h;
    }
    async function notary(user: string | undefined, trustDir?: string): Promise<AuthedNotary> {
      const h = await home(user ?? 'anon');
      return new AuthedNotary(new NotaryCli({ url: server.url, caFile: server.caFile, home: h, trustDir: trustDir ?? join(h, 'trust') }), user);
    }
    let aliceTrust = '';

    it('alice publishes below her namespace (push,pull granted through a registry-host GUN)', async () => {
      const alice = await notary('alice');
      aliceTrust = alice.trustDir;
      const from = front.log.length;
      await alice.ok('init', '-p', GUN);
      const add = await alice.ok('addhash', '-p', GUN, 'v1', '11', '--sha256', SHA);
      assert.match(add.stdout, /Successfully published changes for repository registry\.e2e\.test\/alice\/app/);
      const list = await alice.ok('list', GUN);
      assert.match(list.stdout, new RegExp(`^v1\\s+${SHA}\\s+11\\s+targets$`, 'm'));
      const asked = front.log.slice(from).filter((e) => e.url.startsWith('/token'));
      assert.ok(
        asked.some((e) => e.authScheme === 'Basic' && e.url.includes('account=alice') && e.url.includes('scope=repository%3Aregistry.e2e.test%2Falice%2Fapp%3Apush%2Cpull')),
        asked.map((e) => e.url).join('\n'),
      );
    });

    it('raw requests: a token for the needed scope opens the route, one without it gets the 401 challenge', async () => {
      const path = `/v2/${GUN}/_trust/tuf/root.json`;
      const token = async (user: string, scope: string): Promise<string> =>
        (await service.token({ credentials: { kind: 'password', username: user, password: PASSWORDS[user]! }, scopes: [scope], offline: false })).token;
      const ok = await httpRequest(server, { path, headers: { authorization: `Bearer ${await token('alice', `repository:${GUN}:pull`)}` } });
      assert.equal(ok.status, 200, ok.text());
      const other = await httpRequest(server, { path, headers: { authorization: `Bearer ${await token('alice', 'repository:registry.e2e.test/alice/other:pull')}` } });
      assert.equal(other.status, 401);
      const bob = await httpRequest(server, { path, headers: { authorization: `Bearer ${await token('bob', `repository:${GUN}:pull`)}` } });
      assert.equal(bob.status, 401);
      assert.equal(
        bob.headers['www-authenticate'],
        `Bearer realm="${front.realm}",service="vouch",scope="repository:${GUN}:pull",error="insufficient_scope"`,
      );
      const push = await httpRequest(server, { method: 'POST', path: `/v2/${GUN}/_trust/tuf/`, headers: { authorization: `Bearer ${await token('alice', `repository:${GUN}:pull`)}` } });
      assert.equal(push.status, 401, 'pull alone does not allow a publish');
    });

    it('bob, without a grant on alice, can neither read nor publish, even holding the keys', async () => {
      // a trust dir of his own: with alice's, notary would answer list from her cache
      const reader = await notary('bob');
      const list = await reader.run(['list', GUN]);
      assert.notEqual(list.code, 0, describeResult(['notary', 'list'], list));
      const bob = await notary('bob', aliceTrust);
      const add = await bob.run(['addhash', '-p', GUN, 'v2', '11', '--sha256', SHA]);
      assert.notEqual(add.code, 0);
      assert.match(add.stdout + add.stderr, /you are not authorized to perform this operation: server returned 401/);
    });

    it('anonymous pull follows the namespace setting, for anonymous and other users; push never', async () => {
      const anon = await notary(undefined);
      assert.notEqual((await anon.run(['list', GUN])).code, 0);
      await store.setAnonymousPull('alice', true);
      try {
        assert.match((await anon.ok('list', GUN)).stdout, /^v1\s/m);
        assert.match((await (await notary('bob')).ok('list', GUN)).stdout, /^v1\s/m);
        const bob = await notary('bob', aliceTrust);
        const add = await bob.run(['addhash', '-p', GUN, 'v2', '11', '--sha256', SHA]);
        assert.match(add.stdout + add.stderr, /you are not authorized to perform this operation: server returned 401/);
      } finally {
        await store.setAnonymousPull('alice', false);
      }
      const again = await notary(undefined);
      assert.notEqual((await again.run(['list', GUN])).code, 0, 'closed again');
    });

    it('docker trust with the identity token docker login stored: refresh_token grant, push,pull on alice’s repository only', async () => {
      const docker = await DockerTrust.create({ url: server.url, caFile: server.caFile, home: await home('docker-alice') });
      const login = await docker.run(['login', front.host, '-u', 'alice', '--password-stdin'], { input: `${PASSWORDS['alice']}\n` });
      assert.equal(login.code, 0, describeResult(['docker', 'login'], login));
      const keys = await home('keys');
      await docker.ok('trust', 'key', 'generate', 'alice', '--dir', keys);
      const repo = `${front.host}/alice/img`;
      const from = front.log.length;
      const r = await docker.ok('trust', 'signer', 'add', '--key', join(keys, 'alice.pub'), 'alice', repo);
      assert.match(r.stdout, new RegExp(`Successfully added signer: alice to ${repo.replace(/\./g, '\\.')}`));
      const posts = front.log.slice(from).filter((e) => e.method === 'POST');
      assert.ok(posts.length > 0, 'docker used the OAuth2 POST');
      for (const p of posts) assert.deepEqual(p.form, { client_id: 'docker', grant_type: 'refresh_token', refresh_token: '…', scope: `repository:${repo}:pull,push`, service: 'vouch' });
      const inspect = await docker.ok('trust', 'inspect', repo);
      assert.match(inspect.stdout, /"Name": "alice"/);

      const bobDocker = await DockerTrust.create({ url: server.url, caFile: server.caFile, home: await home('docker-bob') });
      assert.equal((await bobDocker.run(['login', front.host, '-u', 'bob', '--password-stdin'], { input: `${PASSWORDS['bob']}\n` })).code, 0);
      await bobDocker.ok('trust', 'key', 'generate', 'bobkey', '--dir', keys);
      const refused = await bobDocker.run(['trust', 'signer', 'add', '--key', join(keys, 'bobkey.pub'), 'bobkey', `${front.host}/alice/img2`]);
      assert.notEqual(refused.code, 0, describeResult(['docker', 'trust', 'signer', 'add'], refused));
      assert.doesNotMatch(refused.stdout, /Successfully/);
      assert.match(refused.stderr, /you are not authorized to perform this operation: server returned 401/);
      await bobDocker.ok('trust', 'signer', 'add', '--key', join(keys, 'bobkey.pub'), 'bobkey', `${front.host}/bob/img`);
    });

    it('deleting trust data needs "*": refused to the namespace owner, allowed to an admin', async () => {
      const alice = await notary('alice', aliceTrust);
      const denied = await alice.run(['delete', '--remote', GUN]);
      assert.notEqual(denied.code, 0, describeResult(['notary', 'delete'], denied));
      assert.match(denied.stdout + denied.stderr, /you are not authorized to perform this operation: server returned 401/);
      const root = await notary('root');
      await root.ok('delete', '--remote', GUN);
      const list = await root.run(['list', GUN]);
      assert.notEqual(list.code, 0, 'the trust data is gone');
      assert.match(list.stdout + list.stderr, /does not have trust data|No valid trust data/);
    });
  });
}
