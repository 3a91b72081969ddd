/**
 * One scripted scenario, run with the real clients against the real notary-server and against
 * each vouch target; then every role is fetched from both servers and what they serve is
 * compared: roles, versions, key types and counts, thresholds, targets with their hashes,
 * delegations, snapshot/timestamp meta consistency, versioned and checksummed lookups, the
 * change feed and the expiry periods. Signatures, key IDs and times are not compared (they differ
 * per run); signature counts and methods are.
 *
 * When no vouch target is selected, notary-server is compared with a second notary-server, which
 * checks that the summary is deterministic.
 */
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DockerTrust } from '../support/docker-cli.ts';
import { getMeta, httpRequest, type HttpTarget } from '../support/http.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { makeDelegationKey, makePki, removeDir, tempDir, type Pki } from '../support/pki.ts';
import { selectedVouchTargets, startServer, type ServerHandle, type TargetName } from '../support/servers.ts';
import { fileMeta, parseEnvelope, sha256Hex, type Json } from '../support/tuf-sign.ts';

const GUN = 'example.com/e2e/compare';
const DOCKER_REPO = 'registry.e2e.test/compare/img';
const DAY = 86_400_000;

/** Run the same scenario against one server (creates GUN and DOCKER_REPO). */
async function scenario(server: ServerHandle, dir: string): Promise<void> {
  const home = async (n: string): Promise<string> => {
    const h = join(dir, n);
    await mkdir(h, { recursive: true });
    return h;
  };
  const owner = new NotaryCli({ url: server.url, caFile: server.caFile, home: await home('owner') });
  const delegate = new NotaryCli({ url: server.url, caFile: server.caFile, home: await home('delegate') });
  const hello = join(dir, 'hello.txt');
  const second = join(dir, 'second.txt');
  await writeFile(hello, 'hello world');
  await writeFile(second, 'second file\n');
  const rel = await makeDelegationKey(dir, 'releases');
  const qa = await makeDelegationKey(dir, 'qa');

  await owner.ok('init', '-p', GUN);
  await owner.ok('add', '-p', GUN, 'v1', hello);
  await owner.ok('add', GUN, 'v2', second);
  await owner.ok('addhash', GUN, 'v3', '11', '--sha256', sha256Hex('hello world'));
  await owner.ok('publish', GUN);
  await owner.ok('key', 'rotate', GUN, 'snapshot', '-r');
  await owner.ok('delegation', 'add', GUN, 'targets/releases', rel.certFile, '--all-paths');
  await owner.ok('delegation', 'add', '-p', GUN, 'targets/qa', qa.pubFile, '--paths', 'qa/');
  await delegate.ok('key', 'import', rel.keyFile, '-r', 'targets/releases');
  await delegate.ok('add', '-p', GUN, 'rel1', hello, '--roles', 'targets/releases');
  await owner.ok('remove', '-p', GUN, 'v2');
  await owner.ok('key', 'rotate', GUN, 'targets');
  await owner.okWithInput('yes\n', 'key', 'rotate', GUN, 'root');
  await owner.ok('key', 'rotate', GUN, 'timestamp', '-r');
  await owner.ok('witness', '-p', GUN, 'targets');
  await delegate.ok('witness', '-p', GUN, 'targets/releases');
  await owner.okWithInput('yes\n', 'delegation', 'remove', '-p', GUN, 'targets/qa');

  const docker = await DockerTrust.create({ url: server.url, caFile: server.caFile, home: await home('docker') });
  await docker.ok('trust', 'key', 'generate', 'alice', '--dir', dir);
  await docker.ok('trust', 'signer', 'add', '--key', join(dir, 'alice.pub'), 'alice', DOCKER_REPO);
  const dn = new NotaryCli({ url: server.url, caFile: server.caFile, home: docker.home, trustDir: docker.trustDir });
  await dn.ok('add', '-p', DOCKER_REPO, 'v1', hello);
  await docker.ok('trust', 'sign', `${DOCKER_REPO}:v1`);
  await docker.ok('trust', 'revoke', '-y', `${DOCKER_REPO}:v1`);
}

function days(expires: string, now: number): number {
  return Math.round((Date.parse(expires) - now) / DAY);
}

function keySummary(keys: Record<string, { keytype: string }>, ids: readonly string[] | null): string[] {
  return (ids ?? []).map((id) => keys[id]?.keytype ?? 'MISSING').sort();
}

function sigSummary(env: { signatures: { method: string }[] }): string[] {
  return env.signatures.map((s) => s.method).sort();
}

function summarizeTargets(signed: Json, now: number): Json {
  const d = signed.delegations ?? {};
  return {
    type: signed._type,
    version: signed.version,
    expiresInDays: days(signed.expires, now),
    targets: signed.targets,
    delegationKeyCount: Object.keys(d.keys ?? {}).length,
    delegations: (d.roles ?? []).map((r: Json) => ({
      name: r.name,
      paths: r.paths ?? null,
      threshold: r.threshold,
      keys: keySummary(d.keys ?? {}, r.keyids),
    })),
  };
}

/** Everything a server serves for a GUN, minus signatures, key IDs and times. */
async function summarize(server: HttpTarget, gun: string): Promise<Json> {
  const now = Date.now();
  const fetchOk = async (role: string): Promise<Buffer> => {
    const r = await getMeta(server, gun, role);
    assert.equal(r.status, 200, `GET ${gun} ${role}.json → ${r.status} ${r.text()}`);
    return r.body;
  };
  const rootBytes = await fetchOk('root');
  const root = parseEnvelope(rootBytes);
  const tsBytes = await fetchOk('timestamp');
  const ts = parseEnvelope(tsBytes);
  const snapBytes = await fetchOk('snapshot');
  const snap = parseEnvelope(snapBytes);
  const out: Json = {};

  out.root = {
    version: root.signed.version,
    expiresInDays: days(root.signed.expires, now),
    consistent_snapshot: root.signed.consistent_snapshot,
    keyTypes: Object.values(root.signed.keys as Record<string, { keytype: string }>).map((k) => k.keytype).sort(),
    roles: Object.fromEntries(
      Object.entries(root.signed.roles as Record<string, { keyids: string[]; threshold: number }>).map(([name, r]) => [
        name,
        { threshold: r.threshold, keys: keySummary(root.signed.keys, r.keyids) },
      ]),
    ),
    signatures: sigSummary(root),
  };

  // timestamp → snapshot consistency, then snapshot → every role
  assert.deepEqual(Object.keys(ts.signed.meta), ['snapshot']);
  assert.deepEqual(ts.signed.meta.snapshot, fileMeta(snapBytes), 'timestamp meta.snapshot must describe the served snapshot');
  out.timestamp = { version: ts.signed.version, expiresInDays: days(ts.signed.expires, now), signatures: sigSummary(ts) };
  out.snapshot = {
    version: snap.signed.version,
    expiresInDays: days(snap.signed.expires, now),
    metaRoles: Object.keys(snap.signed.meta).sort(),
    signatures: sigSummary(snap),
  };
  assert.deepEqual(snap.signed.meta.root, fileMeta(rootBytes), 'snapshot meta.root must describe the served root');

  out.roles = {};
  for (const role of Object.keys(snap.signed.meta).sort()) {
    if (role === 'root') continue;
    const meta = snap.signed.meta[role];
    const hex = Buffer.from(meta.hashes.sha256, 'base64').toString('hex');
    const byHash = await getMeta(server, gun, `${role}.${hex}`);
    if (byHash.status !== 200) {
      // a deleted delegation can stay listed in the snapshot (spec §13.10)
      out.roles[role] = { byHashStatus: byHash.status };
      continue;
    }
    assert.deepEqual(fileMeta(byHash.body), { hashes: { sha256: meta.hashes.sha256, sha512: meta.hashes.sha512 }, length: meta.length });
    const env = parseEnvelope(byHash.body);
    const current = await getMeta(server, gun, role);
    out.roles[role] = { ...summarizeTargets(env.signed, now), signatures: sigSummary(env), currentStatus: current.status, currentIsSnapshotOne: current.body.equals(byHash.body) };
  }

  // every version of every role is reachable by version; the next one is not
  out.versions = {};
  const currentVersions: Record<string, number> = { root: root.signed.version, timestamp: ts.signed.version, snapshot: snap.signed.version };
  for (const [role, v] of Object.entries(out.roles as Record<string, { version?: number }>)) if (v.version !== undefined) currentVersions[role] = v.version;
  for (const [role, v] of Object.entries(currentVersions)) {
    const statuses: number[] = [];
    for (let i = 1; i <= v + 1; i++) statuses.push((await getMeta(server, gun, `${i}.${role}`)).status);
    out.versions[role] = statuses;
  }
  const rootV1 = parseEnvelope(await fetchOk('1.root'));
  out.rootV1 = { version: rootV1.signed.version, signatures: sigSummary(rootV1) };

  const key = await httpRequest(server, { path: `/v2/${gun}/_trust/tuf/timestamp.key` });
  out.timestampKeyType = key.status === 200 ? (key.json() as { keytype: string }).keytype : key.status;

  const feed = await httpRequest(server, { path: `/v2/${gun}/_trust/changefeed?change_id=0&records=1000` });
  assert.equal(feed.status, 200, feed.text());
  const f = feed.json() as { count: number; records: { GUN: string; Version: number; Category: string; SHA256: string }[] | null };
  out.changefeed = { count: f.count, records: (f.records ?? []).map((r) => ({ gun: r.GUN, version: r.Version, category: r.Category })) };
  const lastUpdate = [...(f.records ?? [])].reverse().find((r) => r.Category === 'update');
  assert.equal(lastUpdate?.SHA256, sha256Hex(tsBytes), 'the last change record names the current timestamp');
  return out;
}

const vouchTargets = selectedVouchTargets();
const pairs: TargetName[] = vouchTargets.length > 0 ? vouchTargets : ['notary'];

describe('notary-server and vouch serve the same repositories after the same scenario', { timeout: 600_000 }, () => {
  let dir: string;
  let pki: Pki;
  let reference: ServerHandle | undefined;
  const referenceSummary: Record<string, Json> = {};

  before(async () => {
    dir = await tempDir('compare');
    pki = await makePki(dir);
    const refDir = join(dir, 'notary');
    await mkdir(refDir, { recursive: true });
    reference = await startServer('notary', { pki, dir: refDir });
    await scenario(reference, refDir);
    referenceSummary[GUN] = await summarize(reference, GUN);
    referenceSummary[DOCKER_REPO] = await summarize(reference, DOCKER_REPO);
    if (process.env['VOUCH_E2E_DUMP'] === '1') process.stderr.write(JSON.stringify(referenceSummary, null, 1) + '\n');
  });

  after(async () => {
    await reference?.stop();
    if (dir !== undefined && process.env['VOUCH_E2E_KEEP'] !== '1') await removeDir(dir);
  });

  for (const target of pairs) {
    it(`${target} serves what notary-server serves`, async (t) => {
      const tdir = join(dir, `${target}-run`);
      await mkdir(tdir, { recursive: true });
      const server = await startServer(target, { pki, dir: tdir });
      try {
        await scenario(server, tdir);
        for (const gun of [GUN, DOCKER_REPO]) {
          const got = await summarize(server, gun);
          assert.deepEqual(got, referenceSummary[gun], `summary of ${gun} differs from notary-server's`);
        }
      } catch (e) {
        t.diagnostic(`${target} server output:\n${server.output().slice(-6000)}`);
        throw e;
      } finally {
        await server.stop();
      }
    });
  }
});
