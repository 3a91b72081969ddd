import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { MemoryTokenStore } from './memory-store.ts';
import { AccessPolicy } from './policy.ts';
import { parseScopes } from './scope.ts';
import type { User } from './store.ts';

const store = new MemoryTokenStore({ scryptLogN: 10 });
let admin: User;
let alice: User;
let bob: User;

before(async () => {
  admin = await store.addUser('root', 'pw', { admin: true });
  alice = await store.addUser('alice', 'pw');
  bob = await store.addUser('bob', 'pw');
  await store.grant('alice', 'alice');
  await store.grant('bob', 'team/web');
  await store.setAnonymousPull('library', true);
  await store.setAnonymousPull('team', true);
  await store.setAnonymousPull('team/private', false);
});

const ask = (policy: AccessPolicy, who: User | null, ...scopes: string[]) => policy.authorize(who, parseScopes(scopes));
const policy = new AccessPolicy(store, { registryHosts: ['registry.example.com'] });

test('admin: every known action on any repository, and the catalog', async () => {
  assert.deepEqual(await ask(policy, admin, 'repository:anyone/app:pull,push,delete,*', 'registry:catalog:*'), [
    { type: 'repository', class: '', name: 'anyone/app', actions: ['pull', 'push', 'delete', '*'] },
    { type: 'registry', class: '', name: 'catalog', actions: ['*'] },
  ]);
  assert.deepEqual(await ask(policy, admin, 'repository:a/b:frobnicate', 'registry:other:*', 'plugin:x:pull'), [], 'unknown actions and types give nothing');
});

test('a user: pull, push, delete below granted namespaces; not *; nothing elsewhere', async () => {
  assert.deepEqual(await ask(policy, alice, 'repository:alice/app:pull,push,delete,*'), [
    { type: 'repository', class: '', name: 'alice/app', actions: ['pull', 'push', 'delete'] },
  ]);
  assert.deepEqual(await ask(policy, alice, 'repository:alice/deep/er/app:push'), [{ type: 'repository', class: '', name: 'alice/deep/er/app', actions: ['push'] }]);
  assert.deepEqual(await ask(policy, alice, 'repository:alice:pull'), [{ type: 'repository', class: '', name: 'alice', actions: ['pull'] }]);
  assert.deepEqual(await ask(policy, alice, 'repository:alicex/app:pull', 'repository:bob/app:push', 'registry:catalog:*'), [], 'prefixes match whole components');
  assert.deepEqual(await ask(policy, bob, 'repository:team/web/site:push', 'repository:team/api:push,pull'), [
    { type: 'repository', class: '', name: 'team/web/site', actions: ['push'] },
    { type: 'repository', class: '', name: 'team/api', actions: ['pull'] },
  ]);
});

test('trust GUNs with a registry host in front mean the same repository', async () => {
  const want = (name: string) => [{ type: 'repository', class: '', name, actions: ['push', 'pull'] }];
  assert.deepEqual(await ask(policy, alice, 'repository:127.0.0.1:5000/alice/app:push,pull'), want('127.0.0.1:5000/alice/app'));
  assert.deepEqual(await ask(policy, alice, 'repository:registry.example.com/alice/app:push,pull'), want('registry.example.com/alice/app'));
  assert.deepEqual(await ask(policy, alice, 'repository:REGISTRY.example.com/alice/app:push,pull'), want('REGISTRY.example.com/alice/app'));
  assert.deepEqual(await ask(policy, alice, 'repository:other.example.com/alice/app:push,pull'), [], 'an unconfigured host is a namespace like any other');
  assert.deepEqual(await ask(policy, alice, 'repository:Alice/App:pull', 'repository:alice//app:pull', 'repository:alice/_trust:pull'), [], 'invalid names get nothing');
});

test('anonymous pull: closest setting wins, for anonymous and users alike; never push', async () => {
  assert.deepEqual(await ask(policy, null, 'repository:library/alpine:pull,push'), [{ type: 'repository', class: '', name: 'library/alpine', actions: ['pull'] }]);
  assert.deepEqual(await ask(policy, null, 'repository:127.0.0.1:5000/library/alpine:pull'), [
    { type: 'repository', class: '', name: '127.0.0.1:5000/library/alpine', actions: ['pull'] },
  ]);
  assert.deepEqual(await ask(policy, null, 'repository:team/private/x:pull', 'repository:alice/app:pull', 'registry:catalog:*'), []);
  assert.deepEqual(await ask(policy, null, 'repository:team/open:pull'), [{ type: 'repository', class: '', name: 'team/open', actions: ['pull'] }]);
  assert.deepEqual(await ask(policy, alice, 'repository:library/alpine:pull,push,delete'), [{ type: 'repository', class: '', name: 'library/alpine', actions: ['pull'] }]);
});

test('settings are read per request: revoking a grant or closing a namespace takes effect at once', async () => {
  const s = new MemoryTokenStore({ scryptLogN: 10 });
  const carol = await s.addUser('carol', 'pw');
  const p = new AccessPolicy(s);
  await s.grant('carol', 'carol');
  await s.setAnonymousPull('pub', true);
  assert.equal((await ask(p, carol, 'repository:carol/x:push')).length, 1);
  assert.equal((await ask(p, null, 'repository:pub/x:pull')).length, 1);
  await s.revoke('carol', 'carol');
  await s.setAnonymousPull('pub', false);
  assert.deepEqual(await ask(p, carol, 'repository:carol/x:push'), []);
  assert.deepEqual(await ask(p, null, 'repository:pub/x:pull'), []);
});

test('ownerActions widens or narrows what a grant gives', async () => {
  const full = new AccessPolicy(store, { ownerActions: ['pull', 'push', 'delete', '*'] });
  assert.deepEqual((await ask(full, alice, 'repository:alice/app:*'))[0]?.actions, ['*']);
  const readOnly = new AccessPolicy(store, { ownerActions: ['pull'] });
  assert.deepEqual((await ask(readOnly, alice, 'repository:alice/app:pull,push'))[0]?.actions, ['pull']);
  assert.throws(() => new AccessPolicy(store, { ownerActions: ['pull', 'own'] }), RangeError);
});
