/**
 * Anonymous pull per namespace in `vouch serve`, set by the admin with `vouch policy set
 * NAMESPACE --anonymous-pull` and seen by real clients: skopeo without credentials
 * (`--no-creds`, docker's anonymous token flow) and raw token requests without credentials.
 *
 * - before the setting, an anonymous pull of `pub/app` is refused (401, the token grants nothing);
 * - after it, anonymous pull of `pub/app` works (manifest and blobs), while an anonymous push
 *   there and an anonymous pull of `closed/app` are still refused;
 * - `--no-anonymous-pull` closes it again; a user granted the namespace still pulls and pushes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult, type RunResult } from '../support/exec.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { buildImageLayout, skopeo, type ImageLayout } from '../registry/support.ts';
import { ADMIN_PASSWORD, basic, call, startServeProcess, vouch, type ServeProcess } from './support.ts';

const ALICE = 'alice-secret';

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, describeResult([what], r));
  return r;
}

describe('anonymous pull per namespace in vouch serve', { timeout: 300_000 }, () => {
  let dir: string;
  let srv: ServeProcess;
  let img: ImageLayout;
  const home = (): string => join(dir, 'skopeo');
  const policy = async (ns: string, ...args: string[]): Promise<RunResult> =>
    ok(await vouch(['policy', 'set', ns, ...args, '--username', 'admin', '-s', srv.host, '--tlscacert', srv.caFile], { HOME: dir, VOUCH_PASSWORD: ADMIN_PASSWORD }), `vouch policy set ${ns} ${args.join(' ')}`);
  const inspectAnonymously = (repo: string) => skopeo(home(), ['inspect', '--raw', '--no-creds', '--cert-dir', srv.certDir, `docker://${srv.host}/${repo}:v1`]);
  const copyOutAnonymously = (repo: string) => skopeo(home(), ['copy', '--src-no-creds', '--src-cert-dir', srv.certDir, `docker://${srv.host}/${repo}:v1`, `oci:${join(dir, 'out')}:${repo.replace('/', '-')}`]);
  const pushAnonymously = (repo: string, tag: string) => skopeo(home(), ['copy', '--dest-no-creds', '--dest-cert-dir', srv.certDir, `oci:${img.dir}:${img.tag}`, `docker://${srv.host}/${repo}:${tag}`]);
  /** The access an anonymous token request for `scope` is granted. */
  const anonymousAccess = async (scope: string): Promise<unknown> => {
    const r = await call(srv, 'GET', `/token?service=vouch&scope=${encodeURIComponent(scope)}`);
    assert.equal(r.status, 200, r.body);
    const token = r.json<{ token: string }>().token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { access: unknown };
    return claims.access;
  };
  const anonymousManifest = async (repo: string): Promise<number> => {
    const r = await call(srv, 'GET', `/token?service=vouch&scope=${encodeURIComponent(`repository:${repo}:pull`)}`);
    const token = r.json<{ token: string }>().token;
    return (await call(srv, 'GET', `/v2/${repo}/manifests/v1`, { headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json' } })).status;
  };

  before(async () => {
    dir = await tempDir('serve-anonymous');
    srv = await startServeProcess(dir);
    const admin = { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' };
    assert.equal((await call(srv, 'POST', '/_vouch/users', { headers: admin, body: JSON.stringify({ name: 'alice', password: ALICE }) })).status, 201);
    for (const ns of ['pub', 'closed']) assert.equal((await call(srv, 'PUT', `/_vouch/users/alice/grants/${ns}`, { headers: admin })).status, 204);
    img = await buildImageLayout(join(dir, 'img'), { layers: [100_000] });
    for (const repo of ['pub/app', 'closed/app']) {
      ok(await skopeo(home(), ['copy', '--dest-creds', `alice:${ALICE}`, '--dest-cert-dir', srv.certDir, `oci:${img.dir}:${img.tag}`, `docker://${srv.host}/${repo}:v1`]), `skopeo copy → ${repo}`);
    }
  });
  after(async () => {
    await srv?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('without the setting an anonymous pull is refused', async () => {
    const r = await inspectAnonymously('pub/app');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unauthorized|authentication required|401/i);
    assert.deepEqual(await anonymousAccess('repository:pub/app:pull'), []);
    assert.equal(await anonymousManifest('pub/app'), 401);
  });

  it('vouch policy set --anonymous-pull opens pull below the namespace, and nothing else', async () => {
    const set = await policy('pub', '--anonymous-pull');
    assert.match(set.stdout, /^anonymous pull: {4}on$/m);
    const r = ok(await inspectAnonymously('pub/app'), 'skopeo inspect --no-creds pub/app');
    assert.equal(`sha256:${createHash('sha256').update(r.stdout).digest('hex')}`, img.digest, 'the manifest pushed');
    ok(await copyOutAnonymously('pub/app'), 'skopeo copy --src-no-creds pub/app');
    assert.equal(await anonymousManifest('pub/app'), 200);
    assert.deepEqual(await anonymousAccess('repository:pub/app:pull,push'), [{ type: 'repository', name: 'pub/app', actions: ['pull'] }]);

    const push = await pushAnonymously('pub/app', 'anon');
    assert.notEqual(push.code, 0, 'an anonymous push is refused');
    assert.match(push.stderr, /unauthorized|authentication required|denied|401/i);
    const list = await call(srv, 'GET', '/v2/pub/app/tags/list', { headers: { authorization: basic('alice', ALICE) } });
    assert.ok(!list.body.includes('"anon"'), list.body);

    assert.notEqual((await inspectAnonymously('closed/app')).code, 0, 'another namespace stays closed');
    assert.deepEqual(await anonymousAccess('repository:closed/app:pull'), []);
    assert.equal(await anonymousManifest('closed/app'), 401);
  });

  it('--no-anonymous-pull closes it again; the owner still pulls and pushes', async () => {
    const set = await policy('pub', '--no-anonymous-pull');
    assert.match(set.stdout, /^anonymous pull: {4}off$/m);
    assert.notEqual((await inspectAnonymously('pub/app')).code, 0);
    assert.equal(await anonymousManifest('pub/app'), 401);
    ok(await skopeo(home(), ['inspect', '--raw', '--creds', `alice:${ALICE}`, '--cert-dir', srv.certDir, `docker://${srv.host}/pub/app:v1`]), 'skopeo inspect as alice');
    ok(await skopeo(home(), ['copy', '--dest-creds', `alice:${ALICE}`, '--dest-cert-dir', srv.certDir, `oci:${img.dir}:${img.tag}`, `docker://${srv.host}/pub/app:v2`]), 'skopeo copy as alice');
  });
});
