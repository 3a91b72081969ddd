/**
 * Bad input against vouch's registry and distribution's `docker-registry`, side by side: digests
 * that do not match the bytes, out-of-order, short and truncated chunks, invalid names and tags,
 * an oversized manifest, manifests that reference missing blobs. vouch must answer with the OCI
 * spec's status and error code; docker-registry's answer is recorded next to it, and where the
 * two differ the difference is written down here (distribution 2.8 predates parts of OCI v1.1).
 * Afterwards neither registry may serve anything half-written: every failed digest is 404, and
 * every blob file on disk hashes to its name.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestOf } from '../../src/registry/names.ts';
import { http, startRegistry, type RawResponse, type RegistryKind, type RunningRegistry } from './support.ts';

type Outcome = readonly [status: number, code: string | undefined];

interface Case {
  readonly name: string;
  /** What vouch must answer (the spec's status and code). */
  readonly vouch: Outcome;
  /** What docker-registry 2.8 answers, when it differs, and why. */
  readonly dockerRegistry?: { readonly outcome: Outcome; readonly why: string };
  run(reg: RunningRegistry, failed: Set<string>): Promise<Outcome>;
}

const OCTET = { 'Content-Type': 'application/octet-stream' };
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const outcome = (r: RawResponse): Outcome => [r.status, r.code()];
const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

/** An upload session that follows the Location of every response, as clients must. */
class Session {
  path = '';
  readonly reg: RunningRegistry;
  readonly name: string;
  constructor(reg: RunningRegistry, name: string) {
    this.reg = reg;
    this.name = name;
  }
  async start(): Promise<void> {
    const r = await http(this.reg.url, 'POST', `/v2/${this.name}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
    assert.equal(r.status, 202);
    this.follow(r);
  }
  follow(r: RawResponse): void {
    const loc = r.headers['location'];
    if (loc !== undefined) {
      const u = new URL(loc, this.reg.url);
      this.path = u.pathname + u.search;
    }
  }
  async send(method: string, opts: { headers?: Record<string, string>; body?: Buffer; digest?: string } = {}): Promise<RawResponse> {
    const path = opts.digest === undefined ? this.path : `${this.path}${this.path.includes('?') ? '&' : '?'}digest=${opts.digest}`;
    const r = await http(this.reg.url, method, path, { headers: { ...OCTET, ...opts.headers }, ...(opts.body === undefined ? {} : { body: opts.body }) });
    this.follow(r);
    return r;
  }
}

/** PATCH whose body stops short of its Content-Length, then the connection drops. */
function hangUpMidChunk(reg: RunningRegistry, path: string, declared: number, sent: Buffer): Promise<void> {
  const u = new URL(reg.url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname, () => {
      s.write(`PATCH ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${declared}\r\n\r\n`);
      s.write(sent, () => setTimeout(() => s.destroy(), 100));
    });
    s.on('close', () => resolve());
    s.on('error', () => {});
  });
}

const CASES: readonly Case[] = [
  {
    name: 'single POST whose digest does not match the bytes',
    vouch: [400, 'DIGEST_INVALID'],
    dockerRegistry: { outcome: [202, undefined], why: 'no single-POST uploads: it opens a session and ignores the body (the spec allows 202)' },
    async run(reg, failed) {
      const wrong = digestOf(bytes(10, 1));
      failed.add(wrong).add(digestOf(bytes(100, 2)));
      return outcome(await http(reg.url, 'POST', `/v2/bad/a/blobs/uploads/?digest=${wrong}`, { headers: OCTET, body: bytes(100, 2) }));
    },
  },
  {
    name: 'PUT closing a session with a digest that does not match',
    vouch: [400, 'DIGEST_INVALID'],
    async run(reg, failed) {
      const s = new Session(reg, 'bad/a');
      await s.start();
      await s.send('PATCH', { body: bytes(5000, 3) });
      const wrong = digestOf(bytes(5000, 4));
      failed.add(wrong).add(digestOf(bytes(5000, 3)));
      return outcome(await s.send('PUT', { digest: wrong }));
    },
  },
  {
    name: 'chunk out of order (Content-Range start is not the current size)',
    vouch: [416, 'BLOB_UPLOAD_INVALID'],
    dockerRegistry: { outcome: [202, undefined], why: 'distribution 2.8 does not check Content-Range and appends the chunk where it stands' },
    async run(reg, failed) {
      const s = new Session(reg, 'bad/b');
      await s.start();
      await s.send('PATCH', { headers: { 'Content-Range': '0-9' }, body: bytes(10, 5) });
      failed.add(digestOf(Buffer.concat([bytes(10, 5), bytes(10, 6)])));
      return outcome(await s.send('PATCH', { headers: { 'Content-Range': '20-29' }, body: bytes(10, 6) }));
    },
  },
  {
    name: 'chunk shorter than its Content-Range',
    vouch: [400, 'SIZE_INVALID'],
    dockerRegistry: { outcome: [202, undefined], why: 'distribution 2.8 does not check Content-Range against Content-Length' },
    async run(reg, failed) {
      const s = new Session(reg, 'bad/c');
      await s.start();
      failed.add(digestOf(bytes(50, 7)));
      return outcome(await s.send('PATCH', { headers: { 'Content-Range': '0-99' }, body: bytes(50, 7) }));
    },
  },
  {
    name: 'truncated chunk (the client hangs up mid-body): the session keeps only whole chunks',
    vouch: [204, undefined],
    dockerRegistry: {
      outcome: [404, 'BLOB_UPLOAD_INVALID'],
      why: 'it keeps the partial bytes, so the session no longer matches its _state and the client must start over',
    },
    async run(reg, failed) {
      const s = new Session(reg, 'bad/d');
      await s.start();
      await s.send('PATCH', { body: bytes(1000, 8) });
      await hangUpMidChunk(reg, s.path, 100_000, bytes(40_000, 9));
      failed.add(digestOf(Buffer.concat([bytes(1000, 8), bytes(40_000, 9)])));
      let r = await s.send('GET');
      for (let i = 0; i < 20 && r.status === 204 && r.headers['range'] !== '0-999'; i++) {
        await new Promise((res) => setTimeout(res, 50));
        r = await s.send('GET');
      }
      if (r.status === 204) assert.equal(r.headers['range'], '0-999', `${reg.kind}: the partial chunk is not counted`);
      return outcome(r);
    },
  },
  {
    name: 'invalid repository name',
    vouch: [400, 'NAME_INVALID'],
    dockerRegistry: { outcome: [404, undefined], why: 'its router does not match the path: a plain-text 404' },
    async run(reg) {
      return outcome(await http(reg.url, 'GET', '/v2/Bad/Name/tags/list'));
    },
  },
  {
    name: 'invalid tag on PUT',
    vouch: [400, 'MANIFEST_INVALID'],
    dockerRegistry: { outcome: [404, undefined], why: 'its router does not match the path: a plain-text 404' },
    async run(reg) {
      return outcome(await http(reg.url, 'PUT', '/v2/bad/e/manifests/-tag', { headers: { 'Content-Type': OCI }, body: '{}' }));
    },
  },
  {
    name: 'oversized manifest (over 4 MiB)',
    vouch: [413, 'MANIFEST_INVALID'],
    dockerRegistry: { outcome: [400, 'MANIFEST_INVALID'], why: 'same limit and code, but 400 where OCI v1.1 says 413' },
    async run(reg) {
      const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from('c')), size: 1 };
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI, config, layers: [], annotations: { pad: 'x'.repeat(5 << 20) } });
      return outcome(await http(reg.url, 'PUT', '/v2/bad/f/manifests/big', { headers: { 'Content-Type': OCI }, body }));
    },
  },
  {
    name: 'manifest that references blobs the repository does not have',
    vouch: [400, 'MANIFEST_BLOB_UNKNOWN'],
    async run(reg, failed) {
      const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from('absent config')), size: 13 };
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI, config, layers: [] }));
      failed.add(digestOf(body));
      return outcome(await http(reg.url, 'PUT', '/v2/bad/g/manifests/v1', { headers: { 'Content-Type': OCI }, body }));
    },
  },
  {
    name: 'manifest that is not JSON',
    vouch: [400, 'MANIFEST_INVALID'],
    async run(reg) {
      return outcome(await http(reg.url, 'PUT', '/v2/bad/g/manifests/v2', { headers: { 'Content-Type': OCI }, body: '{"schemaVersion":2,' }));
    },
  },
  {
    name: 'manifest pushed by a digest that is not its own',
    vouch: [400, 'DIGEST_INVALID'],
    async run(reg) {
      return outcome(await http(reg.url, 'PUT', `/v2/bad/g/manifests/${digestOf(Buffer.from('another'))}`, { headers: { 'Content-Type': OCI }, body: '{}' }));
    },
  },
  {
    name: 'malformed digest in a manifest reference',
    vouch: [400, 'DIGEST_INVALID'],
    dockerRegistry: { outcome: [500, 'UNKNOWN'], why: 'distribution 2.8 treats it as a tag and fails on the path' },
    async run(reg) {
      return outcome(await http(reg.url, 'GET', '/v2/bad/g/manifests/sha256:abc'));
    },
  },
  {
    name: 'unknown upload session',
    vouch: [404, 'BLOB_UPLOAD_UNKNOWN'],
    dockerRegistry: { outcome: [404, 'BLOB_UPLOAD_INVALID'], why: 'without its _state parameter it cannot read the session at all' },
    async run(reg) {
      return outcome(await http(reg.url, 'GET', '/v2/bad/h/blobs/uploads/4b2e6b8e-6b38-4c51-9a8e-0c0d2b8f1e11'));
    },
  },
];

/** Blob files on disk, each checked against the digest it is stored under. */
async function blobFiles(reg: RunningRegistry): Promise<{ name: string; actual: string }[]> {
  const root = reg.kind === 'vouch' ? join(reg.storageDir, 'blobs', 'sha256') : join(reg.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  const out: { name: string; actual: string }[] = [];
  for (const prefix of await readdir(root).catch(() => [] as string[])) {
    for (const hex of await readdir(join(root, prefix))) {
      const file = reg.kind === 'vouch' ? join(root, prefix, hex) : join(root, prefix, hex, 'data');
      out.push({ name: `sha256:${hex}`, actual: `sha256:${createHash('sha256').update(await readFile(file)).digest('hex')}` });
    }
  }
  return out;
}

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'vouch-registry-bad-'));
});
after(() => rm(work, { recursive: true, force: true }));

for (const kind of ['vouch', 'docker-registry'] as RegistryKind[]) {
  describe(`bad input: ${kind}`, () => {
    let reg: RunningRegistry;
    const failed = new Set<string>();
    before(async () => {
      reg = await startRegistry(kind, { storageDir: join(work, kind) });
    });
    after(() => reg.stop());

    for (const c of CASES) {
      it(c.name, async () => {
        const got = await c.run(reg, failed);
        if (kind === 'vouch') assert.deepEqual(got, c.vouch);
        else assert.deepEqual(got, c.dockerRegistry?.outcome ?? c.vouch, c.dockerRegistry?.why ?? 'same as vouch');
      });
    }

    it('serves nothing half-written: failed digests are unknown, every stored blob hashes to its name', async () => {
      for (const d of failed) {
        for (const repo of ['bad/a', 'bad/b', 'bad/c', 'bad/d', 'bad/g']) {
          assert.equal((await http(reg.url, 'HEAD', `/v2/${repo}/blobs/${d}`)).status, 404, `${repo}@${d}`);
          assert.equal((await http(reg.url, 'HEAD', `/v2/${repo}/manifests/${d}`)).status, 404, `${repo} manifest ${d}`);
        }
      }
      for (const f of await blobFiles(reg)) assert.equal(f.actual, f.name, `${reg.kind} stores ${f.name} with other bytes`);
    });
  });
}
