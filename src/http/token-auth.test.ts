import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenError } from './client-errors.ts';
import type { FetchRequest, FetchResponse, Fetcher } from './fetcher.ts';
import {
  AuthorizingFetcher,
  TokenAuthenticator,
  credentialsFromEnv,
  goQueryEscape,
  parseAuthChallenges,
  parseNotaryAuth,
  parseTokenResponse,
  tokenRequestUrl,
} from './token-auth.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A fake trust server + token endpoint: tokens are `tok-<n>` with the scope, anonymous gets `anon`. */
class FakeAuthServer implements Fetcher {
  readonly requests: FetchRequest[] = [];
  tokenCalls = 0;
  /** What the resource accepts. */
  accept = new Set<string>();
  anonymousToken: string | null = 'anon';
  user = { name: 'alice', pass: 's3cret' };
  expiresIn: number | undefined = 300;

  async fetch(req: FetchRequest): Promise<FetchResponse> {
    this.requests.push(req);
    const url = new URL(req.url);
    if (url.pathname === '/auth') {
      this.tokenCalls++;
      const auth = req.headers?.['Authorization'];
      if (auth === undefined) {
        if (this.anonymousToken === null) return { status: 401, headers: {}, body: enc('{}') };
        return this.#token(this.anonymousToken);
      }
      if (auth !== `Basic ${b64(`${this.user.name}:${this.user.pass}`)}`) return { status: 401, headers: {}, body: enc('{}') };
      return this.#token(`tok-${this.tokenCalls} ${url.searchParams.get('scope')}`);
    }
    const auth = req.headers?.['Authorization'];
    if (auth !== undefined && this.accept.has(auth)) return { status: 200, headers: {}, body: enc('ok') };
    return {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="https://auth.test/auth",service="notary-test",scope="repository:foo/bar:pull"' },
      body: enc('{"errors":[]}'),
    };
  }

  #token(token: string): FetchResponse {
    const body: Record<string, unknown> = { token };
    if (this.expiresIn !== undefined) body['expires_in'] = this.expiresIn;
    return { status: 200, headers: {}, body: enc(JSON.stringify(body)) };
  }
}

describe('WWW-Authenticate challenges', () => {
  it('parses Bearer parameters, several challenges and quoted escapes', () => {
    assert.deepEqual(parseAuthChallenges('Bearer realm="https://auth.example/token",service="notary-test",scope="repository:foo/bar:push,pull"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'notary-test', scope: 'repository:foo/bar:push,pull' } },
    ]);
    assert.deepEqual(parseAuthChallenges(['Basic realm="x\\"y"', 'Bearer realm=plain, error="invalid_token"']), [
      { scheme: 'basic', params: { realm: 'x"y' } },
      { scheme: 'bearer', params: { realm: 'plain', error: 'invalid_token' } },
    ]);
    assert.deepEqual(parseAuthChallenges('Basic realm="a", Bearer realm="b"'), [
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'b' } },
    ]);
    assert.deepEqual(parseAuthChallenges(undefined), []);
  });
});

describe('credentials (NOTARY_AUTH)', () => {
  it('base64 user:pass, password trimmed; nothing for bad input', async () => {
    assert.deepEqual(parseNotaryAuth(b64('alice:pa:ss \n')), { username: 'alice', password: 'pa:ss' });
    assert.equal(parseNotaryAuth(b64(':nouser')), undefined);
    assert.equal(parseNotaryAuth(b64('nocolon')), undefined);
    assert.equal(parseNotaryAuth(''), undefined);
    assert.equal(parseNotaryAuth(undefined), undefined);
    assert.deepEqual(await credentialsFromEnv({ NOTARY_AUTH: b64('bob:pw') })('realm'), { username: 'bob', password: 'pw' });
    assert.equal(await credentialsFromEnv({})('realm'), undefined);
  });
});

describe('token requests (spec §7.4)', () => {
  it('builds the realm query as Go does (sorted keys, QueryEscape)', () => {
    assert.equal(
      tokenRequestUrl('https://127.0.0.1:5001/auth', { scope: 'repository:foo/bar:push,pull', service: 'notary-test', account: 'alice' }),
      'https://127.0.0.1:5001/auth?account=alice&scope=repository%3Afoo%2Fbar%3Apush%2Cpull&service=notary-test',
    );
    assert.equal(goQueryEscape('repository:a/b:*'), 'repository%3Aa%2Fb%3A%2A');
    assert.equal(goQueryEscape("a b!'()~"), 'a+b%21%27%28%29~');
    assert.equal(tokenRequestUrl('https://a/t?z=1&a=2', { m: 'x' }), 'https://a/t?a=2&m=x&z=1');
  });

  it('accepts token or access_token; refuses a response without one', () => {
    assert.deepEqual(parseTokenResponse(enc('{"access_token":"at","expires_in":120,"issued_at":"2030-01-01T00:00:00Z"}')), {
      token: 'at',
      expiresIn: 120,
      issuedAt: Date.parse('2030-01-01T00:00:00Z'),
    });
    assert.throws(() => parseTokenResponse(enc('{"expires_in":1}')), TokenError);
    assert.throws(() => parseTokenResponse(enc('nope')), TokenError);
  });
});

describe('AuthorizingFetcher', () => {
  it('read-write: learns the challenge from a 401, fetches a token with Basic credentials and retries; the token is cached until expiry', async () => {
    const srv = new FakeAuthServer();
    let now = Date.parse('2030-01-01T00:00:00Z');
    const authn = new TokenAuthenticator({ fetcher: srv, gun: 'foo/bar', access: 'readWrite', credentials: () => ({ username: 'alice', password: 's3cret' }), now: () => now });
    assert.equal(authn.scope, 'repository:foo/bar:push,pull');
    srv.accept.add('Bearer tok-1 repository:foo/bar:push,pull');
    const f = new AuthorizingFetcher(srv, authn);
    const r = await f.fetch({ url: 'https://trust.test/v2/foo/bar/_trust/tuf/root.json', maxLength: 100 });
    assert.equal(r.status, 200);
    const tokenReq = srv.requests.find((q) => q.url.startsWith('https://auth.test/'));
    assert.equal(tokenReq?.url, 'https://auth.test/auth?account=alice&scope=repository%3Afoo%2Fbar%3Apush%2Cpull&service=notary-test');
    assert.equal(tokenReq?.headers?.['Authorization'], `Basic ${b64('alice:s3cret')}`);
    // cached: no new token request
    await f.fetch({ url: 'https://trust.test/v2/foo/bar/_trust/tuf/timestamp.json', maxLength: 100 });
    assert.equal(srv.tokenCalls, 1);
    // after expiry a new token is fetched (and this one is not accepted any more)
    now += 301_000;
    srv.accept.add('Bearer tok-2 repository:foo/bar:push,pull');
    const again = await f.fetch({ url: 'https://trust.test/v2/foo/bar/_trust/tuf/timestamp.json', maxLength: 100 });
    assert.equal(again.status, 200);
    assert.equal(srv.tokenCalls, 2);
  });

  it('tokens live at least 60 s even when the server says less', async () => {
    const srv = new FakeAuthServer();
    srv.expiresIn = 5;
    let now = 0;
    const authn = new TokenAuthenticator({ fetcher: srv, gun: 'foo/bar', access: 'admin', credentials: () => ({ username: 'alice', password: 's3cret' }), now: () => now });
    authn.learn('Bearer realm="https://auth.test/auth",service="notary-test"');
    assert.equal(await authn.authorization('credentials'), 'Bearer tok-1 repository:foo/bar:*');
    now = 59_000;
    assert.equal(await authn.authorization('credentials'), 'Bearer tok-1 repository:foo/bar:*');
    now = 61_000;
    assert.equal(await authn.authorization('credentials'), 'Bearer tok-2 repository:foo/bar:*');
  });

  it('read-only: tries an anonymous token first, then one with credentials when the server still says 401', async () => {
    const srv = new FakeAuthServer();
    const authn = new TokenAuthenticator({ fetcher: srv, gun: 'foo/bar', access: 'readOnly', credentials: () => ({ username: 'alice', password: 's3cret' }) });
    authn.learn('Bearer realm="https://auth.test/auth",service="notary-test",scope="registry:catalog:*"');
    const f = new AuthorizingFetcher(srv, authn);
    srv.accept.add('anon-never');
    srv.accept.add('Bearer tok-2 repository:foo/bar:pull');
    const r = await f.fetch({ url: 'https://trust.test/v2/foo/bar/_trust/tuf/root.json', maxLength: 100 });
    assert.equal(r.status, 200);
    const tokenReqs = srv.requests.filter((q) => q.url.startsWith('https://auth.test/'));
    assert.equal(tokenReqs[0]?.headers?.['Authorization'], undefined);
    assert.equal(tokenReqs[0]?.url, 'https://auth.test/auth?scope=repository%3Afoo%2Fbar%3Apull&service=notary-test');
    assert.equal(tokenReqs[1]?.headers?.['Authorization'], `Basic ${b64('alice:s3cret')}`);

    // an anonymous token that works is enough
    const srv2 = new FakeAuthServer();
    srv2.accept.add('Bearer anon');
    const ro = new AuthorizingFetcher(srv2, new TokenAuthenticator({ fetcher: srv2, gun: 'foo/bar', access: 'readOnly' }));
    assert.equal((await ro.fetch({ url: 'https://trust.test/x', maxLength: 10 })).status, 200);
    assert.equal(srv2.tokenCalls, 1);
  });

  it('read-only without credentials returns the 401; a refused anonymous token request falls through to credentials', async () => {
    const srv = new FakeAuthServer();
    const f = new AuthorizingFetcher(srv, new TokenAuthenticator({ fetcher: srv, gun: 'foo/bar', access: 'readOnly' }));
    assert.equal((await f.fetch({ url: 'https://trust.test/x', maxLength: 10 })).status, 401);

    const srv2 = new FakeAuthServer();
    srv2.anonymousToken = null;
    srv2.accept.add('Bearer tok-2 repository:foo/bar:pull');
    const authn = new TokenAuthenticator({ fetcher: srv2, gun: 'foo/bar', access: 'readOnly', credentials: () => ({ username: 'alice', password: 's3cret' }) });
    authn.learn('Bearer realm="https://auth.test/auth",service="notary-test"');
    assert.equal((await new AuthorizingFetcher(srv2, authn).fetch({ url: 'https://trust.test/x', maxLength: 10 })).status, 200);

    // read-write with wrong credentials: the token endpoint's refusal is the error
    const srv3 = new FakeAuthServer();
    const rw = new TokenAuthenticator({ fetcher: srv3, gun: 'foo/bar', access: 'readWrite', credentials: () => ({ username: 'alice', password: 'wrong' }) });
    rw.learn('Bearer realm="https://auth.test/auth",service="notary-test"');
    await assert.rejects(new AuthorizingFetcher(srv3, rw).fetch({ url: 'https://trust.test/x', maxLength: 10 }), (e) => e instanceof TokenError && e.status === 401);
  });

  it('a Basic challenge gets Basic credentials', async () => {
    const srv: Fetcher = {
      fetch: async (req) =>
        req.headers?.['Authorization'] === `Basic ${b64('u:p')}`
          ? { status: 200, headers: {}, body: enc('') }
          : { status: 401, headers: { 'www-authenticate': 'Basic realm="trust"' }, body: enc('') },
    };
    const f = new AuthorizingFetcher(srv, new TokenAuthenticator({ fetcher: srv, gun: 'g', access: 'readWrite', credentials: () => ({ username: 'u', password: 'p' }) }));
    assert.equal((await f.fetch({ url: 'https://t/x', maxLength: 1 })).status, 200);
  });
});
