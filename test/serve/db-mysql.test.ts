/**
 * `vouch serve --db` on MariaDB/MySQL (a fresh database of the machine's server): it migrates
 * the database itself, keeps no SQLite file, and the usual flow works — a user added with
 * `vouch user add`, an image pushed with skopeo, signed with the notary CLI, served under
 * content-trust enforcement while an unsigned tag is refused. A restart on the same database
 * (named this time by a `mysql://` URL, with the key passphrase from VOUCH_SERVER_KEY_PASSPHRASE)
 * keeps the users, the policy and the trust data, and signs again with the keys sealed there.
 */
import assert from 'node:assert/strict';
import { readdir, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult, type RunResult } from '../support/exec.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { buildImageLayout, skopeo, type ImageLayout } from '../registry/support.ts';
import { freshMysql, type FreshDatabase } from '../storage/databases.ts';
import { ADMIN_PASSWORD, bearer, call, errorMessage, notaryClient, startServeProcess, vouch, type Client, type ServeProcess } from './support.ts';

const ALICE = 'alice-secret';
const KEY_PASSPHRASE = 'serve-mysql-key-passphrase';

/** The start-up lines follow the "listening" line the support waits for. */
async function started(srv: ServeProcess): Promise<string> {
  for (let i = 0; i < 100 && !srv.output().includes('users:'); i++) await new Promise((r) => setTimeout(r, 50));
  return srv.output();
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, describeResult([what], r));
  return r;
}

describe('vouch serve --db on MariaDB', { timeout: 300_000 }, () => {
  let db: FreshDatabase | undefined;
  let dir: string;
  let srv: ServeProcess | undefined;
  let image: ImageLayout;
  let other: ImageLayout;
  const env = { VOUCH_SERVER_KEY_PASSPHRASE: KEY_PASSPHRASE };
  const gun = (): string => `${srv!.host}/team/app`;
  const sizeOf = (img: ImageLayout): number => img.blobs.find((x) => x.digest === img.digest)!.size;
  const notary = async (): Promise<Client> => {
    const home = join(dir, 'notary');
    await mkdir(home, { recursive: true });
    return notaryClient(srv!, home, join(home, 'trust'), 'alice', ALICE);
  };
  const manifest = async (tag: string) =>
    call(srv!, 'GET', `/v2/team/app/manifests/${tag}`, { headers: { authorization: await bearer(srv!, 'alice', ALICE, 'repository:team/app:pull'), accept: 'application/vnd.oci.image.manifest.v1+json' } });

  before(async () => {
    db = await freshMysql();
    dir = await tempDir('serve-mysql');
    image = await buildImageLayout(join(dir, 'image'), { layers: [500_000, 30_000] });
    other = await buildImageLayout(join(dir, 'other'), { layers: [200_000] });
  });
  after(async () => {
    await srv?.stop();
    if (dir !== undefined) await removeDir(dir);
    await db?.drop();
  });

  it('starts on an empty database, migrates it, pushes and signs; enforcement serves the signed tag only', async () => {
    srv = await startServeProcess(dir, { args: ['--db', db!.url], env });
    const out = await started(srv);
    assert.match(out, /database: mysql root@127\.0\.0\.1:3306\/vouch_test_/);
    assert.match(out, /admin user created: admin/);
    assert.deepEqual((await readdir(srv.dataDir)).filter((f) => f.startsWith('vouch.db')), [], 'no SQLite file and no generated passphrase');
    const tables = (await db!.admin('SHOW TABLES')).map((r) => String(Object.values(r)[0])).sort();
    for (const t of ['policy_namespaces', 'private_keys', 'token_users', 'tuf_files']) assert.ok(tables.includes(t), `${t} in ${tables.join(', ')}`);

    const adminEnv = { HOME: dir, VOUCH_PASSWORD: ADMIN_PASSWORD };
    ok(await vouch(['user', 'add', 'alice', '--grant', 'team', '--password-stdin', '--username', 'admin', '-s', srv.host, '--tlscacert', srv.caFile], adminEnv, `${ALICE}\n`), 'vouch user add');
    const creds = ['--dest-creds', `alice:${ALICE}`, '--dest-cert-dir', srv.certDir];
    ok(await skopeo(join(dir, 'skopeo'), ['copy', `oci:${image.dir}:${image.tag}`, `docker://${srv.host}/team/app:v1`, ...creds]), 'skopeo copy v1');
    ok(await skopeo(join(dir, 'skopeo'), ['copy', `oci:${other.dir}:${other.tag}`, `docker://${srv.host}/team/app:unsigned`, ...creds]), 'skopeo copy unsigned');
    const n = await notary();
    ok(await n.run(['init', gun(), '-p']), 'notary init');
    ok(await n.run(['addhash', gun(), 'v1', String(sizeOf(image)), '--sha256', image.digest.slice(7), '-p']), 'notary addhash v1');
    ok(await vouch(['policy', 'set', 'team', '--enforce', '--username', 'admin', '-s', srv.host, '--tlscacert', srv.caFile], adminEnv), 'vouch policy set --enforce');

    const signed = await manifest('v1');
    assert.equal(signed.status, 200, signed.body);
    assert.equal(signed.headers['docker-content-digest'], image.digest);
    const unsigned = await manifest('unsigned');
    assert.equal(unsigned.status, 412, unsigned.body);
    assert.match(errorMessage(unsigned), /tag "unsigned" is not signed/);
  });

  it('restarted on the same database by a mysql:// URL: users, policy and trust data are kept, and its sealed keys sign again', async () => {
    // Clients keep using the first address (as behind a fixed public name): --hostname says so.
    const first = gun();
    const publicName = srv!.host;
    await srv!.stop();
    srv = await startServeProcess(dir, { args: ['--db', `mysql://root@127.0.0.1:3306/${db!.name}?parseTime=true`, '--hostname', publicName], env });
    assert.doesNotMatch(await started(srv), /admin user created/);
    assert.equal((await manifest('v1')).status, 200, 'the signature stored before the restart is found');
    assert.equal((await manifest('unsigned')).status, 412, 'the policy stored before the restart holds');
    // A publish to the existing GUN: the server signs a new timestamp with the key sealed in MariaDB.
    const n = await notary();
    ok(await n.run(['addhash', first, 'unsigned', String(sizeOf(other)), '--sha256', other.digest.slice(7), '-p']), 'notary addhash unsigned');
    assert.equal((await manifest('unsigned')).status, 200, 'signed now');
    const listed = ok(await n.run(['list', first]), 'notary list').stdout;
    assert.match(listed, /\bv1\b/);
    assert.match(listed, /\bunsigned\b/);
    const out = join(dir, 'pulled');
    ok(await skopeo(join(dir, 'skopeo'), ['copy', `docker://${srv.host}/team/app:v1`, `oci:${out}:x`, '--src-creds', `alice:${ALICE}`, '--src-cert-dir', srv.certDir]), 'skopeo copy out');
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, image.digest);
  });
});
