/**
 * The vouch CLI through token auth (spec §7.4): credentials from `NOTARY_AUTH`, the scopes
 * notary asks for (`pull` for reads, `push,pull` for publishes, `*` for delete --remote and key
 * rotate), and the same outcomes and words as the notary CLI for a writer, a pull-only reader
 * and an anonymous client — against notary-server and vouch server configured with
 * `auth.type: token` and a small docker-token-spec endpoint.
 *
 * Run: ./node_modules/.bin/node --test test/cli/auth.test.ts
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
import { describe2, VouchCli, type CliResult } from './support.ts';

const ACCOUNTS: Readonly<Record<string, { password: string; may: readonly string[] }>> = {
  writer: { password: 'writer-pw', may: ['pull', 'push', '*'] },
  reader: { password: 'reader-pw', may: ['pull'] },
};

interface TokenEndpoint {
  readonly server: Server;
  readonly port: number;
  /** Query strings of the token requests, in order. */
  readonly queries: string[];
}

/** Basic credentials in, a token for the asked scopes cut to the account's rights out; anonymous gets none. */
function startTokenEndpoint(issuer: TestTokenIssuer, tls: { key: Buffer; cert: Buffer }): Promise<TokenEndpoint> {
  const queries: string[] = [];
  const server = createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    queries.push(url.search);
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    let may: readonly string[] = [];
    if (m !== null) {
      const [user, password] = Buffer.from(m[1] as string, 'base64').toString().split(':');
      const account = ACCOUNTS[user ?? ''];
      if (account === undefined || account.password !== password) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"details":"invalid credentials"}');
        return;
      }
      may = account.may;
    }
    const access: MintAccess[] = [];
    for (const scope of url.searchParams.getAll('scope')) {
      const [type = '', name = '', actions = ''] = scope.split(':');
      const granted = actions.split(',').filter((a) => may.includes(a));
      if (granted.length > 0) access.push({ type, name, actions: granted });
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: issuer.mint({ access, exp: Math.floor(Date.now() / 1000) + 300 }), expires_in: 300 }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, queries })));
}

function authEnv(base: NodeJS.ProcessEnv, user: string | undefined): NodeJS.ProcessEnv {
  if (user === undefined) return base;
  return { ...base, NOTARY_AUTH: Buffer.from(`${user}:${ACCOUNTS[user]?.password}`).toString('base64') };
}

for (const target of selectedTargets()) {
  describe(`vouch CLI through token auth, against ${target}`, { timeout: 300_000 }, () => {
    let dir = '';
    let server: ServerHandle;
    let tokens: TokenEndpoint;
    const gun = 'example.com/cli-auth/app';
    const sha = 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';

    before(async () => {
      dir = await tempDir(`cli-auth-${target}`);
      const pki = await makePki(dir);
      const issuer = await createTestTokenIssuer({ service: 'notary-test', issuer: 'test-issuer' });
      tokens = await startTokenEndpoint(issuer, { key: await readFile(pki.keyFile), cert: await readFile(pki.certFile) });
      const bundle = join(dir, 'token-root.crt');
      await issuer.writeRootBundle(bundle);
      server = await startServer(target, {
        pki,
        dir,
        extraConfig: {
          auth: { type: 'token', options: { realm: `https://127.0.0.1:${tokens.port}/token`, service: 'notary-test', issuer: 'test-issuer', rootcertbundle: bundle } },
        },
      });
    });
    after(async () => {
      await server?.stop();
      tokens?.server.close();
      if (dir !== '') await removeDir(dir);
    });

    const clis = (name: string, trustDir?: string): { vouch: VouchCli; notary: NotaryCli } => {
      const home = join(dir, name);
      mkdirSync(home, { recursive: true });
      const td = trustDir ?? join(home, 'trust');
      return {
        vouch: new VouchCli({ url: server.url, caFile: server.caFile, home, trustDir: td }),
        notary: new NotaryCli({ url: server.url, caFile: server.caFile, home, trustDir: td }),
      };
    };

    const vouchAs = (cli: VouchCli, user: string | undefined, args: string[], input?: string): Promise<CliResult> =>
      cli.run(args, { env: authEnv(cli.env(), user), ...(input === undefined ? {} : { input }) });

    it('a writer initialises and publishes with push,pull tokens and reads with pull tokens', async () => {
      const { vouch } = clis('writer');
      let r = await vouchAs(vouch, 'writer', ['init', '-p', gun]);
      assert.equal(r.code, 0, describe2('vouch init -p', r));
      r = await vouchAs(vouch, 'writer', ['addhash', '-p', gun, 'v1', '11', '--sha256', sha]);
      assert.equal(r.code, 0, describe2('vouch addhash -p', r));
      r = await vouchAs(vouch, 'writer', ['list', gun]);
      assert.equal(r.code, 0, describe2('vouch list', r));
      assert.match(r.stdout, new RegExp(`^v1 +${sha} +11 +targets$`, 'm'));
      const scopes = tokens.queries.join('\n');
      assert.match(scopes, /scope=repository%3Aexample\.com%2Fcli-auth%2Fapp%3Apush%2Cpull/);
      assert.match(scopes, /scope=repository%3Aexample\.com%2Fcli-auth%2Fapp%3Apull/);
      assert.match(scopes, /account=writer/);
    });

    it('a pull-only reader holding the keys reads but is refused on publish and delete, as notary is', async () => {
      const { vouch } = clis('reader', join(dir, 'writer', 'trust'));
      const notary = new (class extends NotaryCli {
        override env(): NodeJS.ProcessEnv {
          return authEnv(super.env(), 'reader');
        }
      })({ url: server.url, caFile: server.caFile, home: vouch.home, trustDir: vouch.trustDir });
      const list = await vouchAs(vouch, 'reader', ['list', gun]);
      assert.equal(list.code, 0, describe2('vouch list', list));
      assert.equal(list.stdout, (await notary.run(['list', gun])).stdout);

      const pv = await vouchAs(vouch, 'reader', ['addhash', '-p', gun, 'v2', '11', '--sha256', sha]);
      await vouch.run(['reset', '--all', gun]);
      const pn = await notary.run(['addhash', '-p', gun, 'v2', '11', '--sha256', sha]);
      await vouch.run(['reset', '--all', gun]);
      assert.equal(pv.code, 1, describe2('vouch addhash -p as reader', pv));
      assert.match(pv.stdout, /\* fatal: you are not authorized to perform this operation: server returned 401\.\n$/);
      assert.equal(pv.stdout, pn.stdout);

      // deleting remote data needs '*'
      const dv = await vouchAs(vouch, 'reader', ['delete', '--remote', gun]);
      const dn = await notary.run(['delete', '--remote', gun]);
      assert.equal(dv.code, 1, describe2('vouch delete --remote as reader', dv));
      assert.equal(dv.stdout, dn.stdout);
      assert.equal(dv.code, dn.code);
      assert.match(tokens.queries.join('\n'), /account=reader&scope=repository%3Aexample\.com%2Fcli-auth%2Fapp%3A%2A/);
    });

    it('without credentials: the same refusal as notary', async () => {
      const { vouch, notary } = clis('anonymous');
      const rv = await vouch.run(['list', gun]);
      const rn = await notary.run(['list', gun]);
      assert.notEqual(rv.code, 0);
      assert.equal(rv.code, rn.code);
      assert.equal(rv.stdout, rn.stdout);
    });

    it('on a terminal, the username and password are asked once and used', async () => {
      const { vouch } = clis('typing');
      const r = await vouch.run(['list', gun], { isTTY: true, input: 'writer\nwriter-pw\n' });
      assert.equal(r.code, 0, describe2('vouch list with typed credentials', r));
      assert.match(r.stdout, /^Enter username: Enter password: \nNAME {4}/);
      assert.match(tokens.queries.join('\n'), /account=writer&scope=repository%3Aexample\.com%2Fcli-auth%2Fapp%3Apull/);
    });
  });
}
