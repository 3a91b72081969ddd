/**
 * Two `vouch serve` instances on one fresh PostgreSQL database (`--db`) and one data dir, behind
 * a TCP load balancer that hands connections to them in turn (TLS passes through): the
 * deployment "beyond one machine" with the data dir on a shared filesystem. Both are started
 * with `--hostname 127.0.0.1:<balancer port>`, the address clients use, so trust data is named
 * after it (`127.0.0.1:<lb>/team/…`) whichever instance receives it.
 *
 * - started at the same moment on an empty database and data dir: one admin user (exactly one
 *   instance reports creating it), one CA, one key passphrase, no crash;
 * - a user, a grant and a content-trust policy set through A's admin API hold on B at once, and
 *   a grant revoked through B holds on A (nothing cached per instance);
 * - an image pushed through A with skopeo and signed with the notary CLI through A's trust API
 *   is served by B under enforcement; an unsigned tag is refused by B; an image pushed through
 *   the balancer (its requests spread over both) comes back whole from either;
 * - concurrent notary publishes to one GUN spread over A and B are each accepted or refused with
 *   the version error (the client then publishes again), none lost: both list every target and
 *   serve byte-identical metadata.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult, type RunResult } from '../support/exec.ts';
import { parseList } from '../support/notary-cli.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { freePort } from '../support/servers.ts';
import { buildImageLayout, skopeo, type ImageLayout } from '../registry/support.ts';
import { freshPostgres, type FreshDatabase } from '../storage/databases.ts';
import { ADMIN_PASSWORD, basic, bearer, call, errorMessage, notaryClient, startServeProcess, type Client, type ServeProcess } from './support.ts';

const ALICE = 'alice-secret';
const CLIENTS = 4;
const TARGETS_PER_CLIENT = 3;
const MAX_ATTEMPTS = 25;
/** What notary prints when the server answers 400 VERSION. */
const VERSION_ERROR = /trust server rejected operation\.$/m;

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, describeResult([what], r));
  return r;
}

/** A TCP balancer on 127.0.0.1:`port` handing each connection to the next of `backends`. */
async function balancer(port: number, backends: () => readonly number[]): Promise<Server> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const ports = backends();
    const upstream = connect(ports[next++ % ports.length]!, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  return server;
}

describe('two vouch serve instances on one PostgreSQL database and one data dir', { timeout: 900_000 }, () => {
  let db: FreshDatabase | undefined;
  let dir: string;
  let lb: Server | undefined;
  let lbHost: string;
  let lbUrl: string;
  const nodes: ServeProcess[] = [];
  const node = (i: number): ServeProcess => {
    const n = nodes[i % 2];
    if (n === undefined || nodes.length < 2) throw new Error('the two instances did not start (see the before hook)');
    return n;
  };
  const admin = { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' };
  /** The notary CLI as alice on trust dir `name`, talking to `url` (an instance or the balancer). */
  const notaryAt = async (url: string, name: string): Promise<Client> => {
    const home = join(dir, name);
    await mkdir(home, { recursive: true });
    return notaryClient({ url, caFile: node(0).caFile } as ServeProcess, home, join(home, 'trust'), 'alice', ALICE);
  };

  before(async () => {
    db = await freshPostgres();
    dir = await tempDir('serve-multi');
    const lbPort = await freePort();
    lbHost = `127.0.0.1:${lbPort}`;
    lbUrl = `https://${lbHost}`;
    const shared = join(dir, 'shared-data');
    // No VOUCH_SERVER_KEY_PASSPHRASE: the instances make and share the data dir's passphrase.
    const started = await Promise.allSettled(
      ['a', 'b'].map((n) => startServeProcess(join(dir, n), { dataDir: shared, args: ['--db', db!.url, '--hostname', lbHost], env: { VOUCH_LOG_LEVEL: 'error' } })),
    );
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    lb = await balancer(lbPort, () => nodes.map((n) => n.port));
  });

  after(async () => {
    lb?.close();
    await Promise.all(nodes.map((n) => n.stop()));
    if (dir !== undefined && process.env['VOUCH_E2E_KEEP'] !== '1') await removeDir(dir);
    await db?.drop();
  });

  it('started together on an empty database: one admin, one CA, one passphrase, both answering', async () => {
    // the start-up lines follow the "listening" line startServeProcess waits for
    for (let i = 0; i < 100 && !nodes.every((n) => n.output().includes('users:')); i++) await new Promise((r) => setTimeout(r, 50));
    const created = nodes.filter((n) => /admin user created: admin/.test(n.output()));
    assert.equal(created.length, 1, `exactly one instance created the admin:\n${nodes.map((n) => n.output()).join('\n---\n')}`);
    assert.deepEqual(await db!.admin('SELECT name, admin FROM token_users'), [{ name: 'admin', admin: 1 }]);
    const files = await readdir(node(0).dataDir);
    assert.deepEqual(files.filter((f) => f.startsWith('vouch.db')), ['vouch.db.passphrase'], 'no SQLite database, one passphrase file');
    for (const n of nodes) {
      assert.match(n.output(), /database: postgres postgres@127\.0\.0\.1:5432\/vouch_test_/);
      const users = await call(n, 'GET', '/_vouch/users', { headers: admin });
      assert.equal(users.status, 200, users.body);
    }
  });

  it('a user, a grant and a policy set through A hold on B at once, and a revoke through B holds on A', async () => {
    const [a, b] = [node(0), node(1)];
    assert.equal((await call(a, 'POST', '/_vouch/users', { headers: admin, body: JSON.stringify({ name: 'alice', password: ALICE }) })).status, 201);
    assert.equal((await call(a, 'PUT', '/_vouch/users/alice/grants/team', { headers: admin })).status, 204);
    const access = async (n: ServeProcess): Promise<string[]> => {
      const r = await call(n, 'GET', `/token?service=vouch&scope=${encodeURIComponent('repository:team/app:pull,push')}`, { headers: { authorization: basic('alice', ALICE) } });
      assert.equal(r.status, 200, r.body);
      const claims = JSON.parse(Buffer.from(r.json<{ token: string }>().token.split('.')[1]!, 'base64url').toString()) as { access: { actions: string[] }[] };
      return claims.access.flatMap((x) => x.actions).sort();
    };
    assert.deepEqual(await access(b), ['pull', 'push'], 'B knows alice and her grant');

    assert.equal((await call(b, 'DELETE', '/_vouch/users/alice/grants/team', { headers: admin })).status, 204);
    assert.deepEqual(await access(a), [], 'A sees the revoke made through B');
    assert.equal((await call(b, 'PUT', '/_vouch/users/alice/grants/team', { headers: admin })).status, 204);
    assert.deepEqual(await access(a), ['pull', 'push']);

    const set = await call(a, 'PUT', '/_vouch/policy/team', { headers: admin, body: JSON.stringify({ enforce: true }) });
    assert.equal(set.status, 200, set.body);
    const seen = await call(b, 'GET', '/_vouch/policy/team/app', { headers: admin });
    assert.equal(seen.json<{ enforce: boolean; applies_from: string }>().enforce, true, seen.body);
  });

  describe('images and signatures', () => {
    let image: ImageLayout;
    let other: ImageLayout;
    const gun = (): string => `${lbHost}/team/app`;
    const sizeOf = (img: ImageLayout): number => img.blobs.find((x) => x.digest === img.digest)!.size;
    const push = (img: ImageLayout, to: string, tag: string, certDir: string) =>
      skopeo(join(dir, 'skopeo'), ['copy', `oci:${img.dir}:${img.tag}`, `docker://${to}/team/app:${tag}`, '--dest-creds', `alice:${ALICE}`, '--dest-cert-dir', certDir]);
    const pull = (from: string, tag: string, out: string, certDir: string) =>
      skopeo(join(dir, 'skopeo'), ['copy', `docker://${from}/team/app:${tag}`, `oci:${join(dir, out)}:x`, '--src-creds', `alice:${ALICE}`, '--src-cert-dir', certDir]);
    const pulledDigest = async (out: string): Promise<string | undefined> =>
      (JSON.parse(await readFile(join(dir, out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0]?.digest;

    before(async () => {
      image = await buildImageLayout(join(dir, 'image'), { layers: [600_000, 40_000] });
      other = await buildImageLayout(join(dir, 'other'), { layers: [300_000] });
    });

    it('pushed through A and signed through A\'s trust API: B serves it under enforcement, and refuses an unsigned tag', async () => {
      const [a, b] = [node(0), node(1)];
      ok(await push(image, a.host, 'v1', a.certDir), 'skopeo copy → A v1');
      ok(await push(other, a.host, 'unsigned', a.certDir), 'skopeo copy → A unsigned');
      const signer = await notaryAt(a.url, 'signer');
      ok(await signer.run(['init', gun(), '-p']), 'notary init through A');
      ok(await signer.run(['addhash', gun(), 'v1', String(sizeOf(image)), '--sha256', image.digest.slice(7), '-p']), 'notary addhash through A');

      ok(await pull(b.host, 'v1', 'from-b', b.certDir), 'skopeo copy B v1 →');
      assert.equal(await pulledDigest('from-b'), image.digest, 'B serves the signed image A received');
      const token = await bearer(b, 'alice', ALICE, 'repository:team/app:pull');
      const refused = await call(b, 'GET', '/v2/team/app/manifests/unsigned', { headers: { authorization: token, accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(refused.status, 412, refused.body);
      assert.match(errorMessage(refused), /tag "unsigned" is not signed in/);
    });

    it('pushed through the balancer (requests spread over both), it comes back whole from either instance', async () => {
      const certDir = node(0).certDir;
      ok(await push(other, lbHost, 'v2', certDir), 'skopeo copy → balancer v2');
      ok(await (await notaryAt(lbUrl, 'signer')).run(['addhash', gun(), 'v2', String(sizeOf(other)), '--sha256', other.digest.slice(7), '-p']), 'notary addhash through the balancer');
      for (const [i, n] of nodes.entries()) {
        ok(await pull(n.host, 'v2', `v2-from-${i}`, n.certDir), `skopeo copy ${'AB'[i]} v2 →`);
        assert.equal(await pulledDigest(`v2-from-${i}`), other.digest);
      }
    });

    it('concurrent publishes to one GUN through both instances: each accepted or refused with the version error, none lost', async () => {
      const multi = `${lbHost}/team/multi`;
      const payload = join(dir, 'payload.bin');
      await writeFile(payload, 'vouch serve multi-instance payload\n');
      const owner = await notaryAt(node(0).url, 'owner');
      ok(await owner.run(['init', multi, '-p']), 'notary init');

      // Every client holds the owner's keys and cache, and talks to instance A or B directly.
      const clients: Client[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        const cli = await notaryAt(node(i).url, `client-${i}`);
        await cp(join(dir, 'owner', 'trust'), join(dir, `client-${i}`, 'trust'), { recursive: true });
        clients.push(cli);
      }
      const acknowledged: string[] = [];
      let refused = 0;
      const publishAll = async (cli: Client, i: number): Promise<void> => {
        for (let t = 0; t < TARGETS_PER_CLIENT; t++) {
          const name = `c${i}-t${t}`;
          ok(await cli.run(['add', multi, name, payload]), `notary add ${name}`);
          for (let attempt = 1; ; attempt++) {
            const r = await cli.run(['publish', multi]);
            if (r.code === 0) {
              acknowledged.push(name);
              break;
            }
            assert.match(r.stderr + r.stdout, VERSION_ERROR, `a refused publish names the version error\n${describeResult(['notary', 'publish', multi], r)}`);
            refused++;
            assert.ok(attempt < MAX_ATTEMPTS, `${name} still refused after ${attempt} attempts`);
          }
        }
      };
      await Promise.all(clients.map((c, i) => publishAll(c, i)));

      const expected = Array.from({ length: CLIENTS }, (_, i) => Array.from({ length: TARGETS_PER_CLIENT }, (_, t) => `c${i}-t${t}`)).flat().sort();
      assert.deepEqual([...acknowledged].sort(), expected);
      process.stderr.write(`# ${expected.length} publishes acknowledged, ${refused} refused with the version error first\n`);
      for (const i of [0, 1]) {
        const listed = parseList(ok(await (await notaryAt(node(i).url, `lister-${i}`)).run(['list', multi]), 'notary list').stdout).map((row) => row[0] ?? '').sort();
        assert.deepEqual(listed, expected, `instance ${'AB'[i]} lists every acknowledged target`);
      }
      const token = [await bearer(node(0), 'alice', ALICE, `repository:${multi}:pull`), await bearer(node(1), 'alice', ALICE, `repository:${multi}:pull`)];
      for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
        const [ra, rb] = await Promise.all([0, 1].map((i) => call(node(i), 'GET', `/v2/${multi}/_trust/tuf/${role}.json`, { headers: { authorization: token[i]! } })));
        assert.equal(ra!.status, 200, `${role} from A`);
        assert.equal(rb!.status, 200, `${role} from B`);
        assert.equal(ra!.body, rb!.body, `both instances serve the same ${role}.json`);
      }
      const failures = nodes.flatMap((n) => n.output().split('\n').filter((l) => l.includes('"level":50')));
      assert.deepEqual(failures, [], 'no instance failed a request');
    });
  });
});
