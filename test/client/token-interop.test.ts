/**
 * Interop of the client's docker token auth (spec §7.4) with servers running `auth.type: token`:
 * the notary CLI publishes with push rights, the vouch updater reads with pull rights through
 * connectTrustServer (ping → challenge → token from the realm with Basic credentials → Bearer).
 * A small HTTPS token endpoint mints distribution-style tokens with the test issuer's key.
 *
 * Run: ./node_modules/.bin/node --test test/client/token-interop.test.ts
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestTokenIssuer, type MintAccess, type TestTokenIssuer } from '../../src/auth/testing.ts';
import { FileMetadataCache } from '../../src/client/cache.ts';
import { Updater } from '../../src/client/updater.ts';
import { getTargetByName } from '../../src/client/walk.ts';
import { ServerUnavailableError } from '../../src/http/client-errors.ts';
import { connectTrustServer } from '../../src/http/remote-store.ts';
import type { Credentials } from '../../src/http/token-auth.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { makePki, removeDir, tempDir } from '../support/pki.ts';
import { selectedTargets, startServer, type ServerHandle } from '../support/servers.ts';

const USERS: Record<string, { password: string; actions: string[] }> = {
  owner: { password: 'owner-pw', actions: ['pull', 'push', '*'] },
  reader: { password: 'reader-pw', actions: ['pull'] },
};

interface TokenServer {
  readonly server: Server;
  readonly port: number;
  /** Query strings of the token requests, with the Basic user ('' when anonymous). */
  readonly requests: { user: string; query: string }[];
}

/** Anonymous requests get a token without access; users get the requested actions they hold. */
function tokenServer(issuer: TestTokenIssuer, tls: { key: Buffer; cert: Buffer }): Promise<TokenServer> {
  const requests: { user: string; query: string }[] = [];
  const server = createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [user = '', pass = ''] = m === null ? [] : Buffer.from(m[1] as string, 'base64').toString().split(':');
    requests.push({ user, query: url.search });
    const account = m === null ? { password: '', actions: [] } : USERS[user];
    if (account === undefined || (m !== null && account.password !== pass)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"invalid credentials"}');
      return;
    }
    const access: MintAccess[] = [];
    for (const scope of url.searchParams.getAll('scope')) {
      const [type = '', name = '', actions = ''] = scope.split(':');
      const granted = actions.split(',').filter((a) => account.actions.includes(a));
      if (granted.length > 0) access.push({ type, name, actions: granted });
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: issuer.mint({ access, exp: Math.floor(Date.now() / 1000) + 300 }), expires_in: 300 }));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve({ server, port: (server.address() as { port: number }).port, requests });
    });
  });
}

class OwnerCli extends NotaryCli {
  override env(): NodeJS.ProcessEnv {
    return { ...super.env(), NOTARY_AUTH: Buffer.from(`owner:${USERS['owner']?.password}`).toString('base64') };
  }
}

for (const target of selectedTargets()) {
  describe(`vouch client token auth against ${target}`, { timeout: 300_000 }, () => {
    let dir = '';
    let server: ServerHandle;
    let tokens: TokenServer;
    const gun = 'example.com/client/token';

    before(async () => {
      dir = await tempDir(`client-token-${target}`);
      const pki = await makePki(dir);
      const issuer = await createTestTokenIssuer({ service: 'notary-test', issuer: 'test-issuer' });
      tokens = await tokenServer(issuer, { key: await readFile(pki.keyFile), cert: await readFile(pki.certFile) });
      const bundle = join(dir, 'token-root.crt');
      await issuer.writeRootBundle(bundle);
      server = await startServer(target, {
        pki,
        dir,
        extraConfig: {
          auth: { type: 'token', options: { realm: `https://127.0.0.1:${tokens.port}/token`, service: 'notary-test', issuer: 'test-issuer', rootcertbundle: bundle } },
        },
      });
      const home = join(dir, 'owner');
      await mkdir(home, { recursive: true });
      const owner = new OwnerCli({ url: server.url, caFile: server.caFile, home });
      await owner.ok('init', '-p', gun);
      await owner.ok('addhash', '-p', gun, 'v1', '11', '--sha256', 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    });

    after(async () => {
      await server?.stop();
      tokens?.server.close();
      if (dir !== '') await removeDir(dir);
    });

    const read = async (credentials: Credentials | undefined): Promise<ReturnType<Updater['update']>> => {
      const trustDir = join(dir, `reader-${Math.random().toString(16).slice(2)}`);
      const { remote, online } = await connectTrustServer({
        serverUrl: server.url,
        gun,
        access: 'readOnly',
        tls: { rootCA: server.caFile },
        credentials: () => credentials,
      });
      assert.equal(online, true);
      return new Updater({ gun, remote, cache: new FileMetadataCache(trustDir, gun) }).update();
    };

    it('a pull-only user reads: anonymous token first, then one with credentials and scope repository:<gun>:pull', async () => {
      tokens.requests.length = 0;
      const repo = await read({ username: 'reader', password: USERS['reader']?.password as string });
      assert.equal(getTargetByName(repo, 'v1').length, 11);
      const scope = 'scope=repository%3Aexample.com%2Fclient%2Ftoken%3Apull&service=notary-test';
      assert.deepEqual(tokens.requests, [
        { user: '', query: `?${scope}` },
        { user: 'reader', query: `?account=reader&${scope}` },
      ]);
    });

    it('without credentials the read is refused with notary\'s 401 text', async () => {
      await assert.rejects(read(undefined), (e) => {
        return e instanceof ServerUnavailableError && e.status === 401 && /you are not authorized to perform this operation: server returned 401\.$/.test(e.message);
      });
    });
  });
}
