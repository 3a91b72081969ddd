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
