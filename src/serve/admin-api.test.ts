import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MemoryPolicyStore } from '../policy/index.ts';
import { MemoryTokenStore } from '../token/index.ts';
import { createAdminHandler } from './admin-api.ts';

const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const ADMIN = basic('root', 'root-password');

describe('admin API', () => {
  let server: Server;
  let port: number;
  const users = new MemoryTokenStore({ scryptLogN: 10 });
  const policies = new MemoryPolicyStore();
  const changes: string[] = [];

  before(async () => {
    await users.addUser('root', 'root-password', { admin: true });
    await users.addUser('alice', 'alice-password');
    const admin = createAdminHandler({
      users,
      policies,
      verifyToken: async (h) => (h === 'Bearer good-token' ? 'root' : h === 'Bearer alice-token' ? 'alice' : null),
      onChange: (who, what) => changes.push(`${who}: ${what}`),
    });
    server = createServer((req, res) => {
      void admin(req, res).then((handled) => {
        if (!handled) res.writeHead(418).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  function call(method: string, path: string, authorization?: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(authorization === undefined ? {} : { authorization }) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) });
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  it('leaves other paths alone', async () => {
    assert.equal((await call('GET', '/v2/')).status, 418);
    assert.equal((await call('GET', '/_vouchx/policy')).status, 418);
  });

  it('asks for admin credentials: 401 with a Basic challenge, 403 for a user who is not an admin', async () => {
    let r = await call('GET', '/_vouch/policy');
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Basic realm="vouch"');
    assert.equal(r.json.errors[0].code, 'UNAUTHORIZED');
    assert.equal((await call('GET', '/_vouch/policy', basic('root', 'wrong'))).status, 401);
    assert.equal((await call('GET', '/_vouch/policy', 'Bearer forged')).status, 401);
    r = await call('GET', '/_vouch/policy', basic('alice', 'alice-password'));
    assert.deepEqual([r.status, r.json.errors[0].code, r.json.errors[0].message], [403, 'DENIED', 'user "alice" is not an admin']);
    assert.equal((await call('GET', '/_vouch/policy', 'Bearer alice-token')).status, 403);
    assert.equal((await call('GET', '/_vouch/policy', 'Bearer good-token')).status, 200);
  });

  it('policy: put, get with the closest namespace, list, delete; every bad field reported', async () => {
    let r = await call('PUT', '/_vouch/policy/team', ADMIN, { enforce: true, required_signers: ['bob', 'alice'] });
    assert.deepEqual(r.json, { namespace: 'team', enforce: true, pinned_root_key: null, required_signers: ['alice', 'bob'], anonymous_pull: false, applies_from: 'team', anonymous_pull_from: 'team' });
    r = await call('GET', '/_vouch/policy/team/web/app', ADMIN);
    assert.deepEqual(r.json, { namespace: 'team/web/app', enforce: true, pinned_root_key: null, required_signers: ['alice', 'bob'], anonymous_pull: false, applies_from: 'team', anonymous_pull_from: 'team' });
    r = await call('GET', '/_vouch/policy/other', ADMIN);
    assert.deepEqual(r.json, { namespace: 'other', enforce: false, pinned_root_key: null, required_signers: [], anonymous_pull: false, applies_from: null, anonymous_pull_from: null });
    r = await call('PUT', '/_vouch/policy/team', ADMIN, { enforce: 'yes', pinned_root_key: 'xyz', required_signers: ['Bad Name'], anonymous_pull: 1 });
    assert.equal(r.status, 400);
    assert.equal(r.json.errors[0].code, 'INVALID');
    assert.equal(r.json.errors[0].detail.length, 4);
    assert.equal(r.json.errors[0].detail[3], 'anonymous_pull must be true or false');
    assert.equal((await call('PUT', '/_vouch/policy/team', ADMIN, 'not json')).status, 400);
    assert.equal((await call('GET', '/_vouch/policy/Team', ADMIN)).status, 400);
    assert.deepEqual((await call('GET', '/_vouch/policy', ADMIN)).json.policies.map((p: { namespace: string }) => p.namespace), ['team']);
    assert.equal((await call('DELETE', '/_vouch/policy/team', ADMIN)).status, 204);
    assert.equal((await call('GET', '/_vouch/policy/team', ADMIN)).json.applies_from, null);
    assert.equal((await call('POST', '/_vouch/policy/team', ADMIN)).status, 405);
    assert.ok(changes.some((c) => c.startsWith('root: policy team:')));
  });

  it('anonymous pull: set with the setting, kept in the token store, shown from its closest namespace, forgotten with it', async () => {
    let r = await call('PUT', '/_vouch/policy/library', ADMIN, { anonymous_pull: true });
    assert.deepEqual(r.json, { namespace: 'library', enforce: false, pinned_root_key: null, required_signers: [], anonymous_pull: true, applies_from: 'library', anonymous_pull_from: 'library' });
    assert.deepEqual(await users.getNamespace('library'), { namespace: 'library', anonymousPull: true });
    r = await call('GET', '/_vouch/policy/library/nginx', ADMIN);
    assert.deepEqual([r.json.anonymous_pull, r.json.anonymous_pull_from], [true, 'library']);
    // a namespace whose anonymous pull was set outside the API is listed too, with content trust off
    await users.setAnonymousPull('public', true);
    await call('PUT', '/_vouch/policy/library/private', ADMIN, { enforce: true });
    r = await call('GET', '/_vouch/policy', ADMIN);
    assert.deepEqual(
      r.json.policies.map((p: { namespace: string; enforce: boolean; anonymous_pull: boolean }) => [p.namespace, p.enforce, p.anonymous_pull]),
      [
        ['library', false, true],
        ['library/private', true, false],
        ['public', false, true],
      ],
    );
    r = await call('GET', '/_vouch/policy/library/private/x', ADMIN);
    assert.deepEqual([r.json.enforce, r.json.anonymous_pull, r.json.applies_from, r.json.anonymous_pull_from], [true, false, 'library/private', 'library/private']);
    assert.equal((await call('PUT', '/_vouch/policy/library', ADMIN, { enforce: false })).json.anonymous_pull, false, 'a PUT replaces the whole setting');
    assert.deepEqual(await users.getNamespace('library'), { namespace: 'library', anonymousPull: false });
    for (const ns of ['library', 'library/private', 'public']) assert.equal((await call('DELETE', `/_vouch/policy/${ns}`, ADMIN)).status, 204);
    assert.deepEqual(await users.listNamespaces(), []);
    assert.deepEqual((await call('GET', '/_vouch/policy', ADMIN)).json.policies, []);
    assert.ok(changes.includes('root: policy library: {"namespace":"library","enforce":false,"pinned_root_key":null,"required_signers":[],"anonymous_pull":true}'));
  });

  it('users: add, duplicate, password, grants, list, remove; an admin cannot remove themselves', async () => {
    let r = await call('POST', '/_vouch/users', ADMIN, { name: 'bob', password: 'bob-password' });
    assert.equal(r.status, 201);
    assert.deepEqual({ ...r.json, created: 'x' }, { name: 'bob', admin: false, created: 'x', grants: [] });
    assert.equal((await call('POST', '/_vouch/users', ADMIN, { name: 'bob', password: 'again-password' })).status, 409);
    assert.equal((await call('POST', '/_vouch/users', ADMIN, { name: 'x y', password: 'pw-password' })).status, 400);
    assert.equal((await call('POST', '/_vouch/users', ADMIN, { name: 7 })).status, 400);
    assert.equal((await call('PUT', '/_vouch/users/bob/grants/team/web', ADMIN)).status, 204);
    assert.equal((await call('PUT', '/_vouch/users/nobody/grants/team', ADMIN)).status, 404);
    r = await call('GET', '/_vouch/users/bob', ADMIN);
    assert.deepEqual(r.json.grants, ['team/web']);
    assert.equal((await call('PUT', '/_vouch/users/bob/password', ADMIN, { password: 'new-bob-password' })).status, 204);
    await users.verify('bob', 'new-bob-password');
    assert.equal((await call('DELETE', '/_vouch/users/bob/grants/team/web', ADMIN)).status, 204);
    assert.deepEqual((await call('GET', '/_vouch/users', ADMIN)).json.users.map((u: { name: string }) => u.name), ['alice', 'bob', 'root']);
    assert.equal((await call('DELETE', '/_vouch/users/root', ADMIN)).status, 409);
    assert.equal((await call('DELETE', '/_vouch/users/bob', ADMIN)).status, 204);
    assert.equal((await call('DELETE', '/_vouch/users/bob', ADMIN)).status, 404);
    assert.equal((await call('GET', '/_vouch/nothing', ADMIN)).status, 404);
  });
});
