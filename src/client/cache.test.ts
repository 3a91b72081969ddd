import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileMetadataCache, InvalidNameError, MemoryMetadataCache, gunDir, metadataDir } from './cache.ts';

const dirs: string[] = [];
async function trustDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vouch-cache-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('FileMetadataCache (§9.1 layout)', () => {
  it('stores roles at <trust_dir>/tuf/<gun>/metadata/<role>.json, delegations nested, 0700 dirs and 0600 files', async () => {
    const td = await trustDir();
    const cache = new FileMetadataCache(td, 'example.com/spec/app');
    assert.equal(cache.dir, join(td, 'tuf', 'example.com', 'spec', 'app', 'metadata'));
    assert.equal(await cache.get('root'), null);
    await cache.set('root', bytes('{"root":1}'));
    await cache.set('targets/releases', bytes('{"rel":1}'));
    assert.equal(await readFile(join(cache.dir, 'root.json'), 'utf8'), '{"root":1}');
    assert.equal(await readFile(join(cache.dir, 'targets', 'releases.json'), 'utf8'), '{"rel":1}');
    assert.equal((await stat(join(cache.dir, 'root.json'))).mode & 0o777, 0o600);
    assert.equal((await stat(cache.dir)).mode & 0o777, 0o700);
    assert.deepEqual(await cache.get('targets/releases'), bytes('{"rel":1}'));
  });

  it('replaces files atomically (no temp files left) and removes them', async () => {
    const td = await trustDir();
    const cache = new FileMetadataCache(td, 'g');
    await cache.set('timestamp', bytes('one'));
    await cache.set('timestamp', bytes('two'));
    assert.deepEqual(await readdir(cache.dir), ['timestamp.json']);
    assert.deepEqual(await cache.get('timestamp'), bytes('two'));
    await cache.remove('timestamp');
    await cache.remove('timestamp');
    assert.equal(await cache.get('timestamp'), null);
    await cache.set('root', bytes('r'));
    await cache.removeAll();
    assert.equal(await cache.get('root'), null);
    assert.equal(gunDir(td, 'a/b'), join(td, 'tuf', 'a', 'b'));
  });

  it('refuses GUNs and role names that would leave the trust dir', async () => {
    const td = await trustDir();
    for (const gun of ['', '../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'a\\b', 'a\0b']) {
      assert.throws(() => metadataDir(td, gun), InvalidNameError, gun);
    }
    const cache = new FileMetadataCache(td, 'ok/gun');
    for (const role of ['../root', 'targets/../../x', '', '/etc/passwd', 'targets//a']) {
      await assert.rejects(cache.set(role, bytes('x')), InvalidNameError, role);
      await assert.rejects(cache.get(role), InvalidNameError, role);
    }
  });
});

describe('MemoryMetadataCache', () => {
  it('copies bytes in and out and applies the same name rules', async () => {
    const data = bytes('abc');
    const cache = new MemoryMetadataCache([['root', data]]);
    data[0] = 0;
    const got = await cache.get('root');
    assert.deepEqual(got, bytes('abc'));
    (got as Uint8Array)[0] = 0;
    assert.deepEqual(await cache.get('root'), bytes('abc'));
    await cache.set('targets/a', bytes('t'));
    assert.deepEqual(cache.roles(), ['root', 'targets/a']);
    await assert.rejects(cache.set('../x', bytes('x')), InvalidNameError);
    await cache.removeAll();
    assert.deepEqual(cache.roles(), []);
  });
});

describe('FileMetadataCache.batch (writes prepared during an update)', () => {
  const text = async (cache: FileMetadataCache, role: string): Promise<string | null> => {
    const b = await cache.get(role);
    return b === null ? null : new TextDecoder().decode(b);
  };

  it('first read of a GUN: nothing visible before commit, then every file at once; no staging left', async () => {
    const td = await trustDir();
    const cache = new FileMetadataCache(td, 'example.com/app');
    const batch = cache.batch();
    batch.write('targets/a', bytes('a1'));
    batch.write('targets/a/x', bytes('x'));
    batch.write('targets/a', bytes('a2')); // replaces the first
    batch.write('root', bytes('r'));
    assert.equal(await text(cache, 'targets/a'), null);
    assert.deepEqual(await batch.commit(['root', 'targets/a', 'targets/a/x']), []);
    assert.equal(await text(cache, 'targets/a'), 'a2');
    assert.equal(await text(cache, 'targets/a/x'), 'x');
    assert.equal(await text(cache, 'root'), 'r');
    assert.deepEqual(await readdir(gunDir(td, 'example.com/app')), ['metadata']);
    assert.equal((await stat(cache.dir)).mode & 0o777, 0o700);
    assert.equal((await stat(cache.path('targets/a/x'))).mode & 0o777, 0o600);
    await cache.set('snapshot', bytes('s')); // the cache still writes after the rename
    assert.equal(await text(cache, 'snapshot'), 's');
  });

  it('an existing cache: only the roles asked for are moved in, one by one; the rest is dropped and unprepared roles are reported', async () => {
    const td = await trustDir();
    const cache = new FileMetadataCache(td, 'example.com/app');
    await cache.set('root', bytes('old root'));
    await cache.set('targets/b', bytes('old b'));
    const batch = cache.batch();
    batch.write('targets/b', bytes('new b'));
    batch.write('targets/c', bytes('c from a failed first pass'));
    assert.deepEqual(await batch.commit(['targets/b', 'snapshot']), ['snapshot']);
    assert.equal(await text(cache, 'targets/b'), 'new b');
    assert.equal(await text(cache, 'targets/c'), null);
    assert.equal(await text(cache, 'root'), 'old root');
    assert.deepEqual(await readdir(gunDir(td, 'example.com/app')), ['metadata']);
  });

  it('discard leaves the cache as it was, without a staging directory', async () => {
    const td = await trustDir();
    const cache = new FileMetadataCache(td, 'example.com/app');
    const batch = cache.batch();
    batch.write('targets/a', bytes('a'));
    await batch.discard();
    assert.equal(await text(cache, 'targets/a'), null);
    assert.deepEqual(await readdir(gunDir(td, 'example.com/app')), []);
    assert.throws(() => cache.batch().write('../escape', bytes('x')), InvalidNameError);
  });
});
