import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gc } from '../gc.ts';
import { digestOf, type Digest } from '../names.ts';
import { bytes, chunks, putBlob, runRegistryStoreConformance } from './conformance.ts';
import { FsRegistryStore } from './fs-store.ts';

const temp = (): Promise<string> => mkdtemp(join(tmpdir(), 'vouch-registry-fs-'));

runRegistryStoreConformance('filesystem', async () => {
  const root = await temp();
  return { store: new FsRegistryStore({ root, sync: false }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

/** Every regular file under `dir`, as paths relative to it. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(d, e.name), rel === '' ? e.name : `${rel}/${e.name}`);
      else out.push(rel === '' ? e.name : `${rel}/${e.name}`);
    }
  };
  await walk(dir, '');
  return out.sort();
}

describe('FsRegistryStore on disk', () => {
  it('keeps the documented layout, and nothing appears under blobs/ before a verified commit', async () => {
    const root = await temp();
    try {
      const store = new FsRegistryStore({ root });
      const data = bytes(2_000_000);
      const d = digestOf(data);
      const hex = d.slice(7);
      const up = await store.createUpload('lib/app');
      await store.appendUpload('lib/app', up.id, 0, chunks(data, 70_000));
      assert.deepEqual(await files(join(root, 'blobs')), []);
      assert.deepEqual(await files(join(root, 'uploads')), [`${up.id}/data`, `${up.id}/info.json`]);
      await store.commitUpload('lib/app', up.id, d);
      assert.deepEqual(await files(join(root, 'blobs')), [`sha256/${hex.slice(0, 2)}/${hex}`]);
      assert.deepEqual(await files(join(root, 'uploads')), []);
      assert.deepEqual(await files(join(root, 'repositories')), [`lib/app/_layers/sha256/${hex}`]);

      const m = Buffer.from('{"schemaVersion":2}');
      const md = digestOf(m);
      await store.putManifest('lib/app', { digest: md, mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: m }, ['v1']);
      assert.equal(await readFile(join(root, 'repositories/lib/app/_manifests/tags/v1'), 'utf8'), md);
      const rec = JSON.parse(await readFile(join(root, 'repositories/lib/app/_manifests/revisions/sha256', md.slice(7)), 'utf8')) as unknown;
      assert.deepEqual(rec, { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: m.length });
      assert.deepEqual(await readFile(join(root, 'blobs/sha256', md.slice(7, 9), md.slice(7))), m);
      assert.deepEqual(await files(join(root, 'tmp')), [], 'no staging files are left behind');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('ignores crash leftovers: a data file in uploads/, staging files in tmp/, junk under blobs/', async () => {
    const root = await temp();
    try {
      const store = new FsRegistryStore({ root });
      const d = await putBlob(store, 'lib/app', bytes(100));
      await mkdir(join(root, 'tmp'), { recursive: true });
      await writeFile(join(root, 'tmp', 'half-written'), 'xx');
      await mkdir(join(root, 'blobs/sha256/zz'), { recursive: true });
      await writeFile(join(root, 'blobs/sha256/zz/not-a-digest'), 'xx');
      await mkdir(join(root, 'uploads', '00000000-0000-4000-8000-000000000000'), { recursive: true });
      const listed: Digest[] = [];
      for await (const b of store.listBlobs()) listed.push(b.digest);
      assert.deepEqual(listed, [d]);
      assert.equal(await store.getUpload('lib/app', '00000000-0000-4000-8000-000000000000'), null);
      assert.equal(await store.getUpload('lib/app', '../../blobs'), null, 'session ids cannot name other paths');
      const report = await gc(root, { gracePeriodMs: 0, uploadMaxAgeMs: 0 });
      assert.equal(report.uploadsRemoved, 1);
      assert.deepEqual(await files(join(root, 'tmp')), []);
      assert.deepEqual(await files(join(root, 'uploads')), []);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a process killed mid-upload leaves no blob; the session resumes from a valid prefix', async () => {
    const root = await temp();
    try {
      const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', fileURLToPath(new URL('./crash-child.ts', import.meta.url)), root], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0] as string);
        });
        child.on('exit', () => reject(new Error(`child exited early: ${out}`)));
      });
      const [, id] = line.split(' ');
      await new Promise((r) => setTimeout(r, 300));
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGKILL');
      await exited;

      const store = new FsRegistryStore({ root });
      const listed: Digest[] = [];
      for await (const b of store.listBlobs()) listed.push(b.digest);
      assert.deepEqual(listed, [], 'no blob is visible');
      const session = await store.getUpload('crash/app', id as string);
      assert.ok(session !== null && session.size >= 100_000, `session survives with its bytes (${session?.size})`);
      const onDisk = await readFile(join(root, 'uploads', id as string, 'data'));
      assert.equal(onDisk.length, session.size);
      assert.ok(onDisk.subarray(0, 100_000).every((b) => b === 7) && onDisk.subarray(100_000).every((b) => b === 9), 'the file is a prefix of what was sent');
      // Resume: append the rest, commit; the new process has no cached hash and re-reads the file.
      const tail = Buffer.alloc(1000, 1);
      await store.appendUpload('crash/app', id as string, session.size, chunks(tail));
      const want = `sha256:${createHash('sha256').update(onDisk).update(tail).digest('hex')}` as Digest;
      await store.commitUpload('crash/app', id as string, want);
      assert.equal(await store.statBlob(want), session.size + 1000);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
