/**
 * `vouch trust sign` of a new tag in a namespace of `vouch serve` with content-trust
 * enforcement on: the signer reads the unsigned manifest it is about to sign (its token asks for
 * push, and a requester who may push is not blocked), while a requester who may only pull —
 * anonymous, or a user below an anonymous-pull namespace — still gets 412 for an unsigned tag.
 *
 * Both ways docker keeps a login are exercised: an identity token (what `docker login` to vouch
 * serve saves) and a user name with password (config.json `auth`).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult, type RunResult } from '../support/exec.ts';
import { PASSPHRASE } from '../support/notary-cli.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { buildImageLayout, skopeo, type ImageLayout } from '../registry/support.ts';
import { ADMIN_PASSWORD, basic, bearer, call, dockerClient, errorMessage, startServeProcess, vouch, type Client, type ServeProcess } from './support.ts';

const ALICE = 'alice-secret';
const BOB = 'bob-secret';

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, describeResult([what], r));
  return r;
}

describe('vouch trust sign with content-trust enforcement on', { timeout: 300_000 }, () => {
  let dir: string;
  let srv: ServeProcess;
  let a: ImageLayout;
  let b: ImageLayout;
  let alice: Client;
  let bob: Client;
  let gun: string;
  const home = (): string => join(dir, 'skopeo');
  /** `vouch trust sign` with the docker config of `c` (its login, docker's CA for the server). */
  const sign = (c: { home: string; configDir: string }, ref: string): Promise<RunResult> =>
    vouch(['trust', 'sign', ref], {
      HOME: c.home,
      TZ: 'UTC',
      DOCKER_CONFIG: c.configDir,
      DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: PASSPHRASE,
      DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE,
    });
  const inspectAnonymously = (tag: string) => skopeo(home(), ['inspect', '--raw', '--no-creds', '--cert-dir', srv.certDir, `docker://${gun}:${tag}`]);
  const manifest = (tag: string, authorization: string) =>
    call(srv, 'GET', `/v2/team/app/manifests/${tag}`, { headers: { authorization, accept: 'application/vnd.oci.image.manifest.v1+json' } });

  before(async () => {
    dir = await tempDir('serve-trust-sign');
    srv = await startServeProcess(dir);
    gun = `${srv.host}/team/app`;
    const admin = { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' };
    for (const [name, password] of [
      ['alice', ALICE],
      ['bob', BOB],
    ]) {
      assert.equal((await call(srv, 'POST', '/_vouch/users', { headers: admin, body: JSON.stringify({ name, password }) })).status, 201);
    }
    assert.equal((await call(srv, 'PUT', '/_vouch/users/alice/grants/team', { headers: admin })).status, 204);
    a = await buildImageLayout(join(dir, 'a'), { layers: [120_000] });
    b = await buildImageLayout(join(dir, 'b'), { layers: [80_000] });
    for (const [img, tag] of [
      [a, 'v1'],
      [b, 'v2'],
      [b, 'v3'],
    ] as const) {
      ok(await skopeo(home(), ['copy', '--dest-creds', `alice:${ALICE}`, '--dest-cert-dir', srv.certDir, `oci:${img.dir}:${img.tag}`, `docker://${gun}:${tag}`]), `skopeo copy → ${tag}`);
    }
    ok(
      await vouch(['policy', 'set', 'team', '--enforce', '--anonymous-pull', '--username', 'admin', '-s', srv.host, '--tlscacert', srv.caFile], { HOME: dir, VOUCH_PASSWORD: ADMIN_PASSWORD }),
      'vouch policy set team --enforce --anonymous-pull',
    );
    alice = await dockerClient(srv, join(dir, 'alice'));
    ok(await alice.run(['login', srv.host, '-u', 'alice', '--password-stdin'], `${ALICE}\n`), 'docker login alice');
    bob = await dockerClient(srv, join(dir, 'bob'));
    ok(await bob.run(['login', srv.host, '-u', 'bob', '--password-stdin'], `${BOB}\n`), 'docker login bob');
  });
  after(async () => {
    await srv?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('an unsigned tag is refused to an anonymous pull and to a user who may only pull', async () => {
    const r = await inspectAnonymously('v1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /tag \\?"v1\\?" is not signed/);
    // bob asks for push too; the token service grants him pull only (anonymous pull on team)
    const m = await manifest('v1', await bearer(srv, 'bob', BOB, 'repository:team/app:pull,push'));
    assert.equal(m.status, 412);
    assert.equal(errorMessage(m), `content trust: no trust data for ${gun}; tag "v1" is not signed (sign it: docker trust sign ${gun}:v1)`);
  });

  it('the owner signs the new tag (docker login identity token); then an anonymous pull is served', async () => {
    const r = ok(await sign(alice, `${gun}:v1`), 'vouch trust sign v1');
    assert.match(r.stderr + r.stdout, new RegExp(`Signing and pushing trust data for ${gun.replace(/\./g, '\\.')}:v1 \\(manifest ${a.digest} in the registry\\)`));
    const pulled = ok(await inspectAnonymously('v1'), 'skopeo inspect --no-creds v1');
    assert.equal(`sha256:${createHash('sha256').update(pulled.stdout).digest('hex')}`, a.digest);
    const inspect = JSON.parse(ok(await alice.run(['trust', 'inspect', gun]), 'docker trust inspect').stdout) as { SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[] }[];
    assert.deepEqual(inspect[0]?.SignedTags, [{ SignedTag: 'v1', Digest: a.digest.slice(7), Signers: ['alice'] }]);
  });

  it('a login kept as user name and password signs too', async () => {
    const configDir = join(dir, 'alice-basic', 'docker-config');
    await mkdir(join(configDir, 'tls', srv.host), { recursive: true });
    await copyFile(srv.caFile, join(configDir, 'tls', srv.host, 'ca.crt'));
    await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { [srv.host]: { auth: Buffer.from(`alice:${ALICE}`).toString('base64') } } }));
    // the signing keys are alice's (docker's trust dir); the login is the only difference
    await cp(join(alice.configDir, 'trust'), join(configDir, 'trust'), { recursive: true });
    ok(await sign({ home: join(dir, 'alice-basic'), configDir }, `${gun}:v2`), 'vouch trust sign v2 with Basic credentials');
    const pulled = ok(await inspectAnonymously('v2'), 'skopeo inspect --no-creds v2');
    assert.equal(`sha256:${createHash('sha256').update(pulled.stdout).digest('hex')}`, b.digest);
  });

  it('a user who may only pull cannot sign an unsigned tag: the registry still refuses to show it', async () => {
    const r = await sign(bob, `${gun}:v3`);
    assert.equal(r.code, 1, describeResult(['vouch trust sign v3 as bob'], r));
    assert.match(r.stderr, /content trust: tag "v3" is not signed/);
    assert.notEqual((await inspectAnonymously('v3')).code, 0);
    assert.equal((await manifest('v3', await bearer(srv, 'bob', BOB, 'repository:team/app:pull,push'))).status, 412);
  });
});
