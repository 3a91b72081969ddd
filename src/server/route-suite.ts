/**
 * The trust server's route tests, run against every host of the dispatcher as the storage
 * conformance suite runs against every backend: the fastify app (app.test.ts) and the bare
 * node:http listener that `vouch server` runs (listener.test.ts). Requests go through
 * light-my-request (what fastify's inject() is), so both hosts see the same raw URLs. Expected
 * bodies marked "notary" were captured from the real notary-server 0.7 (memory store, TZ=UTC)
 * on loopback. A fake TrustService stands behind the routes.
 *
 *   runRouteSuite('fastify app', ({ service, config, metrics }) => buildTrustApp({ service, config, metrics }));
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerConfig, type ServerConfig } from '../config/index.ts';
import { StorageError, UpdateValidationError, KeyNotFoundError } from '../errors/index.ts';
import { FakeTrustService } from './fake-trust-service.ts';
import { createServerMetrics, type ServerMetrics } from './metrics.ts';

process.env['TZ'] = 'UTC';

export interface InjectOptions {
  readonly method: 'GET' | 'POST' | 'PUT' | 'HEAD' | 'DELETE' | 'OPTIONS' | 'PATCH';
  readonly url: string;
  readonly payload?: string;
  readonly headers?: Record<string, string>;
}

export interface Injected {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly body: string;
}

/** Something that answers requests in-process (no socket). */
export interface TrustHost {
  inject(o: InjectOptions): Promise<Injected>;
}

export type HostFactory = (deps: { service: FakeTrustService; config: ServerConfig; metrics: ServerMetrics }) => TrustHost;

const T0 = new Date(Date.UTC(2026, 10, 22, 3, 57, 54, 670));
const NOT_FOUND = '{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist."}]}\n';
const NOT_FOUND_DETAIL = '{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist.","detail":{}}]}\n';
const JSON_CT = 'application/json; charset=utf-8';
const TEXT_CT = 'text/plain; charset=utf-8';

function multipart(parts: [filename: string | null, body: string][], boundary = 'BOUNDARY'): { payload: string; headers: Record<string, string> } {
  let payload = '';
  for (const [filename, body] of parts) {
    const fn = filename === null ? '' : `; filename="${filename}"`;
    payload += `--${boundary}\r\nContent-Disposition: form-data; name="files"${fn}\r\nContent-Type: application/octet-stream\r\n\r\n${body}\r\n`;
  }
  payload += `--${boundary}--\r\n`;
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const meta = (v: number, extra = ''): string => `{"signed":{"_type":"Root","version":${v}${extra}},"signatures":[]}`;

export function runRouteSuite(name: string, host: HostFactory): void {
  function setup(raw: Record<string, unknown> = {}, opts: { maxUpload?: number } = {}) {
    const service = new FakeTrustService({ now: () => T0 });
    const config = parseServerConfig({ server: { http_addr: ':1', ...(opts.maxUpload ? { max_upload_bytes: opts.maxUpload } : {}) }, ...raw }, { env: {} });
    const metrics = createServerMetrics();
    const app = host({ service, config, metrics });
    return { app, service, metrics };
  }

  describe(`trust routes: ${name}`, () => {
    test('GET /v2/ answers {} as text/plain (notary)', async () => {
      const { app } = setup();
      const r = await app.inject({ method: 'GET', url: '/v2/' });
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['content-type'], TEXT_CT);
      assert.equal(r.body, '{}');
    });

    test('unmatched paths: 404 METADATA_NOT_FOUND without detail for GET/POST/PUT/HEAD/DELETE (notary)', async () => {
      const { app } = setup();
      for (const [method, url] of [
        ['GET', '/'],
        ['GET', '/v2'],
        ['GET', '/v2/foo/_trust/tuf/targets.key'],
        ['GET', '/v2/foo/_trust/tuf/targets/a b.json'],
        ['PUT', '/v2/foo/_trust/tuf/root.json'],
        ['POST', '/v2/'],
        ['DELETE', '/v2/foo/_trust/tuf/root.json'],
        ['POST', '/_notary_server/health'],
      ] as const) {
        const r = await app.inject({ method, url });
        assert.equal(r.statusCode, 404, `${method} ${url}`);
        assert.equal(r.headers['content-type'], JSON_CT);
        assert.equal(r.body, NOT_FOUND, `${method} ${url}`);
        assert.equal(r.headers['content-length'], '104');
      }
      const head = await app.inject({ method: 'HEAD', url: '/v2/foo/_trust/tuf/root.json' });
      assert.equal(head.statusCode, 404);
      assert.equal(head.headers['content-length'], '104');
    });

    test('other methods: 405 with an empty body and no content type (notary)', async () => {
      const { app } = setup();
      for (const method of ['OPTIONS', 'PATCH'] as const) {
        const r = await app.inject({ method, url: '/v2/' });
        assert.equal(r.statusCode, 405);
        assert.equal(r.body, '');
        assert.equal(r.headers['content-type'], undefined);
        assert.equal(r.headers['content-length'], '0');
      }
    });

    test('unclean paths are redirected 301 like gorilla/mux, query kept (notary)', async () => {
      const { app } = setup();
      const cases: [string, string][] = [
        ['/v2/foo//_trust/tuf/root.json?x=1', '/v2/foo/_trust/tuf/root.json?x=1'],
        ['/v2/a%20b//_trust/tuf/root.json', '/v2/a%20b/_trust/tuf/root.json'],
      ];
      for (const [from, to] of cases) {
        const r = await app.inject({ method: 'GET', url: from });
        assert.equal(r.statusCode, 301, from);
        assert.equal(r.headers['location'], to, from);
        assert.equal(r.body, '');
      }
      const bad = await app.inject({ method: 'GET', url: '/v2/%zz/_trust/tuf/root.json' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.body, '400 Bad Request');
    });

    test('current metadata: stored bytes verbatim, text/plain, Go Last-Modified, current cache policy (notary)', async () => {
      const { app, service } = setup();
      const bytes = meta(1, ',"x":"a\\u0026b"');
      service.put('example.com/app', 'root', 1, bytes);
      const r = await app.inject({ method: 'GET', url: '/v2/example.com/app/_trust/tuf/root.json' });
      assert.equal(r.statusCode, 200);
      assert.equal(r.body, bytes);
      assert.equal(r.headers['content-type'], TEXT_CT);
      assert.equal(r.headers['last-modified'], 'Sun, 22 Nov 2026 03:57:54 UTC');
      assert.equal(r.headers['cache-control'], 'public, max-age=300, s-maxage=300, must-revalidate');
      assert.equal(r.headers['pragma'], undefined);
      assert.equal(r.headers['etag'], undefined);
      assert.deepEqual(service.calls.at(-1), { method: 'getCurrent', args: ['example.com/app', 'root'] });
      const missing = await app.inject({ method: 'GET', url: '/v2/example.com/app/_trust/tuf/targets/rel.json' });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.body, NOT_FOUND_DETAIL);
      assert.equal(missing.headers['cache-control'], undefined, 'no cache headers on errors');
    });

    test('consistent metadata by version and by checksum (notary)', async () => {
      const { app, service } = setup();
      service.put('g/a', 'root', 1, meta(1));
      service.put('g/a', 'root', 2, meta(2));
      const sha = (await service.getByVersion('g/a', 'root', 1)) as unknown as { sha256: string };
      for (const url of ['/v2/g/a/_trust/tuf/1.root.json', '/v2/g/a/_trust/tuf/01.root.json', `/v2/g/a/_trust/tuf/root.${sha.sha256}.json`]) {
        const r = await app.inject({ method: 'GET', url });
        assert.equal(r.statusCode, 200, url);
        assert.equal(r.body, meta(1), url);
        assert.equal(r.headers['cache-control'], 'public, max-age=2592000, s-maxage=2592000', url);
        assert.equal(r.headers['last-modified'], 'Sun, 22 Nov 2026 03:57:54 UTC');
      }
      for (const url of ['/v2/g/a/_trust/tuf/0.root.json', `/v2/g/a/_trust/tuf/root.${sha.sha256.toUpperCase()}.json`, `/v2/g/a/_trust/tuf/root.${'0'.repeat(128)}.json`]) {
        const r = await app.inject({ method: 'GET', url });
        assert.equal(r.statusCode, 404, url);
        assert.equal(r.body, NOT_FOUND_DETAIL, url);
      }
      const huge = await app.inject({ method: 'GET', url: '/v2/g/a/_trust/tuf/99999999999999999999.root.json' });
      assert.equal(huge.statusCode, 404);
      assert.equal(huge.body, '{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist.","detail":{"Func":"Atoi","Num":"99999999999999999999","Err":{}}}]}\n');
    });

    test('caching.max_age 0 disables caching; custom ages apply', async () => {
      const { app, service } = setup({ caching: { max_age: { current_metadata: 0, consistent_metadata: 60 } } });
      service.put('g', 'targets', 3, meta(3));
      const cur = await app.inject({ method: 'GET', url: '/v2/g/_trust/tuf/targets.json' });
      assert.equal(cur.headers['cache-control'], 'max-age=0, no-cache, no-store');
      assert.equal(cur.headers['pragma'], 'no-cache');
      const con = await app.inject({ method: 'GET', url: '/v2/g/_trust/tuf/3.targets.json' });
      assert.equal(con.headers['cache-control'], 'public, max-age=60, s-maxage=60');
    });

    test('key endpoints: GET and POST answer the public key as notary JSON; failures are 500 UNKNOWN', async () => {
      const { app, service } = setup();
      for (const [method, call] of [['GET', 'getOrCreateKey'], ['POST', 'rotateKey']] as const) {
        const r = await app.inject({ method, url: '/v2/g/_trust/tuf/timestamp.key' });
        assert.equal(r.statusCode, 200);
        assert.equal(r.headers['content-type'], TEXT_CT);
        assert.match(r.body, /^\{"keytype":"ed25519","keyval":\{"public":"[A-Za-z0-9+/]{43}=","private":null\}\}$/);
        assert.deepEqual(service.calls.at(-1), { method: call, args: ['g', 'timestamp'] });
      }
      service.failWith('getOrCreateKey', new KeyNotFoundError('no'));
      const r = await app.inject({ method: 'GET', url: '/v2/g/_trust/tuf/snapshot.key' });
      assert.equal(r.statusCode, 500);
      assert.equal(r.body, '{"errors":[{"code":"UNKNOWN","message":"unknown error","detail":{}}]}\n');
    });

    test('DELETE removes the GUN: 200, empty body (notary)', async () => {
      const { app, service } = setup();
      const r = await app.inject({ method: 'DELETE', url: '/v2/g/a/_trust/tuf/' });
      assert.equal(r.statusCode, 200);
      assert.equal(r.body, '');
      assert.equal(r.headers['content-length'], '0');
      assert.deepEqual(service.calls.at(-1), { method: 'deleteGun', args: ['g/a'] });
    });

    test('publish: parts become roles in order, .json stripped, last duplicate wins, 200 empty', async () => {
      const { app, service } = setup();
      const up = multipart([['root', meta(1)], ['targets.json', meta(2)], ['targets/releases', meta(1)], ['targets', meta(3)]]);
      const r = await app.inject({ method: 'POST', url: '/v2/example.com/app/_trust/tuf/', ...up });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.body, '');
      assert.equal(r.headers['content-length'], '0');
      assert.equal(r.headers['content-type'], undefined);
      const call = service.calls.find((c) => c.method === 'publish')!;
      const [gun, parts] = call.args as [string, { role: string; data: Uint8Array }[]];
      assert.equal(gun, 'example.com/app');
      assert.deepEqual(parts.map((p) => [p.role, new TextDecoder().decode(p.data)]), [['root', meta(1)], ['targets/releases', meta(1)], ['targets', meta(3)]]);
    });

    test('publish refusals with notary bodies', async () => {
      const { app, service } = setup();
      const url = '/v2/foo/_trust/tuf/';
      const cases: [string, { payload: string; headers: Record<string, string> }, number, string][] = [
        ['not multipart', { payload: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 400, '{"errors":[{"code":"MALFORMED_UPLOAD","message":"The body of your request is malformed."}]}\n'],
        ['no boundary', { payload: '--XX--\r\n', headers: { 'content-type': 'multipart/form-data' } }, 400, '{"errors":[{"code":"MALFORMED_UPLOAD","message":"The body of your request is malformed."}]}\n'],
        ['truncated part', { payload: '--XX\r\nContent-Disposition: form-data; name="files"; filename="root"\r\n\r\n{"signed":{"version":1}}', headers: { 'content-type': 'multipart/form-data; boundary=XX' } }, 400, '{"errors":[{"code":"MALFORMED_JSON","message":"JSON sent by the client could not be parsed by the server"}]}\n'],
        ['truncated part with a bad role', { payload: '--XX\r\nContent-Disposition: form-data; name="files"; filename="nope"\r\n\r\n{"signed"', headers: { 'content-type': 'multipart/form-data; boundary=XX' } }, 400, '{"errors":[{"code":"INVALID_ROLE","message":"The role you are attempting to operate on is invalid.","detail":"nope"}]}\n'],
        ['truncated headers', { payload: '--XX\r\nContent-Disposition: form-data; name="files"', headers: { 'content-type': 'multipart/form-data; boundary=XX' } }, 400, '{"errors":[{"code":"MALFORMED_UPLOAD","message":"The body of your request is malformed."}]}\n'],
        ['empty filename', multipart([['', meta(1)]]), 400, '{"errors":[{"code":"NO_FILENAME","message":"No file/role name provided."}]}\n'],
        ['no filename', multipart([[null, meta(1)]]), 400, '{"errors":[{"code":"NO_FILENAME","message":"No file/role name provided."}]}\n'],
        ['bad role', multipart([['foo', meta(1)]]), 400, '{"errors":[{"code":"INVALID_ROLE","message":"The role you are attempting to operate on is invalid.","detail":"foo"}]}\n'],
        ['unclean delegation', multipart([['targets/a/../b', meta(1)]]), 400, '{"errors":[{"code":"INVALID_ROLE","message":"The role you are attempting to operate on is invalid.","detail":"targets/a/../b"}]}\n'],
        ['bad JSON', multipart([['root', 'nope']]), 400, '{"errors":[{"code":"MALFORMED_JSON","message":"JSON sent by the client could not be parsed by the server"}]}\n'],
        ['bad JSON before a bad role', multipart([['root', 'nope'], ['foo', meta(1)]]), 400, '{"errors":[{"code":"MALFORMED_JSON","message":"JSON sent by the client could not be parsed by the server"}]}\n'],
      ];
      for (const [what, up, status, body] of cases) {
        const r = await app.inject({ method: 'POST', url, ...up });
        assert.equal(r.statusCode, status, what);
        assert.equal(r.headers['content-type'], JSON_CT, what);
        assert.equal(r.body, body, what);
      }
      service.failWith('publish', new UpdateValidationError('ErrValidation', 'no pre-existing root and no root provided in update.'));
      let r = await app.inject({ method: 'POST', url, ...multipart([]) });
      assert.equal(r.body, '{"errors":[{"code":"INVALID_UPDATE","message":"Update sent by the client is invalid.","detail":{"Name":"ErrValidation","Error":{"Msg":"no pre-existing root and no root provided in update."}}}]}\n');
      service.failWith('publish', new UpdateValidationError('ErrBadHierarchy', 'no snapshot was included in update and server does not hold current snapshot key for repository', { missing: 'snapshot' }));
      r = await app.inject({ method: 'POST', url, ...multipart([['root', meta(1)]]) });
      assert.equal(r.statusCode, 400);
      assert.equal(JSON.stringify(JSON.parse(r.body).errors[0].detail), '{"Name":"ErrBadHierarchy","Error":{"Missing":"snapshot","Msg":"no snapshot was included in update and server does not hold current snapshot key for repository"}}');
      service.failWith('publish', new StorageError('disk full'));
      r = await app.inject({ method: 'POST', url, ...multipart([['root', meta(1)]]) });
      assert.equal(r.statusCode, 500);
      assert.equal(r.body, '{"errors":[{"code":"UPDATING","message":"An error has occurred while updating the TUF repository."}]}\n');
      service.failWith('publish', undefined);
      assert.equal((await app.inject({ method: 'POST', url, ...multipart([['root', meta(1)]]) })).statusCode, 200);
      r = await app.inject({ method: 'POST', url, ...multipart([['root', meta(1)]]) });
      assert.equal(r.body, '{"errors":[{"code":"VERSION","message":"A newer version of metadata is already available.","detail":{}}]}\n');
    });

    test('publish bodies above server.max_upload_bytes get MALFORMED_JSON, as notary for a body it cannot decode, and the connection closes', async () => {
      const { app, service } = setup({}, { maxUpload: 1000 });
      const up = multipart([['root', meta(1, `,"pad":"${'x'.repeat(1000)}"`)]]);
      const r = await app.inject({ method: 'POST', url: '/v2/g/_trust/tuf/', ...up });
      assert.equal(r.statusCode, 400);
      assert.equal(r.headers['connection'], 'close');
      assert.equal(r.body, '{"errors":[{"code":"MALFORMED_JSON","message":"JSON sent by the client could not be parsed by the server"}]}\n');
      assert.equal(service.calls.filter((c) => c.method === 'publish').length, 0);
      const small = await app.inject({ method: 'POST', url: '/v2/g/_trust/tuf/', ...multipart([['root', meta(1)]]) });
      assert.equal(small.statusCode, 200);
    });

    test('changefeed parameters (notary)', async () => {
      const { app, service } = setup();
      const bodies: [string, string][] = [
        ['', '{"errors":[{"code":"INVALID_PARAMETERS","message":"The parameters provided are not valid.","detail":"invalid records parameter: strconv.ParseInt: parsing \\"\\": invalid syntax"}]}\n'],
        ['?records=abc', '{"errors":[{"code":"INVALID_PARAMETERS","message":"The parameters provided are not valid.","detail":"invalid records parameter: strconv.ParseInt: parsing \\"abc\\": invalid syntax"}]}\n'],
        ['?records=99999999999', '{"errors":[{"code":"INVALID_PARAMETERS","message":"The parameters provided are not valid.","detail":"invalid records parameter: strconv.ParseInt: parsing \\"99999999999\\": value out of range"}]}\n'],
        ['?records=1&change_id=x', '{"errors":[{"code":"INVALID_PARAMETERS","message":"The parameters provided are not valid.","detail":{}}]}\n'],
      ];
      for (const [q, body] of bodies) {
        const r = await app.inject({ method: 'GET', url: `/v2/foo/_trust/changefeed${q}` });
        assert.equal(r.statusCode, 400, q);
        assert.equal(r.body, body, q);
      }
      const empty = await app.inject({ method: 'GET', url: '/v2/_trust/changefeed?records=0' });
      assert.equal(empty.statusCode, 200);
      assert.equal(empty.headers['content-type'], TEXT_CT);
      assert.equal(empty.body, '{"count":0,"records":null}');
      assert.deepEqual(service.calls.at(-1), { method: 'changes', args: [0, 100, undefined] });
      await app.inject({ method: 'GET', url: '/v2/a/b/_trust/changefeed?records=-5&change_id=-1' });
      assert.deepEqual(service.calls.at(-1), { method: 'changes', args: [-1, -5, 'a/b'] });
    });

    test('changefeed records use Go field names and RFC3339Nano times (notary)', async () => {
      const { app, service } = setup();
      service.put('example.com/app', 'timestamp', 1, 'ts-bytes');
      await service.deleteGun('example.com/app');
      const r = await app.inject({ method: 'GET', url: '/v2/example.com/app/_trust/changefeed?records=10&change_id=0' });
      assert.equal(
        r.body,
        '{"count":2,"records":[' +
          '{"ID":"1","CreatedAt":"2026-11-22T03:57:54.67Z","GUN":"example.com/app","Version":1,"SHA256":"68d822e592750604f4ac50450aee45b047a9b0a45c996194be783987b5f828d1","Category":"update"},' +
          '{"ID":"2","CreatedAt":"2026-11-22T03:57:54.67Z","GUN":"example.com/app","Version":0,"SHA256":"","Category":"deletion"}]}',
      );
    });

    test('gun_prefixes: publish → 400 INVALID_GUN with the list, other GUN routes → 404, others untouched', async () => {
      const { app, service } = setup({ repositories: { gun_prefixes: ['docker.io/', 'quay.io/'] } });
      const post = await app.inject({ method: 'POST', url: '/v2/example.com/app/_trust/tuf/', ...multipart([['root', meta(1)]]) });
      assert.equal(post.statusCode, 400);
      assert.equal(post.body, '{"errors":[{"code":"INVALID_GUN","message":"The server does not support actions on images of this name.","detail":"Require GUNs with prefix: [docker.io/ quay.io/]"}]}\n');
      for (const [method, url] of [
        ['GET', '/v2/example.com/app/_trust/tuf/root.json'],
        ['GET', '/v2/example.com/app/_trust/tuf/timestamp.key'],
        ['POST', '/v2/example.com/app/_trust/tuf/timestamp.key'],
        ['DELETE', '/v2/example.com/app/_trust/tuf/'],
        ['GET', '/v2/example.com/app/_trust/changefeed?records=1'],
      ] as const) {
        const r = await app.inject({ method, url });
        assert.equal(r.statusCode, 404, url);
        assert.equal(r.body, NOT_FOUND, url);
      }
      assert.equal(service.calls.length, 0, 'nothing reached the service');
      assert.equal((await app.inject({ method: 'POST', url: '/v2/docker.io/lib/app/_trust/tuf/', ...multipart([['root', meta(1)]]) })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/v2/_trust/changefeed?records=1' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/v2/' })).statusCode, 200);
    });

    test('health: {} as application/json, or 503 naming the failing check', async () => {
      const { app, service } = setup();
      let r = await app.inject({ method: 'GET', url: '/_notary_server/health' });
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['content-type'], JSON_CT);
      assert.equal(r.body, '{}');
      service.failWith('check', new StorageError('database is locked'));
      r = await app.inject({ method: 'GET', url: '/_notary_server/health' });
      assert.equal(r.statusCode, 503);
      assert.equal(r.body, '{"DB operational":"database is locked"}');
      service.failWith('check', new Error('signer <down>'));
      r = await app.inject({ method: 'GET', url: '/_notary_server/health' });
      assert.equal(r.body, '{"Trust operational":"signer \\u003cdown\\u003e"}');
    });

    test('metrics: notary names with the operation label', async () => {
      const { app, service } = setup();
      service.put('g', 'root', 1, meta(1));
      await app.inject({ method: 'GET', url: '/v2/g/_trust/tuf/root.json' });
      await app.inject({ method: 'GET', url: '/v2/g/_trust/tuf/1.root.json' });
      await app.inject({ method: 'GET', url: '/v2/_trust/changefeed?records=1' });
      await app.inject({ method: 'GET', url: '/v2/g/_trust/tuf/nope.json' });
      const r = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(r.statusCode, 200);
      assert.match(r.headers['content-type'] as string, /^text\/plain/);
      for (const re of [
        /notary_server_http_request_duration_microseconds_count\{operation="GetRole"\} 1/,
        /notary_server_http_request_size_bytes_count\{operation="GetRoleByVersion"\} 1/,
        /notary_server_http_response_size_bytes_sum\{operation="GetRole"\} 55/,
        /notary_server_http_requests_total\{code="200",method="get",operation="Changefeed"\} 1/,
      ]) {
        assert.match(r.body, re);
      }
      assert.doesNotMatch(r.body, /operation="NotFound"/);
    });
  });
}
