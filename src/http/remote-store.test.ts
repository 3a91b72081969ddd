import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyToJSON, generatePrivateKey } from '../crypto/index.ts';
import { ConfigError, DeserializationError, NotFoundError } from '../errors/index.ts';
import { multipartBoundary, partFileName, splitMultipart } from '../server/multipart.ts';
import { InvalidOperationError, MetaNotFoundError, NetworkError, OfflineError, RemoteValidationError, ServerUnavailableError } from './client-errors.ts';
import type { FetchRequest, FetchResponse, Fetcher } from './fetcher.ts';
import { HttpRemoteStore, MAX_DOWNLOAD_SIZE, OfflineRemoteStore, connectTrustServer, loadTlsOptions, multipartUpload } from './remote-store.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function fake(answer: (req: FetchRequest) => Partial<FetchResponse> | Error): Fetcher & { requests: FetchRequest[] } {
  const requests: FetchRequest[] = [];
  return {
    requests,
    fetch: async (req) => {
      requests.push(req);
      const a = answer(req);
      if (a instanceof Error) throw a;
      return { status: a.status ?? 200, headers: a.headers ?? {}, body: a.body ?? new Uint8Array(0) };
    },
  };
}

const GUN = 'example.com/spec/app';
const errorBody = (detail: unknown): Uint8Array => enc(JSON.stringify({ errors: [{ code: 'INVALID_UPDATE', message: 'Update sent by the client is invalid.', detail }] }) + '\n');

describe('HttpRemoteStore (spec §5.1–5.3)', () => {
  it('GETs current, by-checksum and by-version files with the size limit', async () => {
    const f = fake(() => ({ body: enc('{}') }));
    const store = new HttpRemoteStore({ serverUrl: 'https://127.0.0.1:4443/', gun: GUN, fetcher: f });
    assert.equal(store.location, '127.0.0.1:4443');
    await store.getMeta('root', -1);
    await store.getMeta('snapshot', 682, { checksum: 'ab'.repeat(32) });
    await store.getMeta('root', Infinity, { version: 2 });
    await store.getMeta('targets/releases', 10 * MAX_DOWNLOAD_SIZE);
    assert.deepEqual(
      f.requests.map((r) => [r.method ?? 'GET', r.url, r.maxLength]),
      [
        ['GET', `https://127.0.0.1:4443/v2/${GUN}/_trust/tuf/root.json`, MAX_DOWNLOAD_SIZE],
        ['GET', `https://127.0.0.1:4443/v2/${GUN}/_trust/tuf/snapshot.${'ab'.repeat(32)}.json`, 682],
        ['GET', `https://127.0.0.1:4443/v2/${GUN}/_trust/tuf/2.root.json`, MAX_DOWNLOAD_SIZE],
        ['GET', `https://127.0.0.1:4443/v2/${GUN}/_trust/tuf/targets/releases.json`, MAX_DOWNLOAD_SIZE],
      ],
    );
    await assert.rejects(store.getMeta('snapshot', 1, { checksum: '../x' }), TypeError);
  });

  it("maps statuses to notary's client errors", async () => {
    const answers = new Map<string, Partial<FetchResponse>>([
      ['root.json', { status: 404, body: enc('{"errors":[{"code":"METADATA_NOT_FOUND","message":"…","detail":{}}]}') }],
      ['2.root.json', { status: 404 }],
      ['timestamp.json', { status: 401 }],
      ['snapshot.json', { status: 503 }],
      ['targets.json', { status: 400, body: enc('garbage') }],
    ]);
    const f = fake((req) => answers.get(req.url.split('/_trust/tuf/')[1] ?? '') ?? { status: 200 });
    const store = new HttpRemoteStore({ serverUrl: 'https://h', gun: GUN, fetcher: f });
    await assert.rejects(store.getMeta('root', 10), (e) => {
      return e instanceof MetaNotFoundError && e instanceof NotFoundError && e.resource === 'root' && e.message === 'root trust data unavailable.  Has a notary repository been initialized?';
    });
    await assert.rejects(store.getMeta('root', 10, { version: 2 }), (e) => e instanceof MetaNotFoundError && e.message.startsWith('2.root trust data unavailable.'));
    await assert.rejects(store.getMeta('timestamp', 10), (e) => e instanceof ServerUnavailableError && e.status === 401 && e.message === 'you are not authorized to perform this operation: server returned 401.');
    await assert.rejects(store.getMeta('snapshot', 10), (e) => e instanceof ServerUnavailableError && e.message === 'unable to reach trust server at this time: 503.');
    await assert.rejects(store.getMeta('targets', 10), (e) => e instanceof InvalidOperationError && e.message === 'trust server rejected operation.');
  });

  it('re-hydrates a 400 validation detail (one error with {Name, Error}); other 400 bodies are a plain rejection', async () => {
    let body = errorBody({ Name: 'ErrBadTargets', Error: { Msg: 'valid signatures did not meet threshold for targets' } });
    const f = fake(() => ({ status: 400, body }));
    const store = new HttpRemoteStore({ serverUrl: 'https://h', gun: GUN, fetcher: f });
    const parts = new Map([['targets', enc('{}')]]);
    await assert.rejects(store.publish(parts), (e) => {
      return e instanceof RemoteValidationError && e.wireName === 'ErrBadTargets' && e.status === 400 && e.message === 'The targets metadata is invalid: valid signatures did not meet threshold for targets';
    });
    body = errorBody({ Name: 'ErrBadHierarchy', Error: { Missing: 'snapshot', Msg: 'no snapshot was included in update and server does not hold current snapshot key for repository' } });
    await assert.rejects(store.publish(parts), (e) => e instanceof RemoteValidationError && e.missing === 'snapshot' && e.message.startsWith('Metadata hierarchy is incomplete: no snapshot'));
    for (const [name, prefix] of [['ErrBadRoot', 'The root metadata is invalid: '], ['ErrBadSnapshot', 'The snapshot metadata is invalid: '], ['ErrValidation', 'An error occurred during validation: ']]) {
      body = errorBody({ Name: name, Error: { Msg: 'm' } });
      await assert.rejects(store.publish(parts), (e) => e instanceof RemoteValidationError && e.message === `${prefix}m`);
    }
    body = enc(JSON.stringify({ errors: [{ code: 'VERSION', message: 'A newer version of metadata is already available.', detail: {} }] }));
    await assert.rejects(store.publish(parts), (e) => e instanceof InvalidOperationError);
    body = errorBody({ Name: 'ErrUnknown', Error: { Msg: 'm' } });
    await assert.rejects(store.publish(parts), (e) => e instanceof InvalidOperationError);
  });

  it('publishes one multipart body (field files, filename = role) that the server parser reads back', async () => {
    const f = fake(() => ({ status: 200 }));
    const store = new HttpRemoteStore({ serverUrl: 'https://h', gun: GUN, fetcher: f });
    const parts = new Map([
      ['root', enc('{"signed":1}')],
      ['targets/releases', enc('{"signed":2}\r\n--not-a-boundary')],
    ]);
    await store.publish(parts);
    const req = f.requests[0] as FetchRequest;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, `https://h/v2/${GUN}/_trust/tuf/`);
    const boundary = multipartBoundary(req.headers?.['Content-Type']);
    assert.ok(boundary !== null && /^[0-9a-f]{60}$/.test(boundary));
    const got = [...splitMultipart(Buffer.from(req.body as Uint8Array), boundary)].map((p) => [partFileName(p), Buffer.from(p.body).toString()]);
    assert.deepEqual(got, [
      ['root', '{"signed":1}'],
      ['targets/releases', '{"signed":2}\r\n--not-a-boundary'],
    ]);
    const fixed = multipartUpload(new Map([['a"b', enc('x')]]), 'B');
    assert.equal(new TextDecoder().decode(fixed.body), '--B\r\nContent-Disposition: form-data; name="files"; filename="a\\"b"\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n--B--\r\n');
  });

  it('reads server keys; refuses a bad key body; DELETE and key rotation use their routes', async () => {
    const key = generatePrivateKey('ecdsa').publicKey;
    const f = fake((req) => (req.url.endsWith('snapshot.key') ? { body: enc(JSON.stringify(keyToJSON(key))) } : req.url.endsWith('timestamp.key') ? { body: enc('nope') } : {}));
    const store = new HttpRemoteStore({ serverUrl: 'https://h', gun: GUN, fetcher: f });
    assert.deepEqual(await store.getKey('snapshot'), key);
    assert.deepEqual(await store.rotateKey('snapshot'), key);
    await assert.rejects(store.getKey('timestamp'), DeserializationError);
    await store.deleteAll();
    assert.deepEqual(f.requests.map((r) => `${r.method} ${r.url}`), [
      `GET https://h/v2/${GUN}/_trust/tuf/snapshot.key`,
      `POST https://h/v2/${GUN}/_trust/tuf/snapshot.key`,
      `GET https://h/v2/${GUN}/_trust/tuf/timestamp.key`,
      `DELETE https://h/v2/${GUN}/_trust/tuf/`,
    ]);
  });
});

describe('connectTrustServer (spec §7.4 ping)', () => {
  it('goes offline when the ping fails or answers neither 2xx nor 401', async () => {
    const down = await connectTrustServer({ serverUrl: 'https://127.0.0.1:9', gun: GUN, access: 'readOnly', fetcher: fake(() => new NetworkError('connection refused')) });
    assert.equal(down.online, false);
    assert.match(down.offlineReason ?? '', /connection refused/);
    assert.ok(down.remote instanceof OfflineRemoteStore);
    await assert.rejects(down.remote.getMeta('root', 1), (e) => e instanceof OfflineError && e.message === 'client is offline');
    await assert.rejects(down.remote.publish(new Map()), OfflineError);
    const teapot = await connectTrustServer({ serverUrl: 'https://h', gun: GUN, access: 'readOnly', fetcher: fake(() => ({ status: 500 })) });
    assert.equal(teapot.online, false);
  });

  it('pings GET /v2/ (5 s), learns the challenge of a 401 and authorizes later requests', async () => {
    const f = fake((req) => {
      if (req.url === 'https://h/prefix/v2/') return { status: 401, headers: { 'www-authenticate': 'Bearer realm="https://h/auth",service="svc"' } };
      if (req.url.startsWith('https://h/auth')) return { body: enc('{"token":"T"}') };
      return req.headers?.['Authorization'] === 'Bearer T' ? { body: enc('root') } : { status: 401 };
    });
    const c = await connectTrustServer({ serverUrl: 'https://h/prefix/', gun: GUN, access: 'readWrite', fetcher: f, credentials: () => undefined });
    assert.equal(c.online, true);
    assert.equal(f.requests[0]?.timeoutMs, 5_000);
    assert.deepEqual(await c.remote.getMeta('root', 100), enc('root'));
    assert.equal(f.requests.at(-1)?.url, `https://h/prefix/v2/${GUN}/_trust/tuf/root.json`);
    const open = await connectTrustServer({ serverUrl: 'https://h', gun: GUN, access: 'readOnly', fetcher: fake(() => ({ status: 200, body: enc('{}') })) });
    assert.equal(open.online, true);
    assert.ok(open.remote instanceof HttpRemoteStore);
  });

  it('refuses bad URLs and TLS settings with ConfigError', async () => {
    await assert.rejects(connectTrustServer({ serverUrl: 'notaurl', gun: GUN, access: 'readOnly' }), ConfigError);
    await assert.rejects(connectTrustServer({ serverUrl: 'ftp://h', gun: GUN, access: 'readOnly' }), ConfigError);
    await assert.rejects(loadTlsOptions({ clientCert: '/x.crt' }), (e) => e instanceof ConfigError && e.message === 'either pass both client key and cert, or neither');
    await assert.rejects(loadTlsOptions({ rootCA: '/nonexistent/ca.crt' }), (e) => e instanceof ConfigError && e.message.startsWith('unable to configure TLS: '));
    assert.deepEqual(await loadTlsOptions({ skipTLSVerify: true }), { skipTLSVerify: true });
  });
});
