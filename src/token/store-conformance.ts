/**
 * The behaviour every `TokenStore` backend must show (store.ts), as node:test cases. A backend's
 * test file calls `tokenStoreConformance(name, open)` with a factory for an empty store; the
 * memory store is the reference.
 *
 * Example:
 *   tokenStoreConformance('memory', async () => ({ store: new MemoryTokenStore({ scryptLogN: 10 }), close: async () => {} }));
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError, StateError } from '../errors/index.ts';
import { InvalidCredentialsError } from './errors.ts';
import type { TokenStore } from './store.ts';

export interface OpenedStore {
  readonly store: TokenStore;
  close(): Promise<void>;
}

const HOUR = 3600_000;

export function tokenStoreConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`TokenStore conformance: ${name}`, () => {
    async function withStore(fn: (s: TokenStore) => Promise<void>): Promise<void> {
      const o = await open();
      try {
        await fn(o.store);
      } finally {
        await o.close();
      }
    }

    it('adds users and verifies their passwords; unknown users and wrong passwords fail alike', () =>
      withStore(async (s) => {
        const alice = await s.addUser('alice', 'alice-pw');
        assert.equal(alice.name, 'alice');
        assert.equal(alice.admin, false);
        await s.addUser('root', 'root-pw', { admin: true });
        assert.deepEqual((await s.verify('alice', 'alice-pw')).name, 'alice');
        assert.equal((await s.verify('root', 'root-pw')).admin, true);
        await assert.rejects(s.verify('alice', 'wrong'), InvalidCredentialsError);
        await assert.rejects(s.verify('alice', ''), InvalidCredentialsError);
        await assert.rejects(s.verify('nobody', 'alice-pw'), InvalidCredentialsError);
        await assert.rejects(s.verify('ALICE', 'alice-pw'), InvalidCredentialsError, 'names are case-sensitive');
        assert.deepEqual((await s.listUsers()).map((u) => u.name), ['alice', 'root']);
        assert.equal((await s.getUser('nobody')), null);
        assert.equal((await s.getUser('alice'))?.created.getTime(), alice.created.getTime());
      }));

    it('refuses duplicate users, invalid names and invalid passwords', () =>
      withStore(async (s) => {
        await s.addUser('alice', 'pw');
        await assert.rejects(s.addUser('alice', 'other'), StateError);
        await assert.rejects(s.addUser('a:b', 'pw'), RangeError);
        await assert.rejects(s.addUser('', 'pw'), RangeError);
        await assert.rejects(s.addUser('bob', ''), RangeError);
        await assert.rejects(s.addUser('bob', 'x'.repeat(1025)), RangeError);
        assert.deepEqual((await s.listUsers()).map((u) => u.name), ['alice']);
      }));

    it('setPassword replaces the password and revokes refresh tokens', () =>
      withStore(async (s) => {
        await s.addUser('alice', 'old');
        const now = new Date();
        await s.addRefreshToken({ id: 'a'.repeat(64), user: 'alice', clientId: 'docker', created: now, expires: new Date(now.getTime() + HOUR) });
        assert.notEqual(await s.findRefreshToken('a'.repeat(64), now), null);
        await s.setPassword('alice', 'new');
        await assert.rejects(s.verify('alice', 'old'), InvalidCredentialsError);
        assert.equal((await s.verify('alice', 'new')).name, 'alice');
        assert.equal(await s.findRefreshToken('a'.repeat(64), now), null);
        await assert.rejects(s.setPassword('nobody', 'x'), NotFoundError);
      }));

    it('setAdmin and removeUser; removal drops grants and refresh tokens', () =>
      withStore(async (s) => {
        await s.addUser('alice', 'pw');
        await s.setAdmin('alice', true);
        assert.equal((await s.getUser('alice'))?.admin, true);
        await s.grant('alice', 'alice');
        const now = new Date();
        await s.addRefreshToken({ id: 'b'.repeat(64), user: 'alice', clientId: 'docker', created: now, expires: new Date(now.getTime() + HOUR) });
        await s.removeUser('alice');
        assert.equal(await s.getUser('alice'), null);
        await assert.rejects(s.verify('alice', 'pw'), InvalidCredentialsError);
        assert.equal(await s.findRefreshToken('b'.repeat(64), now), null);
        await s.addUser('alice', 'pw2');
        assert.deepEqual(await s.grantsOf('alice'), [], 'a re-created user does not inherit grants');
        await assert.rejects(s.removeUser('nobody'), NotFoundError);
        await assert.rejects(s.setAdmin('nobody', true), NotFoundError);
      }));

    it('grants: idempotent, sorted, validated, only for existing users', () =>
      withStore(async (s) => {
        await s.addUser('bob', 'pw');
        await s.grant('bob', 'team/web');
        await s.grant('bob', 'bob');
        await s.grant('bob', 'bob');
        assert.deepEqual(await s.grantsOf('bob'), ['bob', 'team/web']);
        await s.revoke('bob', 'team/web');
        await s.revoke('bob', 'never-granted');
        assert.deepEqual(await s.grantsOf('bob'), ['bob']);
        await assert.rejects(s.grant('bob', 'Bob'), RangeError);
        await assert.rejects(s.grant('bob', 'a//b'), RangeError);
        await assert.rejects(s.grant('bob', '_trust'), RangeError);
        await assert.rejects(s.grant('nobody', 'x'), NotFoundError);
        assert.deepEqual(await s.grantsOf('nobody'), []);
      }));

    it('refresh tokens: found until they expire, revoked per user, only for existing users', () =>
      withStore(async (s) => {
        await s.addUser('alice', 'pw');
        await s.addUser('bob', 'pw');
        const t0 = new Date('2030-01-01T00:00:00Z');
        const rec = { id: 'c'.repeat(64), user: 'alice', clientId: 'docker', created: t0, expires: new Date(t0.getTime() + HOUR) };
        await s.addRefreshToken(rec);
        await s.addRefreshToken({ ...rec, id: 'd'.repeat(64) });
        await s.addRefreshToken({ ...rec, id: 'e'.repeat(64), user: 'bob' });
        assert.deepEqual(await s.findRefreshToken('c'.repeat(64), t0), rec);
        assert.equal(await s.findRefreshToken('c'.repeat(64), new Date(t0.getTime() + HOUR)), null, 'expired at its expiry instant');
        assert.equal(await s.findRefreshToken('f'.repeat(64), t0), null);
        assert.equal(await s.revokeRefreshTokens('alice'), 2);
        assert.equal(await s.findRefreshToken('d'.repeat(64), t0), null);
        assert.notEqual(await s.findRefreshToken('e'.repeat(64), t0), null);
        await assert.rejects(s.addRefreshToken({ ...rec, id: '0'.repeat(64), user: 'nobody' }), NotFoundError);
      }));

    it('namespace settings: set, overwrite, list sorted, remove', () =>
      withStore(async (s) => {
        assert.equal(await s.getNamespace('library'), null);
        await s.setAnonymousPull('library', true);
        await s.setAnonymousPull('alice', false);
        await s.setAnonymousPull('library', false);
        await s.setAnonymousPull('team/public', true);
        assert.deepEqual(await s.getNamespace('library'), { namespace: 'library', anonymousPull: false });
        assert.deepEqual(await s.listNamespaces(), [
          { namespace: 'alice', anonymousPull: false },
          { namespace: 'library', anonymousPull: false },
          { namespace: 'team/public', anonymousPull: true },
        ]);
        await s.removeNamespace('alice');
        await s.removeNamespace('absent');
        assert.deepEqual((await s.listNamespaces()).map((n) => n.namespace), ['library', 'team/public']);
        await assert.rejects(s.setAnonymousPull('Library', true), RangeError);
      }));

    it('concurrent verifications and a password change never mix up users', () =>
      withStore(async (s) => {
        await Promise.all([s.addUser('u1', 'p1'), s.addUser('u2', 'p2'), s.addUser('u3', 'p3')]);
        const results = await Promise.allSettled([s.verify('u1', 'p1'), s.verify('u2', 'p1'), s.verify('u3', 'p3'), s.setPassword('u1', 'p1b')]);
        assert.equal(results[1]?.status, 'rejected');
        assert.equal(results[2]?.status === 'fulfilled' ? results[2].value.name : '', 'u3');
        assert.equal((await s.verify('u1', 'p1b')).name, 'u1');
      }));
  });
}
