import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenRequestError } from './errors.ts';
import { formatScopes, parseScopes } from './scope.ts';

test('scopes: repeated parameters and space-separated lists, merged per resource', () => {
  assert.deepEqual(parseScopes(['repository:alice/app:pull', 'repository:alice/app:push,pull registry:catalog:*']), [
    { type: 'repository', class: '', name: 'alice/app', actions: ['pull', 'push'] },
    { type: 'registry', class: '', name: 'catalog', actions: ['*'] },
  ]);
  assert.deepEqual(parseScopes([]), []);
  assert.deepEqual(parseScopes(['']), []);
});

test('scopes: names may hold a host:port, types may carry a class', () => {
  assert.deepEqual(parseScopes(['repository:127.0.0.1:5000/alice/app:push,pull']), [
    { type: 'repository', class: '', name: '127.0.0.1:5000/alice/app', actions: ['push', 'pull'] },
  ]);
  assert.deepEqual(parseScopes(['repository(plugin):vendor/plug:pull']), [{ type: 'repository', class: 'plugin', name: 'vendor/plug', actions: ['pull'] }]);
});

test('scopes: malformed ones are request errors', () => {
  for (const bad of ['repository', 'repository:alice/app', ':alice/app:pull', 'repository::pull', 'Repository:a:pull', 'repository:a:pu ll', 'repository:a:pull,', 'repo(x:a:pull']) {
    assert.throws(() => parseScopes([bad]), TokenRequestError, bad);
  }
  assert.throws(() => parseScopes([Array.from({ length: 33 }, (_, i) => `repository:r${i}:pull`).join(' ')]), /more than 32/);
});

test('formatScopes is the inverse for granted access', () => {
  const s = 'repository:127.0.0.1:5000/a/b:pull,push repository(plugin):p:pull registry:catalog:*';
  assert.equal(formatScopes(parseScopes([s])), s);
});
