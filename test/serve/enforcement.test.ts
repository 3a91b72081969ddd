/**
 * Content-trust enforcement of `vouch serve` (issue item 4) with the real clients: skopeo pushes
 * and pulls, docker trust and the notary CLI sign and unsign (on docker's trust dir, as docker's
 * own signer), and the admin turns enforcement on with `vouch policy`.
 *
 * With enforcement on for `team`:
 * - an unsigned tag is refused (412, the message names the tag and what is missing);
 * - a signed tag is served, by tag and by its digest; an unsigned digest is refused;
 * - a tag re-pointed to an unsigned digest is refused until it points back;
 * - the pusher's own HEAD/GET (token with push) pass; a plain pull (token with pull) does not;
 * - deleting a signed tag or manifest is refused with the command that unsigns it, and allowed
 *   after `docker trust revoke`;
 * - required signers and a pinned root key are honoured;
 * - every decision is in the audit log with the user.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult, type RunResult } from '../support/exec.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { buildImageLayout, buildIndexLayout, skopeo, type ImageLayout } from '../registry/support.ts';
import { ADMIN_PASSWORD, basic, bearer, call, dockerClient, errorMessage, notaryClient, startServeProcess, vouch, type Client, type ServeProcess } from './support.ts';

const ALICE = 'alice-secret';

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, describeResult([what], r));
  return r;
}

describe('content-trust enforcement in vouch serve', { timeout: 600_000 }, () => {
  let dir: string;
  let srv: ServeProcess;
  let a: ImageLayout;
  let b: ImageLayout;
  let docker: Client;
  let notary: Client;
  let gun: string;
  let pull: string;
  let push: string;
  let del: string;
  const adminEnv = (): Record<string, string> => ({ HOME: dir, VOUCH_PASSWORD: ADMIN_PASSWORD });
  const policy = async (...args: string[]): Promise<RunResult> =>
    ok(await vouch(['policy', 'set', 'team', ...args, '--username', 'admin', '-s', srv.host, '--tlscacert', srv.caFile, '--output', 'json'], adminEnv()), `vouch policy set ${args.join(' ')}`);
  const sizeOf = (img: ImageLayout): number => img.blobs.find((x) => x.digest === img.digest)!.size;
  const copyIn = (img: ImageLayout, tag: string) =>
    skopeo(join(dir, 'skopeo'), ['copy', `oci:${img.dir}:${img.tag}`, `docker://${gun}:${tag}`, '--dest-creds', `alice:${ALICE}`, '--dest-cert-dir', srv.certDir]);
  const copyOut = (ref: string) => skopeo(join(dir, 'skopeo'), ['copy', `docker://${ref}`, `oci:${join(dir, 'out')}:x`, '--src-creds', `alice:${ALICE}`, '--src-cert-dir', srv.certDir]);
  const manifest = (reference: string, method = 'GET', token = pull) =>
    call(srv, method, `/v2/team/app/manifests/${reference}`, { headers: { authorization: token, accept: 'application/vnd.oci.image.manifest.v1+json' } });
  /** Sign `tag` → image `img` into `roles` with the notary CLI on docker's trust dir. */
  const sign = async (tag: string, img: ImageLayout, roles: string[]) =>
    ok(await notary.run(['addhash', gun, tag, String(sizeOf(img)), '--sha256', img.digest.slice(7), ...roles.flatMap((r) => ['-r', r]), '-p']), `notary addhash ${tag}`);

  before(async () => {
    dir = await tempDir('serve-enforce');
    srv = await startServeProcess(dir);
    gun = `${srv.host}/team/app`;
    const admin = { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' };
    assert.equal((await call(srv, 'POST', '/_vouch/users', { headers: admin, body: JSON.stringify({ name: 'alice', password: ALICE }) })).status, 201);
    assert.equal((await call(srv, 'PUT', '/_vouch/users/alice/grants/team', { headers: admin })).status, 204);
    a = await buildImageLayout(join(dir, 'a'), { layers: [400_000, 20_000] });
    b = await buildImageLayout(join(dir, 'b'), { layers: [300_000] });
    ok(await copyIn(a, 'v1'), 'skopeo copy a → v1');
    ok(await copyIn(a, 'v2'), 'skopeo copy a → v2');
    ok(await copyIn(b, 'b'), 'skopeo copy b → b');
    docker = await dockerClient(srv, join(dir, 'alice'));
    ok(await docker.run(['login', srv.host, '-u', 'alice', '--password-stdin'], `${ALICE}\n`), 'docker login');
    const keys = join(dir, 'keys');
    await mkdir(keys, { recursive: true });
    ok(await docker.run(['trust', 'key', 'generate', 'alice', '--dir', keys]), 'docker trust key generate');
    ok(await docker.run(['trust', 'signer', 'add', '--key', join(keys, 'alice.pub'), 'alice', gun]), 'docker trust signer add');
    notary = notaryClient(srv, docker.home, join(docker.configDir, 'trust'), 'alice', ALICE);
    pull = await bearer(srv, 'alice', ALICE, 'repository:team/app:pull');
    push = await bearer(srv, 'alice', ALICE, 'repository:team/app:pull,push');
    del = await bearer(srv, 'alice', ALICE, 'repository:team/app:delete');
  });
  after(async () => {
    await srv?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('without enforcement an unsigned tag is served; vouch policy set turns it on', async () => {
    assert.equal((await manifest('v1')).status, 200);
    const r = await policy('--enforce');
    assert.deepEqual(JSON.parse(r.stdout), { namespace: 'team', enforce: true, pinned_root_key: null, required_signers: [], anonymous_pull: false, applies_from: 'team', anonymous_pull_from: 'team' });
  });

  it('an unsigned tag is refused with 412 naming the tag and what is missing', async () => {
    const r = await manifest('v1');
    assert.equal(r.status, 412);
    assert.equal(errorMessage(r), `content trust: tag "v1" is not signed in ${gun} (neither targets/releases nor targets lists it)`);
    assert.equal((await manifest('v1', 'HEAD')).status, 412);
    const s = await copyOut(`${gun}:v1`);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /tag \\?"v1\\?" is not signed/);
  });

  it("the pusher's own HEAD and GET pass (token with push); the push of an existing image too", async () => {
    assert.equal((await manifest('v1', 'HEAD', push)).status, 200);
    assert.equal((await manifest('v1', 'GET', push)).status, 200);
    ok(await copyIn(a, 'v1'), 'skopeo copy a → v1 again');
  });

  it('a signed tag is served, by tag and by its digest; an unsigned digest is refused', async () => {
    await sign('v1', a, ['targets/releases', 'targets/alice']);
    const r = await manifest('v1');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['docker-content-digest'], a.digest);
    assert.equal((await manifest(a.digest)).status, 200);
    const out = ok(await copyOut(`${gun}:v1`), 'skopeo copy out v1');
    assert.doesNotMatch(out.stderr, /denied/);
    const byDigest = await manifest(b.digest);
    assert.equal(byDigest.status, 412);
    assert.equal(errorMessage(byDigest), `content trust: ${b.digest} is not the digest of any signed tag in ${gun}`);
    assert.notEqual((await copyOut(`${gun}@${b.digest}`)).code, 0);
    const inspect = JSON.parse(ok(await docker.run(['trust', 'inspect', gun]), 'docker trust inspect').stdout) as { SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[] }[];
    assert.deepEqual(inspect[0]?.SignedTags, [{ SignedTag: 'v1', Digest: a.digest.slice(7), Signers: ['alice'] }]);
  });

  it('a tag re-pointed to an unsigned digest is refused until it points back', async () => {
    ok(await copyIn(b, 'v1'), 'skopeo copy b → v1');
    const r = await manifest('v1');
    assert.equal(r.status, 412);
    assert.equal(errorMessage(r), `content trust: tag "v1" is signed in ${gun} for ${a.digest}, but the registry's "v1" is ${b.digest}`);
    ok(await copyIn(a, 'v1'), 'skopeo copy a → v1');
    assert.equal((await manifest('v1')).status, 200);
  });

  it('required signers: a tag only the repository admin signed is refused until alice signs it', async () => {
    await sign('v2', a, []); // into targets, with the repository key docker's signer add left in the trust dir
    assert.equal((await manifest('v2')).status, 200);
    await policy('--require-signer', 'alice');
    const r = await manifest('v2');
    assert.equal(r.status, 412);
    assert.equal(errorMessage(r), `content trust: tag "v2" (${a.digest}) in ${gun} lacks a required signature: required signer "alice" has not signed it`);
    assert.equal((await manifest('v1')).status, 200, 'v1 is signed by alice');
    await sign('v2', a, ['targets/alice']);
    assert.equal((await manifest('v2')).status, 200);
    await policy('--require-signer', 'alice', 'bob');
    assert.match(errorMessage(await manifest('v1')), /required signer "bob" is not a signer \(no valid targets\/bob role\)$/);
    const cleared = await policy('--no-require-signer');
    assert.deepEqual(JSON.parse(cleared.stdout).required_signers, []);
    assert.equal((await manifest('v1')).status, 200);
  });

  it('a pinned root key: the wrong one refuses everything, the repository’s own serves', async () => {
    const inspect = JSON.parse(ok(await docker.run(['trust', 'inspect', gun]), 'docker trust inspect').stdout) as { AdministrativeKeys: { Name: string; Keys: { ID: string }[] }[] }[];
    const rootId = inspect[0]!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys[0]!.ID;
    await policy('--pin-root', 'f'.repeat(64));
    const r = await manifest('v1');
    assert.equal(r.status, 412);
    assert.match(errorMessage(r), new RegExp(`^content trust: trust data for ${gun.replace(/\./g, '\\.')} does not verify with root key f{64} pinned: `));
    await policy('--pin-root', rootId);
    assert.equal((await manifest('v1')).status, 200);
    await policy('--no-pin-root');
  });

  it('a signed image index: its platform manifests are served by digest to a plain pull', async () => {
    const index = await buildIndexLayout(join(dir, 'index'), { layers: [50_000], archs: ['amd64', 'arm64'] });
    const dest = `${srv.host}/team/multi`;
    ok(await skopeo(join(dir, 'skopeo'), ['copy', '--all', `oci:${index.dir}:${index.tag}`, `docker://${dest}:v1`, '--dest-creds', `alice:${ALICE}`, '--dest-cert-dir', srv.certDir]), 'skopeo copy --all in');
    const out = ['copy', '--all', `docker://${dest}:v1`, `oci:${join(dir, 'multi-out')}:v1`, '--src-creds', `alice:${ALICE}`, '--src-cert-dir', srv.certDir];
    const refused = await skopeo(join(dir, 'skopeo'), out);
    assert.notEqual(refused.code, 0, 'unsigned');
    ok(await docker.run(['trust', 'signer', 'add', '--key', join(dir, 'keys', 'alice.pub'), 'alice', dest]), 'docker trust signer add');
    const size = index.blobs.find((x) => x.digest === index.digest)!.size;
    ok(await notary.run(['addhash', dest, 'v1', String(size), '--sha256', index.digest.slice(7), '-r', 'targets/releases', '-p']), 'notary addhash index');
    ok(await skopeo(join(dir, 'skopeo'), out), 'skopeo copy --all out');
  });

  it('deleting a signed tag or manifest is refused with the command that unsigns it; allowed after docker trust revoke', async () => {
    let r = await manifest('v1', 'DELETE', del);
    assert.equal(r.status, 412);
    assert.equal(errorMessage(r), `content trust: tag "v1" is signed in ${gun} (targets/alice, targets/releases); unsign it first: docker trust revoke ${gun}:v1`);
    r = await manifest(a.digest, 'DELETE', del);
    assert.equal(r.status, 412);
    assert.match(errorMessage(r), /as "v1", "v2"; unsign them first: docker trust revoke .*:v1; docker trust revoke .*:v2$/);
    ok(await docker.run(['trust', 'revoke', '-y', `${gun}:v1`]), 'docker trust revoke');
    r = await manifest('v1', 'DELETE', del);
    assert.equal(r.status, 202, r.body);
    assert.equal((await manifest('b', 'DELETE', del)).status, 202, 'an unsigned tag may go');
  });

  it('every decision is in the audit log, with the user', async () => {
    const file = join(srv.dataDir, 'audit.log');
    let lines: Record<string, string>[] = [];
    for (let i = 0; i < 50; i++) {
      lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, string>);
      if (lines.some((l) => l['action'] === 'delete' && l['decision'] === 'allow')) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const first = lines.find((l) => l['reference'] === 'v1' && l['decision'] === 'deny');
    assert.ok(first !== undefined, JSON.stringify(lines.slice(0, 3)));
    assert.deepEqual(Object.keys(first).sort(), ['action', 'decision', 'digest', 'namespace', 'reason', 'reference', 'repository', 'time', 'user']);
    assert.equal(first['user'], 'alice');
    assert.equal(first['repository'], 'team/app');
    assert.equal(first['namespace'], 'team');
    assert.match(first['reason']!, /is not signed/);
    assert.ok(lines.some((l) => l['action'] === 'head' && l['decision'] === 'allow' && /grants push/.test(l['reason']!)), 'the pusher pass is recorded');
    assert.ok(lines.some((l) => l['action'] === 'delete' && l['decision'] === 'deny' && /docker trust revoke/.test(l['reason']!)));
    assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l['time']!))));
  });
});
