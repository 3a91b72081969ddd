import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex } from '../canonical/index.ts';
import { Prefetcher } from './prefetch.ts';
import type { ConsistentInfo } from './trusted-set.ts';

const info = (role: string, body?: Uint8Array): ConsistentInfo =>
  body === undefined ? { role, known: true, length: 1000 } : { role, known: true, length: body.length, sha256: sha256Hex(body) };

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('Prefetcher', () => {
  it('keeps at most `limit` downloads in flight, starting them in the order asked', async () => {
    let running = 0;
    let most = 0;
    const started: string[] = [];
    const ahead = new Prefetcher({
      limit: 3,
      maxStarts: 100,
      read: async () => null,
      fetch: async (role) => {
        started.push(role);
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        return bytes(role);
      },
    });
    const roles = Array.from({ length: 10 }, (_, i) => `targets/d${i}`);
    for (const r of roles) ahead.start(r, info(r));
    for (const r of [...roles].reverse()) assert.deepEqual(await ahead.take(r), bytes(r));
    assert.equal(most, 3);
    assert.deepEqual(started, roles);
  });

  it("raises a download's error at take, once; a role never taken raises nothing", async () => {
    const ahead = new Prefetcher({ limit: 2, maxStarts: 100, read: async () => null, fetch: async (role) => Promise.reject(new Error(`no ${role}`)) });
    ahead.start('targets/a', info('targets/a'));
    ahead.start('targets/b', info('targets/b')); // never taken: no unhandled rejection
    await assert.rejects(ahead.take('targets/a'), /no targets\/a/);
    assert.equal(await ahead.take('targets/a'), null);
  });

  it('downloads nothing for a cached copy with the listed checksum, and the rest past maxStarts', async () => {
    const cached = bytes('cached copy');
    const fetched: string[] = [];
    const ahead = new Prefetcher({
      limit: 8,
      maxStarts: 2,
      read: async (role) => (role === 'targets/stale' ? bytes('old copy') : role === 'targets/same' ? cached : null),
      fetch: async (role) => {
        fetched.push(role);
        return bytes(role);
      },
    });
    ahead.start('targets/same', info('targets/same', cached));
    ahead.start('targets/stale', info('targets/stale', bytes('new copy')));
    ahead.start('targets/third', info('targets/third'));
    assert.equal(await ahead.take('targets/same'), null);
    assert.deepEqual(await ahead.take('targets/stale'), bytes('targets/stale'));
    assert.equal(await ahead.take('targets/third'), null);
    assert.deepEqual(fetched, ['targets/stale']);
  });

  it('refuses a limit below 1', () => {
    assert.throws(() => new Prefetcher({ limit: 0, maxStarts: 1, read: async () => null, fetch: async () => bytes('') }), RangeError);
  });
});
