/**
 * `vouch gc` on the data dir of a running `vouch serve`, with real pushes (skopeo) and a real
 * signature (`vouch trust sign` with docker's login and trust dir):
 *
 * - image A is pushed as `v1` and signed; image B is pushed as `v1` over it, unsigned, so A is
 *   untagged but signed; image C is pushed as `c` and its tag deleted (untagged, unsigned);
 * - `vouch gc --dry-run --grace 0s` names C's manifest and blobs and deletes nothing;
 * - `vouch gc --grace 0s --output json` deletes exactly C's manifest and blobs and counts them;
 *   C by digest is then 404, A is still pulled by digest — with content trust enforced, so the
 *   signed digest still verifies — and B by its tag.
 *
 * And on PostgreSQL (`vouch serve --db`): gc refuses a data dir without its database, and given
 * the same one (`VOUCH_DB_URL`) keeps the signed untagged image.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult, type RunResult } from '../support/exec.ts';
import { PASSPHRASE } from '../support/notary-cli.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { buildImageLayout, skopeo, type ImageLayout } from '../registry/support.ts';
import { freshPostgres, type FreshDatabase } from '../storage/databases.ts';
import { ADMIN_PASSWORD, basic, bearer, call, dockerClient, startServeProcess, vouch, type Client, type ServeProcess } from './support.ts';

const ALICE = 'alice-secret';

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, describeResult([what], r));
  return r;
}

const signEnv = (c: Client): Record<string, string> => ({
  HOME: c.home,
  TZ: 'UTC',
  DOCKER_CONFIG: c.configDir,
  DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: PASSPHRASE,
  DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE,
});

/** alice, owning `team`. */
async function addAlice(srv: ServeProcess): Promise<void> {
  const admin = { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' };
  assert.equal((await call(srv, 'POST', '/_vouch/users', { headers: admin, body: JSON.stringify({ name: 'alice', password: ALICE }) })).status, 201);
  assert.equal((await call(srv, 'PUT', '/_vouch/users/alice/grants/team', { headers: admin })).status, 204);
}

interface GcJson {
  dry_run: boolean;
  signed: { guns: number; manifests: number };
  manifests_deleted: { repository: string; digest: string }[];
  blobs_deleted: string[];
  bytes_freed: number;
  uploads_removed: number;
}

describe('vouch gc beside a running vouch serve', { timeout: 300_000 }, () => {
  let dir: string;
  let srv: ServeProcess;
  let alice: Client;
  let gun: string;
  let a: ImageLayout;
  let b: ImageLayout;
  let c: ImageLayout;
  const home = (): string => join(dir, 'skopeo');
  const push = (img: ImageLayout, tag: string) =>
    skopeo(home(), ['copy', '--dest-creds', `alice:${ALICE}`, '--dest-cert-dir', srv.certDir, `oci:${img.dir}:${img.tag}`, `docker://${gun}:${tag}`]);
  const pull = (ref: string, out: string) => skopeo(home(), ['copy', '--src-creds', `alice:${ALICE}`, '--src-cert-dir', srv.certDir, `docker://${ref}`, `oci:${join(dir, out)}:x`]);
  const get = async (what: 'manifests' | 'blobs', reference: string) =>
    call(srv, 'GET', `/v2/team/app/${what}/${reference}`, {
      headers: { authorization: await bearer(srv, 'alice', ALICE, 'repository:team/app:pull'), accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
  const gc = (...args: string[]) => vouch(['gc', '--data-dir', srv.dataDir, ...args], { HOME: dir });

  before(async () => {
    dir = await tempDir('serve-gc');
    srv = await startServeProcess(dir);
    gun = `${srv.host}/team/app`;
    await addAlice(srv);
    a = await buildImageLayout(join(dir, 'a'), { layers: [150_000, 3_000] });
    b = await buildImageLayout(join(dir, 'b'), { layers: [90_000] });
    c = await buildImageLayout(join(dir, 'c'), { layers: [120_000, 4_000] });

    ok(await push(a, 'v1'), 'skopeo copy a → v1');
    alice = await dockerClient(srv, join(dir, 'alice'));
    ok(await alice.run(['login', srv.host, '-u', 'alice', '--password-stdin'], `${ALICE}\n`), 'docker login');
    ok(await vouch(['trust', 'sign', `${gun}:v1`], signEnv(alice)), 'vouch trust sign v1 (image a)');
    ok(await push(b, 'v1'), 'skopeo copy b → v1 (unsigned, over a)');
    ok(await push(c, 'c'), 'skopeo copy c → c');
    const del = await call(srv, 'DELETE', '/v2/team/app/manifests/c', { headers: { authorization: await bearer(srv, 'alice', ALICE, 'repository:team/app:delete') } });
    assert.equal(del.status, 202, del.body);

    // What gc is about to decide on: A untagged, B tagged v1, C untagged and still stored.
    const tags = (await call(srv, 'GET', '/v2/team/app/tags/list', { headers: { authorization: await bearer(srv, 'alice', ALICE, 'repository:team/app:pull') } })).json<{ tags: string[] }>();
    assert.deepEqual(tags.tags, ['v1']);
    assert.equal((await get('manifests', 'v1')).headers['docker-content-digest'], b.digest);
    assert.equal((await get('manifests', a.digest)).status, 200);
    assert.equal((await get('manifests', c.digest)).status, 200);
  });
  after(async () => {
    await srv?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('--dry-run names the unsigned untagged image and deletes nothing', async () => {
    const r = ok(await gc('--dry-run', '--grace', '0s'), 'vouch gc --dry-run');
    assert.equal(r.stderr, '', 'no progress when standard error is not a terminal');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'trust data: 1 signed manifest kept whatever their tags (1 signed repository)');
    assert.deepEqual(lines.slice(1, -1).sort(), [`team/app: manifest ${c.digest} would be deleted`, ...c.blobs.map((x) => `blob ${x.digest} would be deleted`)].sort());
    const bytes = c.blobs.reduce((n, x) => n + x.size, 0);
    assert.match(lines.at(-1)!, new RegExp(`^dry run: would delete 1 manifest and ${c.blobs.length} blobs, freeing [0-9.]+ kB \\(${bytes} bytes\\), and remove 0 stale upload sessions; nothing was deleted$`));
    assert.equal((await get('manifests', c.digest)).status, 200, 'C is still there');
    for (const x of c.blobs) assert.equal((await get('blobs', x.digest)).status, 200);
  });

  it("deletes C's manifest and blobs and counts them; A (signed) and B (tagged) stay", async () => {
    const r = JSON.parse(ok(await gc('--grace', '0s', '--output', 'json'), 'vouch gc').stdout) as GcJson;
    assert.deepEqual(r, {
      dry_run: false,
      signed: { guns: 1, manifests: 1 },
      manifests_deleted: [{ repository: 'team/app', digest: c.digest }],
      blobs_deleted: [...r.blobs_deleted].sort(),
      bytes_freed: c.blobs.reduce((n, x) => n + x.size, 0),
      uploads_removed: 0,
    });
    assert.deepEqual([...r.blobs_deleted].sort(), c.blobs.map((x) => x.digest).sort());

    const gone = await get('manifests', c.digest);
    assert.equal(gone.status, 404, gone.body);
    for (const x of c.blobs) assert.equal((await get('blobs', x.digest)).status, 404, `blob ${x.digest}`);
    for (const img of [a, b]) for (const x of img.blobs) assert.equal((await get('blobs', x.digest)).status, 200, `blob ${x.digest} stays`);

    const byTag = ok(await pull(`${gun}:v1`, 'b-out'), 'skopeo copy v1 out');
    assert.doesNotMatch(byTag.stderr, /error/i);
    const v1 = await get('manifests', 'v1');
    assert.equal(`sha256:${createHash('sha256').update(v1.body).digest('hex')}`, b.digest);
  });

  it('the signed digest still verifies: with content trust enforced A is pulled by digest, and a second run deletes nothing', async () => {
    ok(await vouch(['policy', 'set', 'team', '--enforce', '--username', 'admin', '-s', srv.host, '--tlscacert', srv.caFile], { HOME: dir, VOUCH_PASSWORD: ADMIN_PASSWORD }), 'vouch policy set team --enforce');
    ok(await pull(`${gun}@${a.digest}`, 'a-out'), 'skopeo copy A by digest, enforced');
    const unsigned = await get('manifests', 'v1');
    assert.equal(unsigned.status, 412, 'enforcement is on: the unsigned v1 is refused');
    const again = JSON.parse(ok(await gc('--grace', '0s', '--output', 'json'), 'vouch gc again').stdout) as GcJson;
    assert.deepEqual([again.manifests_deleted, again.blobs_deleted, again.bytes_freed], [[], [], 0]);
  });
});

describe('vouch gc with vouch serve on PostgreSQL', { timeout: 300_000 }, () => {
  let dir: string;
  let db: FreshDatabase | undefined;
  let srv: ServeProcess;

  before(async () => {
    dir = await tempDir('serve-gc-pg');
    db = await freshPostgres();
    srv = await startServeProcess(dir, { args: ['--db', db.url] });
  });
  after(async () => {
    await srv?.stop();
    if (dir !== undefined) await removeDir(dir);
    await db?.drop();
  });

  it('needs the same database, and then keeps the signed untagged image', async () => {
    await addAlice(srv);
    const gun = `${srv.host}/team/app`;
    const a = await buildImageLayout(join(dir, 'a'), { layers: [60_000] });
    const b = await buildImageLayout(join(dir, 'b'), { layers: [50_000] });
    const push = (img: ImageLayout) =>
      skopeo(join(dir, 'skopeo'), ['copy', '--dest-creds', `alice:${ALICE}`, '--dest-cert-dir', srv.certDir, `oci:${img.dir}:${img.tag}`, `docker://${gun}:v1`]);
    ok(await push(a), 'skopeo copy a → v1');
    const alice = await dockerClient(srv, join(dir, 'alice'));
    ok(await alice.run(['login', srv.host, '-u', 'alice', '--password-stdin'], `${ALICE}\n`), 'docker login');
    ok(await vouch(['trust', 'sign', `${gun}:v1`], signEnv(alice)), 'vouch trust sign v1');
    ok(await push(b), 'skopeo copy b → v1');

    const refused = await vouch(['gc', '--data-dir', srv.dataDir, '--grace', '0s'], { HOME: dir });
    assert.equal(refused.code, 1, describeResult(['vouch gc without --db'], refused));
    assert.match(refused.stderr, /no trust database .*vouch\.db; when vouch serve runs with --db \(or VOUCH_DB_URL\), give vouch gc the same one/);

    const r = JSON.parse(ok(await vouch(['gc', '--data-dir', srv.dataDir, '--grace', '0s', '--output', 'json'], { HOME: dir, VOUCH_DB_URL: db!.url }), 'vouch gc with VOUCH_DB_URL').stdout) as GcJson;
    assert.deepEqual(r.signed, { guns: 1, manifests: 1 });
    assert.deepEqual(r.manifests_deleted, []);
    assert.deepEqual(r.blobs_deleted, []);
    const m = await call(srv, 'GET', `/v2/team/app/manifests/${a.digest}`, {
      headers: { authorization: await bearer(srv, 'alice', ALICE, 'repository:team/app:pull'), accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(m.status, 200);
  });
});
