/**
 * Token auth end to end: the real notary CLI gets bearer tokens from a docker-token-spec issuer
 * (a small https endpoint minting tokens with the test issuer's key) and talks to a server with
 * `auth.type: token`. notary-server and vouch must let the same users do the same things and
 * refuse the rest with the same messages.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestTokenIssuer, type MintAccess, type TestTokenIssuer } from '../../src/auth/testing.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { makePki, removeDir, tempDir } from '../support/pki.ts';
import { selectedTargets, startServer, type ServerHandle } from '../support/servers.ts';

/** user → [password, actions the issuer grants on any repository] */
const USERS: Record<string, [string, string[]]> = {
  alice: ['alice-secret', ['pull', 'push', '*']],
  reader: ['reader-secret', ['pull']],
};

/** The token endpoint: Basic auth → a token granting the requested scope, cut to what the user may do. */
function startTokenServer(issuer: TestTokenIssuer, tls: { key: Buffer; cert: Buffer }): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    requests.push(url.search);
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [user = '', pass = ''] = basic === null ? [] : Buffer.from(basic[1]!, 'base64').toString().split(':');
    // Anonymous requests get a token with no access, as docker's token servers answer them.
    const account = basic === null ? ['', []] as [string, string[]] : USERS[user];
    if (account === undefined || account[0] !== pass) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"details":"invalid credentials"}');
      return;
    }
    const access: MintAccess[] = [];
    for (const scope of url.searchParams.getAll('scope')) {
      const [type = '', name = '', actions = ''] = scope.split(':');
      const granted = actions.split(',').filter((a) => account[1].includes(a));
      if (granted.length > 0) access.push({ type, name, actions: granted });
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: issuer.mint({ access, exp: Math.floor(Date.now() / 1000) + 300 }), expires_in: 300 }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, requests })));
}

class AuthedNotary extends NotaryCli {
  readonly auth: string | undefined;
  constructor(base: NotaryCli, user: string | undefined) {
    super({ url: base.url, caFile: base.caFile, home: base.home, trustDir: base.trustDir });
    this.auth = user === undefined ? undefined : Buffer.from(`${user}:${USERS[user]![0]}`).toString('base64');
  }
  override env(): NodeJS.ProcessEnv {
    return { ...super.env(), ...(this.auth === undefined ? {} : { NOTARY_AUTH: this.auth }) };
  }
}

for (const target of selectedTargets()) {
  describe(`token auth against ${target}`, () => {
    let dir: string;
    let server: ServerHandle;
    let tokens: Awaited<ReturnType<typeof startTokenServer>>;
    const gun = 'example.com/auth/app';

    before(async () => {
      dir = await tempDir(`token-auth-${target}`);
      const pki = await makePki(dir);
      const issuer = await createTestTokenIssuer({ service: 'notary-test', issuer: 'test-issuer' });
      tokens = await startTokenServer(issuer, { key: await readFile(pki.keyFile), cert: await readFile(pki.certFile) });
      const bundle = join(dir, 'token-root.crt');
      await issuer.writeRootBundle(bundle);
      server = await startServer(target, {
        pki,
        dir,
        extraConfig: {
          auth: {
            type: 'token',
            options: { realm: `https://127.0.0.1:${tokens.port}/token`, service: 'notary-test', issuer: 'test-issuer', rootcertbundle: bundle },
          },
        },
      });
    });
    after(async () => {
      await server?.stop();
      tokens?.server.close();
      await removeDir(dir);
    });

    function cli(name: string, user: string | undefined, trustDir?: string): AuthedNotary {
      const home = join(dir, name);
      mkdirSync(home, { recursive: true });
      return new AuthedNotary(new NotaryCli({ url: server.url, caFile: server.caFile, home, trustDir: trustDir ?? join(home, 'trust') }), user);
    }

    it('a user with push rights initialises, publishes and lists', async () => {
      const alice = cli('alice', 'alice');
      await alice.ok('init', '-p', gun);
      const add = await alice.ok('addhash', '-p', gun, 'v1', '11', '--sha256', 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
      assert.match(add.stdout, /Successfully published changes for repository example.com\/auth\/app/, add.stdout + add.stderr);
      const list = await alice.ok('list', gun);
      assert.match(list.stdout, /^v1\s+b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\s+11\s+targets$/m);
      assert.ok(tokens.requests.some((q) => q.includes('scope=repository%3Aexample.com%2Fauth%2Fapp%3Apush%2Cpull')), tokens.requests.join('\n'));
    });

    it('a pull-only user reads but cannot publish, even holding the keys', async () => {
      const reader = cli('reader', 'reader', join(dir, 'alice', 'trust'));
      const list = await reader.ok('list', gun);
      assert.match(list.stdout, /^v1\s/m);
      const r = await reader.run(['addhash', '-p', gun, 'v2', '11', '--sha256', 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9']);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /you are not authorized to perform this operation: server returned 401/);
    });

    it('no credentials: reads and writes are refused', async () => {
      const anon = cli('anon', undefined);
      const r = await anon.run(['list', gun]);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /401|not authorized|credentials/i);
    });

    it('the server answers a missing token with the Bearer challenge notary-server sends', async () => {
      const { httpRequest } = await import('../support/http.ts');
      const r = await httpRequest({ url: server.url, caFile: server.caFile }, { path: `/v2/${gun}/_trust/tuf/root.json` });
      assert.equal(r.status, 401);
      assert.equal(
        r.headers['www-authenticate'],
        `Bearer realm="https://127.0.0.1:${tokens.port}/token",service="notary-test",scope="repository:${gun}:pull"`,
      );
    });
  });
}
