/**
 * Blob push and pull through the HTTP API, in-process on 127.0.0.1 (OCI Distribution Spec v1.1
 * "Pushing blobs", "Pulling blobs"): monolithic, chunked with Content-Range, resumable status,
 * mount, cancel, ranges, and the failures: digest mismatch, out-of-order and truncated chunks.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http, startRegistry, type RunningRegistry } from '../../test/registry/support.ts';
import { digestOf } from './names.ts';
import { registryPaths } from './routes.ts';

let reg: RunningRegistry;
let dir: string;
const data = (n: number, seed = 1): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));
const OCTET = { 'Content-Type': 'application/octet-stream' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-registry-app-'));
  reg = await startRegistry('vouch', { storageDir: join(dir, 'storage') });
});
after(async () => {
  await reg.stop();
  await rm(dir, { recursive: true, force: true });
});

const req = (method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Uint8Array } = {}) => http(reg.url, method, path, opts);

async function startUpload(name: string): Promise<string> {
  const r = await req('POST', registryPaths.uploads(name), { headers: { 'Content-Length': '0' } });
  assert.equal(r.status, 202);
  assert.equal(r.headers['range'], '0-0');
  assert.match(String(r.headers['location']), new RegExp(`^/v2/${name}/blobs/uploads/[0-9a-f-]{36}$`));
  assert.equal(r.headers['docker-upload-uuid'], String(r.headers['location']).split('/').pop());
  return String(r.headers['location']);
}

/** Send a request head with Content-Length `declared`, only `sent` bytes of body, then hang up. */
function truncatedPatch(path: string, declared: number, sent: Buffer, range: string): Promise<void> {
  const u = new URL(reg.url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname, () => {
      s.write(`PATCH ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/octet-stream\r\nContent-Range: ${range}\r\nContent-Length: ${declared}\r\n\r\n`);
      s.write(sent, () => setTimeout(() => s.destroy(), 50));
    });
    s.on('close', () => resolve());
    s.on('error', () => {});
  });
}

describe('blob uploads over HTTP', () => {
  it('single POST with ?digest= stores the blob (201) and serves it with its headers', async () => {
    const b = data(100_000);
    const d = digestOf(b);
    const r = await req('POST', registryPaths.uploads('t/mono', { digest: d }), { headers: OCTET, body: b });
    assert.equal(r.status, 201);
    assert.equal(r.headers['location'], `/v2/t/mono/blobs/${d}`);
    assert.equal(r.headers['docker-content-digest'], d);
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    const head = await req('HEAD', registryPaths.blob('t/mono', d));
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '100000');
    assert.equal(head.headers['docker-content-digest'], d);
    const get = await req('GET', registryPaths.blob('t/mono', d));
    assert.equal(get.status, 200);
    assert.deepEqual(get.body, b);
    const part = await req('GET', registryPaths.blob('t/mono', d), { headers: { Range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], 'bytes 10-19/100000');
    assert.deepEqual(part.body, b.subarray(10, 20));
    assert.equal((await req('GET', registryPaths.blob('t/mono', d), { headers: { Range: 'bytes=-5' } })).body.length, 5);
    const past = await req('GET', registryPaths.blob('t/mono', d), { headers: { Range: 'bytes=100000-' } });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], 'bytes */100000');
    assert.equal((await req('GET', registryPaths.blob('t/other', d))).code(), 'BLOB_UNKNOWN', 'not served from a repository that lacks it');
  });

  it('POST then PUT with the whole body', async () => {
    const b = data(5000, 2);
    const loc = await startUpload('t/put');
    const r = await req('PUT', `${loc}?digest=${digestOf(b)}`, { headers: OCTET, body: b });
    assert.equal(r.status, 201);
    assert.equal(r.headers['location'], registryPaths.blob('t/put', digestOf(b)));
    assert.equal((await req('GET', loc)).code(), 'BLOB_UPLOAD_UNKNOWN', 'the session is over');
  });

  it('chunked: PATCH with Content-Range, status in between, last chunk in the PUT', async () => {
    const b = data(300_000, 3);
    const loc = await startUpload('t/chunks');
    let r = await req('PATCH', loc, { headers: { ...OCTET, 'Content-Range': '0-99999' }, body: b.subarray(0, 100_000) });
    assert.equal(r.status, 202);
    assert.equal(r.headers['range'], '0-99999');
    assert.equal(r.headers['location'], loc);
    r = await req('PATCH', loc, { headers: OCTET, body: b.subarray(100_000, 200_000) }); // streamed, no Content-Range
    assert.equal(r.headers['range'], '0-199999');
    r = await req('GET', loc);
    assert.equal(r.status, 204);
    assert.equal(r.headers['range'], '0-199999');
    r = await req('PUT', `${loc}?digest=${digestOf(b)}`, { headers: { ...OCTET, 'Content-Range': '200000-299999' }, body: b.subarray(200_000) });
    assert.equal(r.status, 201);
    assert.deepEqual((await req('GET', registryPaths.blob('t/chunks', digestOf(b)))).body, b);
  });

  it('an out-of-order chunk is 416 with the current Range and changes nothing', async () => {
    const loc = await startUpload('t/order');
    await req('PATCH', loc, { headers: { ...OCTET, 'Content-Range': '0-9' }, body: data(10) });
    for (const range of ['20-29', '0-9', '5-14']) {
      const r = await req('PATCH', loc, { headers: { ...OCTET, 'Content-Range': range }, body: data(10) });
      assert.equal(r.status, 416, range);
      assert.equal(r.code(), 'BLOB_UPLOAD_INVALID');
      assert.equal(r.headers['range'], '0-9');
    }
    const r = await req('PUT', `${loc}?digest=${digestOf(data(20))}`, { headers: { ...OCTET, 'Content-Range': '11-20' }, body: data(10) });
    assert.equal(r.status, 416, 'the final chunk too');
    assert.equal((await req('GET', loc)).headers['range'], '0-9');
  });

  it('a chunk whose Content-Length disagrees with its Content-Range is SIZE_INVALID', async () => {
    const loc = await startUpload('t/size');
    const r = await req('PATCH', loc, { headers: { ...OCTET, 'Content-Range': '0-99' }, body: data(50) });
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'SIZE_INVALID');
    assert.equal((await req('GET', loc)).headers['range'], '0-0');
  });

  it('a truncated chunk (client hangs up mid-body) is rolled back; the upload resumes', async () => {
    const b = data(200_000, 4);
    const loc = await startUpload('t/trunc');
    await req('PATCH', loc, { headers: { ...OCTET, 'Content-Range': '0-49999' }, body: b.subarray(0, 50_000) });
    await truncatedPatch(loc, 150_000, b.subarray(50_000, 120_000), '50000-199999');
    let range = '';
    for (let i = 0; i < 50; i++) {
      const r = await req('GET', loc);
      range = String(r.headers['range']);
      assert.ok(range === '0-49999', `never a partial offset (got ${range})`);
      if (r.status === 204) break;
    }
    // The server may still be noticing the hang-up: a resend meanwhile is told to retry (429).
    let r = await req('PATCH', loc, { headers: { ...OCTET, 'Content-Range': '50000-199999' }, body: b.subarray(50_000) });
    for (let i = 0; i < 20 && r.status === 429; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await req('PATCH', loc, { headers: { ...OCTET, 'Content-Range': '50000-199999' }, body: b.subarray(50_000) });
    }
    assert.equal(r.status, 202);
    assert.equal((await req('PUT', `${loc}?digest=${digestOf(b)}`)).status, 201);
    assert.deepEqual((await req('GET', registryPaths.blob('t/trunc', digestOf(b)))).body, b);
  });

  it('a digest that does not match the bytes is DIGEST_INVALID and nothing is served', async () => {
    const b = data(10_000, 5);
    const wrong = digestOf(data(10_000, 6));
    let r = await req('POST', registryPaths.uploads('t/bad', { digest: wrong }), { headers: OCTET, body: b });
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'DIGEST_INVALID');
    const loc = await startUpload('t/bad');
    await req('PATCH', loc, { headers: OCTET, body: b });
    r = await req('PUT', `${loc}?digest=${wrong}`);
    assert.equal(r.code(), 'DIGEST_INVALID');
    for (const d of [wrong, digestOf(b)]) assert.equal((await req('HEAD', registryPaths.blob('t/bad', d))).status, 404);
    assert.equal((await req('PUT', `${await startUpload('t/bad')}?digest=sha256:abc`)).code(), 'DIGEST_INVALID');
    assert.equal((await req('PUT', await startUpload('t/bad'))).code(), 'DIGEST_INVALID', 'the digest parameter is required');
    assert.equal((await req('POST', `${registryPaths.uploads('t/bad')}?digest-algorithm=md5`)).code(), 'DIGEST_INVALID');
  });

  it('unknown sessions, sessions of another repository, and cancel', async () => {
    const loc = await startUpload('t/cancel');
    const id = loc.split('/').pop() as string;
    assert.equal((await req('GET', registryPaths.upload('t/elsewhere', id))).code(), 'BLOB_UPLOAD_UNKNOWN');
    assert.equal((await req('PATCH', registryPaths.upload('t/cancel', 'nope'), { body: 'x' })).code(), 'BLOB_UPLOAD_UNKNOWN');
    assert.equal((await req('DELETE', loc)).status, 204);
    assert.equal((await req('DELETE', loc)).status, 404);
    assert.equal((await req('GET', loc)).status, 404);
  });

  it('cross-repository mount: 201 from a repository that has the blob, else a new session (202)', async () => {
    const b = data(777, 7);
    const d = digestOf(b);
    await req('POST', registryPaths.uploads('t/src', { digest: d }), { headers: OCTET, body: b });
    let r = await req('POST', registryPaths.uploads('t/dst', { mount: d, from: 't/src' }));
    assert.equal(r.status, 201);
    assert.equal(r.headers['location'], registryPaths.blob('t/dst', d));
    assert.equal(r.headers['docker-content-digest'], d);
    assert.deepEqual((await req('GET', registryPaths.blob('t/dst', d))).body, b);
    r = await req('POST', registryPaths.uploads('t/dst2', { mount: d, from: 't/nothing-here' }));
    assert.equal(r.status, 202);
    assert.equal(r.headers['range'], '0-0');
    r = await req('POST', registryPaths.uploads('t/dst2', { mount: d }));
    assert.equal(r.status, 202, 'no from: no mount');
    assert.equal((await req('HEAD', registryPaths.blob('t/dst2', d))).status, 404);
  });

  it('DELETE of a blob unlinks it from the repository (202), then 404', async () => {
    const b = data(99, 8);
    const d = digestOf(b);
    await req('POST', registryPaths.uploads('t/del', { digest: d }), { headers: OCTET, body: b });
    assert.equal((await req('DELETE', registryPaths.blob('t/del', d))).status, 202);
    assert.equal((await req('GET', registryPaths.blob('t/del', d))).code(), 'BLOB_UNKNOWN');
    assert.equal((await req('DELETE', registryPaths.blob('t/del', d))).code(), 'BLOB_UNKNOWN');
  });
});
