/**
 * `vouch serve` as docker, skopeo and notary meet it: one TLS port for the registry, the trust
 * server and the token service (issue item 3).
 *
 * - `docker login` with the right password stores an identity token; a wrong password fails
 *   with docker's "unauthorized: incorrect username or password";
 * - `docker trust key generate`, `signer add` and `inspect` work against the registry's own
 *   address — no DOCKER_CONTENT_TRUST_SERVER — so the trust data lives under the registry's GUN
 *   (`127.0.0.1:<port>/team/app`) on the same port;
 * - skopeo copies a multi-layer image in and back out with credentials (and not without);
 * - first start: the data dir holds the CA, the server and token certificates, one database and
 *   the generated admin password, and the server prints how to trust the CA and log in.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult } from '../support/exec.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { ecdsaPublicJson, keyIdOf } from '../support/tuf-sign.ts';
import { buildImageLayout, skopeo, type ImageLayout } from '../registry/support.ts';
import { ADMIN_PASSWORD, basic, call, dockerClient, startServeProcess, vouch, type Client, type ServeProcess } from './support.ts';

describe('vouch serve on one port', { timeout: 300_000 }, () => {
  let dir: string;
  let srv: ServeProcess;
  let image: ImageLayout;
  let docker: Client;
  const repo = (): string => `${srv.host}/team/app`;

  before(async () => {
    dir = await tempDir('serve-single-port');
    srv = await startServeProcess(dir);
    image = await buildImageLayout(join(dir, 'image'), { layers: [1_200_000, 300_000, 5_000] });
    docker = await dockerClient(srv, join(dir, 'docker-home'));
    const alice = await vouch(['user', 'add', 'alice', '--grant', 'team', '--password-stdin', '--username', 'admin', '-s', srv.host, '--tlscacert', srv.caFile], { HOME: dir, VOUCH_PASSWORD: ADMIN_PASSWORD }, 'alice-secret\n');
    assert.equal(alice.code, 0, describeResult(['vouch', 'user', 'add'], alice));
  });
  after(async () => {
    await srv?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('answers the registry ping with a Bearer challenge whose realm is on the same port', async () => {
    const r = await call(srv, 'GET', '/v2/');
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], `Bearer realm="https://${srv.host}/auth/token",service="vouch"`);
    assert.equal((await call(srv, 'GET', '/_notary_server/health')).status, 200);
    assert.equal((await call(srv, 'GET', '/v2/team/app/_trust/tuf/root.json')).status, 401, 'the trust API asks for a token too');
  });

  it('docker login: the right password succeeds, a wrong one is refused', async () => {
    const bad = await docker.run(['login', srv.host, '-u', 'alice', '--password-stdin'], 'wrong\n');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unauthorized: incorrect username or password/);
    const ok = await docker.run(['login', srv.host, '-u', 'alice', '--password-stdin'], 'alice-secret\n');
    assert.equal(ok.code, 0, describeResult(['docker', 'login'], ok));
    assert.match(ok.stdout, /Login Succeeded/);
    const cfg = JSON.parse(await readFile(join(docker.configDir, 'config.json'), 'utf8')) as { auths: Record<string, { identitytoken?: string }> };
    assert.ok((cfg.auths[srv.host]?.identitytoken ?? '') !== '', 'docker keeps an identity token, not the password');
  });

  it('docker trust signer add and inspect find the trust server at the registry address', async () => {
    const keys = join(dir, 'keys');
    await mkdir(keys, { recursive: true });
    let r = await docker.run(['trust', 'key', 'generate', 'alice', '--dir', keys]);
    assert.equal(r.code, 0, describeResult(['docker', 'trust', 'key', 'generate'], r));
    r = await docker.run(['trust', 'signer', 'add', '--key', join(keys, 'alice.pub'), 'alice', repo()]);
    assert.equal(r.code, 0, describeResult(['docker', 'trust', 'signer', 'add'], r));
    assert.equal(r.stdout, `Adding signer "alice" to ${repo()}...\nInitializing signed repository for ${repo()}...\nSuccessfully initialized "${repo()}"\nSuccessfully added signer: alice to ${repo()}\n\n`);

    // the trust data is on this server, under the registry's GUN
    const token = await call(srv, 'GET', `/token?service=vouch&scope=${encodeURIComponent(`repository:${repo()}:pull`)}`, { headers: { authorization: basic('alice', 'alice-secret') } });
    const root = await call(srv, 'GET', `/v2/${repo()}/_trust/tuf/root.json`, { headers: { authorization: `Bearer ${token.json<{ token: string }>().token}` } });
    assert.equal(root.status, 200);
    const signed = root.json<{ signed: { roles: { root: { keyids: string[] }; targets: { keyids: string[] } } } }>().signed;

    r = await docker.run(['trust', 'inspect', repo()]);
    assert.equal(r.code, 0, describeResult(['docker', 'trust', 'inspect'], r));
    const aliceId = keyIdOf(ecdsaPublicJson(createPublicKey((await readFile(join(keys, 'alice.pub'), 'utf8')).replace(/^role: .*\n\n/m, ''))));
    assert.deepEqual(JSON.parse(r.stdout), [
      {
        Name: repo(),
        SignedTags: [],
        Signers: [{ Name: 'alice', Keys: [{ ID: aliceId }] }],
        AdministrativeKeys: [
          { Name: 'Root', Keys: [{ ID: signed.roles.root.keyids[0] }] },
          { Name: 'Repository', Keys: [{ ID: signed.roles.targets.keyids[0] }] },
        ],
      },
    ]);
  });

  it('skopeo copies a multi-layer image in and back out with credentials, and not without', async () => {
    const home = join(dir, 'skopeo');
    const creds = ['--dest-creds', 'alice:alice-secret', '--dest-cert-dir', srv.certDir];
    let r = await skopeo(home, ['copy', `oci:${image.dir}:${image.tag}`, `docker://${srv.host}/team/app:1`, ...creds]);
    assert.equal(r.code, 0, describeResult(['skopeo', 'copy', 'in'], r));
    r = await skopeo(home, ['copy', `oci:${image.dir}:${image.tag}`, `docker://${srv.host}/team/app:2`, '--dest-creds', 'alice:wrong', '--dest-cert-dir', srv.certDir]);
    assert.notEqual(r.code, 0, 'a wrong password cannot push');
    r = await skopeo(home, ['copy', `oci:${image.dir}:${image.tag}`, `docker://${srv.host}/other/app:1`, ...creds]);
    assert.notEqual(r.code, 0, 'alice owns team, not other');
    assert.match(r.stderr, /denied/);

    const out = join(dir, 'pulled');
    r = await skopeo(home, ['copy', `docker://${srv.host}/team/app:1`, `oci:${out}:1`, '--src-creds', 'alice:alice-secret', '--src-cert-dir', srv.certDir]);
    assert.equal(r.code, 0, describeResult(['skopeo', 'copy', 'out'], r));
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, image.digest, 'the same manifest came back');
    for (const b of image.blobs) assert.equal((await stat(join(out, 'blobs', 'sha256', b.digest.slice(7)))).size, b.size, b.digest);

    r = await skopeo(home, ['inspect', `docker://${srv.host}/team/app:1`, '--no-creds', '--cert-dir', srv.certDir]);
    assert.notEqual(r.code, 0, 'anonymous pulls are refused');
  });

  it('keeps everything in its data dir and printed how to trust the CA and log in', async () => {
    assert.deepEqual((await readdir(srv.dataDir)).filter((f) => !f.startsWith('vouch.db-')).sort(), ['audit.log', 'registry', 'tls', 'vouch.db', 'vouch.db.passphrase']);
    assert.deepEqual((await readdir(join(srv.dataDir, 'tls'))).sort(), ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'token.crt', 'token.key']);
    const out = srv.output();
    assert.match(out, new RegExp(`vouch serve listening on https://${srv.host.replace(/\./g, '\\.')}`));
    assert.match(out, new RegExp(`mkdir -p ~/\\.docker/tls/${srv.host.replace(/\./g, '\\.')} && cp .*/tls/ca\\.crt`));
    assert.match(out, /admin user created: admin \/ admin-secret-for-tests \(from VOUCH_ADMIN_PASSWORD\)/);
    assert.match(out, new RegExp(`docker login ${srv.host.replace(/\./g, '\\.')} -u admin`));
  });
});

describe('vouch serve first start without VOUCH_ADMIN_PASSWORD', { timeout: 120_000 }, () => {
  let dir: string;
  let srv: ServeProcess;
  before(async () => {
    dir = await tempDir('serve-first-start');
    srv = await startServeProcess(dir, { env: { VOUCH_ADMIN_PASSWORD: '' } });
  });
  after(async () => {
    await srv?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('generates the admin password, prints it once and keeps it (0600) in the data dir; a restart keeps users and the CA', async () => {
    const file = join(srv.dataDir, 'initial-admin-password');
    const password = (await readFile(file, 'utf8')).trim();
    assert.match(password, /^[A-Za-z0-9_-]{24}$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok(srv.output().includes(`admin user created: admin / ${password} (kept in ${file}`));
    assert.equal((await call(srv, 'GET', '/_vouch/users', { headers: { authorization: basic('admin', password) } })).status, 200);
    const ca = await readFile(srv.caFile, 'utf8');
    await srv.stop();
    srv = await startServeProcess(dir, { env: { VOUCH_ADMIN_PASSWORD: '' } });
    assert.equal(await readFile(srv.caFile, 'utf8'), ca);
    assert.doesNotMatch(srv.output(), /admin user created/);
    assert.equal((await call(srv, 'GET', '/_vouch/users', { headers: { authorization: basic('admin', password) } })).status, 200);
  });
});
