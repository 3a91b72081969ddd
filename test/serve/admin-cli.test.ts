/**
 * `vouch policy …` and `vouch user …` against the `vouch serve` binary, authenticating the way
 * an admin would after `docker login`: the identity token docker saved is exchanged at the
 * server's token endpoint; the server's CA is the one docker keeps for it. A user who is not an
 * admin is refused; a password set with `vouch user passwd` is the one `docker login` accepts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult, type RunResult } from '../support/exec.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { ADMIN_PASSWORD, dockerClient, startServeProcess, vouch, type Client, type ServeProcess } from './support.ts';

describe('vouch policy and vouch user with a docker login', { timeout: 300_000 }, () => {
  let dir: string;
  let srv: ServeProcess;
  let admin: Client;
  const as = (c: Client, args: string[], input?: string): Promise<RunResult> => vouch([...args, '-s', srv.host], { HOME: c.home, DOCKER_CONFIG: c.configDir }, input);
  const ok = (r: RunResult, what: string): RunResult => {
    assert.equal(r.code, 0, describeResult([what], r));
    return r;
  };

  before(async () => {
    dir = await tempDir('serve-admin-cli');
    srv = await startServeProcess(dir);
    admin = await dockerClient(srv, join(dir, 'admin'));
    ok(await admin.run(['login', srv.host, '-u', 'admin', '--password-stdin'], `${ADMIN_PASSWORD}\n`), 'docker login admin');
  });
  after(async () => {
    await srv?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('user add with a generated password, grant, list', async () => {
    const r = ok(await as(admin, ['user', 'add', 'carol', '--grant', 'team', 'shared/web']), 'user add');
    const m = /^Created user carol, owner of team, shared\/web\nPassword: ([A-Za-z0-9_-]{24})\n$/.exec(r.stdout);
    assert.ok(m !== null, r.stdout);
    const carol = await dockerClient(srv, join(dir, 'carol'));
    ok(await carol.run(['login', srv.host, '-u', 'carol', '--password-stdin'], `${m[1]}\n`), 'docker login carol');
    const list = JSON.parse(ok(await as(admin, ['user', 'list', '--output', 'json']), 'user list').stdout) as { name: string; admin: boolean; grants: string[] }[];
    assert.deepEqual(
      list.map((u) => [u.name, u.admin, u.grants]),
      [
        ['admin', true, []],
        ['carol', false, ['shared/web', 'team']],
      ],
    );
    ok(await as(admin, ['user', 'revoke', 'carol', 'shared/web']), 'user revoke');
  });

  it('policy set/get/list/remove in text and JSON', async () => {
    let r = ok(await as(admin, ['policy', 'set', 'team', '--enforce', '--require-signer', 'alice', 'bob']), 'policy set');
    assert.equal(r.stdout, 'namespace:         team\nenforce:           on\npinned root key:   -\nrequired signers:  alice, bob\nanonymous pull:    off\napplies from:      team\n');
    r = ok(await as(admin, ['policy', 'set', 'team', '--pin-root', 'ab'.repeat(32)]), 'policy set --pin-root');
    assert.match(r.stdout, /enforce: {11}on\n/, 'flags not given keep their value');
    assert.match(r.stdout, /required signers: {2}alice, bob\n/);
    r = ok(await as(admin, ['policy', 'get', 'team/app', '--output', 'json']), 'policy get');
    assert.deepEqual(JSON.parse(r.stdout), {
      namespace: 'team/app',
      enforce: true,
      pinned_root_key: 'ab'.repeat(32),
      required_signers: ['alice', 'bob'],
      anonymous_pull: false,
      applies_from: 'team',
      anonymous_pull_from: 'team',
    });
    r = ok(await as(admin, ['policy', 'list']), 'policy list');
    assert.equal(r.stdout, `NAMESPACE   ENFORCE   ANONYMOUS PULL   PINNED ROOT KEY${' '.repeat(52)}REQUIRED SIGNERS\nteam        on        off              ${'ab'.repeat(32)}   alice,bob\n`);
    r = await as(admin, ['policy', 'set', 'team', '--pin-root', 'nothex']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'vouch: pinned_root_key must be a key ID (64 lowercase hex digits) or null (HTTP 400 INVALID)\n');
    r = ok(await as(admin, ['policy', 'set', 'team/public', '--anonymous-pull']), 'policy set --anonymous-pull');
    assert.equal(
      r.stdout,
      'namespace:         team/public\nenforce:           off\npinned root key:   -\nrequired signers:  -\nanonymous pull:    on\napplies from:      team/public\n',
      'a new setting starts from the defaults',
    );
    r = ok(await as(admin, ['policy', 'set', 'team/public', '--enforce', '--output', 'json']), 'policy set --enforce');
    assert.deepEqual([JSON.parse(r.stdout).enforce, JSON.parse(r.stdout).anonymous_pull], [true, true], 'anonymous pull is kept');
    r = ok(await as(admin, ['policy', 'get', 'team/public/site']), 'policy get');
    assert.match(r.stdout, /anonymous pull: {4}on\napplies from: {6}team\/public\n$/);
    r = ok(await as(admin, ['policy', 'list', '--output', 'json']), 'policy list --output json');
    assert.deepEqual(
      (JSON.parse(r.stdout) as { namespace: string; anonymous_pull: boolean }[]).map((p) => [p.namespace, p.anonymous_pull]),
      [
        ['team', false],
        ['team/public', true],
      ],
    );
    r = ok(await as(admin, ['policy', 'set', 'team/public', '--no-anonymous-pull', '--output', 'json']), 'policy set --no-anonymous-pull');
    assert.equal(JSON.parse(r.stdout).anonymous_pull, false);
    ok(await as(admin, ['policy', 'remove', 'team/public']), 'policy remove team/public');
    ok(await as(admin, ['policy', 'remove', 'team']), 'policy remove');
    assert.equal(JSON.parse(ok(await as(admin, ['policy', 'get', 'team', '--output', 'json']), 'policy get').stdout).applies_from, null);
  });

  it('a user who is not an admin is refused; without a login the command says how to log in', async () => {
    const carol = await dockerClient(srv, join(dir, 'carol'));
    const r = await as(carol, ['policy', 'list']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'vouch: user "carol" is not an admin (HTTP 403 DENIED)\n');
    const nobody = await dockerClient(srv, join(dir, 'nobody'));
    const n = await as(nobody, ['policy', 'list']);
    assert.equal(n.code, 1);
    assert.equal(n.stderr, `vouch: no credentials for ${srv.host}: log in first (docker login ${srv.host}), or pass --username with VOUCH_PASSWORD set\n`);
  });

  it('user passwd: docker login takes the new password only; user remove ends the account', async () => {
    ok(await as(admin, ['user', 'passwd', 'carol', '--password-stdin'], 'carol-new-password\n'), 'user passwd');
    const carol = await dockerClient(srv, join(dir, 'carol2'));
    assert.notEqual((await carol.run(['login', srv.host, '-u', 'carol', '--password-stdin'], 'wrong\n')).code, 0);
    ok(await carol.run(['login', srv.host, '-u', 'carol', '--password-stdin'], 'carol-new-password\n'), 'docker login carol');
    ok(await as(admin, ['user', 'remove', 'carol']), 'user remove');
    assert.notEqual((await carol.run(['login', srv.host, '-u', 'carol', '--password-stdin'], 'carol-new-password\n')).code, 0);
  });
});
