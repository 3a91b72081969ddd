import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { ConfigError } from '../errors/index.ts';
import { MediaType } from '../registry/manifest.ts';
import { digestOf, type Digest } from '../registry/names.ts';
import { putBlob } from '../registry/store/conformance.ts';
import { FsRegistryStore } from '../registry/store/fs-store.ts';
import { SqliteMetaStore } from '../storage/index.ts';
import { gcJson, gcLines, humanBytes, parseDuration, resolveGcSettings, type GcResult } from './gc-command.ts';
import { registerServeCommands } from './serve-command.ts';

const root = mkdtempSync(join(tmpdir(), 'vouch-gc-command-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('vouch gc: durations and settings', () => {
  it('Go durations, plus days', () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('7d'), 604_800_000);
    for (const bad of ['', '10', '-1h', '1x', 'h', '1h ', '1h-', '1 h', 'forever']) {
      assert.throws(() => parseDuration(bad === '1h ' ? '1h x' : bad), ConfigError, bad);
    }
  });

  it('flags, then VOUCH_DATA_DIR and VOUCH_DB_URL, then vouch serve’s defaults', () => {
    const dflt = resolveGcSettings({}, {});
    assert.equal(dflt.dataDir, join(process.cwd(), 'vouch-data'));
    assert.deepEqual(dflt.database, { backend: 'sqlite3' });
    assert.equal(dflt.graceMs, 3_600_000, 'one hour');
    assert.equal(dflt.dryRun, false);
    assert.equal(dflt.output, 'text');

    const env = { VOUCH_DATA_DIR: '/srv/vouch', VOUCH_DB_URL: 'postgres://vouch@db.example:5432/vouch' };
    const fromEnv = resolveGcSettings({}, env);
    assert.equal(fromEnv.dataDir, '/srv/vouch');
    assert.equal(fromEnv.database.backend, 'postgres');
    const fromFlags = resolveGcSettings({ dataDir: '/other', db: 'vouch:pw@tcp(db:3306)/vouch', dryRun: true, grace: '0s', output: 'json' }, env);
    assert.equal(fromFlags.dataDir, '/other');
    assert.equal(fromFlags.database.backend, 'mysql');
    assert.equal(fromFlags.graceMs, 0);
    assert.equal(fromFlags.dryRun, true);
    assert.equal(fromFlags.output, 'json');
  });

  it('every bad setting is reported together', () => {
    assert.throws(
      () => resolveGcSettings({ grace: 'soon', output: 'yaml', db: 'nonsense' }, {}),
      (err: Error) => err instanceof ConfigError && /--grace: not a duration: "soon"/.test(err.message) && /--output:/.test(err.message) && /--db: expected postgres/.test(err.message),
    );
  });
});

describe('vouch gc: output', () => {
  const result = (dryRun: boolean): GcResult => ({
    dryRun,
    signed: { guns: 1, manifests: 2 },
    report: {
      manifestsDeleted: [{ repo: 'team/app', digest: `sha256:${'c'.repeat(64)}` as Digest }],
      blobsDeleted: [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`] as Digest[],
      bytesFreed: 1_234_567,
      uploadsRemoved: 1,
    },
  });

  it('lines: each deletion, then a summary', () => {
    assert.deepEqual(gcLines(result(false)), [
      'trust data: 2 signed manifests kept whatever their tags (1 signed repository)',
      `team/app: manifest sha256:${'c'.repeat(64)} deleted`,
      `blob sha256:${'1'.repeat(64)} deleted`,
      `blob sha256:${'2'.repeat(64)} deleted`,
      'deleted 1 manifest and 2 blobs, freed 1.23 MB (1234567 bytes), removed 1 stale upload session',
    ]);
    const dry = gcLines(result(true));
    assert.equal(dry[1], `team/app: manifest sha256:${'c'.repeat(64)} would be deleted`);
    assert.equal(dry.at(-1), 'dry run: would delete 1 manifest and 2 blobs, freeing 1.23 MB (1234567 bytes), and remove 1 stale upload session; nothing was deleted');
  });

  it('json', () => {
    assert.deepEqual(gcJson(result(true)), {
      dry_run: true,
      signed: { guns: 1, manifests: 2 },
      manifests_deleted: [{ repository: 'team/app', digest: `sha256:${'c'.repeat(64)}` }],
      blobs_deleted: [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`],
      bytes_freed: 1_234_567,
      uploads_removed: 1,
    });
  });

  it('sizes in decimal units', () => {
    assert.deepEqual([0, 999, 1000, 1500, 120_000, 999_999, 12_345_678, 5e12].map(humanBytes), ['0 B', '999 B', '1 kB', '1.5 kB', '120 kB', '1 MB', '12.3 MB', '5 TB']);
  });
});

/** A data dir as vouch serve leaves it: registry/ and vouch.db. */
describe('vouch gc on a data dir', () => {
  const dataDir = join(root, 'data');
  const repo = 'team/app';
  let tagged: { digest: Digest; blobs: Digest[] };
  let signed: { digest: Digest; blobs: Digest[] };
  let garbage: { digest: Digest; blobs: Digest[] };

  async function image(s: FsRegistryStore, seed: string, tags: string[]): Promise<{ digest: Digest; blobs: Digest[] }> {
    const layer = await putBlob(s, repo, Buffer.from(`layer ${seed}`.repeat(100)));
    const cfg = Buffer.from(`config ${seed}`);
    const cfgDigest = await putBlob(s, repo, cfg);
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfgDigest, size: cfg.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: 600 }],
      }),
    );
    const digest = digestOf(body);
    await s.putManifest(repo, { digest, mediaType: MediaType.OciManifest, bytes: body }, tags);
    return { digest, blobs: [layer, cfgDigest] };
  }

  before(async () => {
    mkdirSync(join(dataDir, 'registry'), { recursive: true });
    const s = new FsRegistryStore({ root: join(dataDir, 'registry') });
    signed = await image(s, 'signed', []);
    tagged = await image(s, 'tagged', ['v1']);
    garbage = await image(s, 'garbage', []);
    const trust = new SqliteMetaStore(join(dataDir, 'vouch.db'));
    const hex = signed.digest.slice(7);
    const env = (v: unknown) => Buffer.from(JSON.stringify({ signed: v, signatures: [] }));
    await trust.updateMany(`127.0.0.1:5000/${repo}`, [
      { role: 'targets', version: 1, data: env({ _type: 'Targets', version: 1, expires: '2099-01-01T00:00:00Z', targets: { old: { length: 1, hashes: { sha256: Buffer.from(hex, 'hex').toString('base64') } } } }) },
      { role: 'timestamp', version: 1, data: env({ _type: 'Timestamp', version: 1, expires: '2099-01-01T00:00:00Z', meta: {} }) },
    ]);
    await trust.close();
  });

  async function gcCommand(args: string[]): Promise<{ stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const program = new Command('vouch').exitOverride();
    registerServeCommands(program, { gc: { env: {}, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t), isTTY: false } } });
    await program.parseAsync(['gc', '--data-dir', dataDir, ...args], { from: 'user' });
    return { stdout, stderr };
  }

  it('the default grace period keeps what was just pushed', async () => {
    const r = JSON.parse((await gcCommand(['--output', 'json'])).stdout) as Record<string, unknown>;
    assert.deepEqual(r['manifests_deleted'], []);
    assert.deepEqual(r['blobs_deleted'], []);
  });

  it('--dry-run lists the unsigned untagged image and deletes nothing', async () => {
    const { stdout, stderr } = await gcCommand(['--dry-run', '--grace', '0s']);
    assert.equal(stderr, '', 'no progress off a terminal');
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'trust data: 1 signed manifest kept whatever their tags (1 signed repository)');
    // the manifest's own bytes are a blob too
    const blobs = [garbage.digest, ...garbage.blobs];
    assert.deepEqual(lines.slice(1, -1).sort(), [`${repo}: manifest ${garbage.digest} would be deleted`, ...blobs.map((b) => `blob ${b} would be deleted`)].sort());
    assert.match(lines.at(-1)!, /^dry run: would delete 1 manifest and 3 blobs, freeing [\d.]+ kB \(\d+ bytes\), and remove 0 stale upload sessions; nothing was deleted$/);
    const s = new FsRegistryStore({ root: join(dataDir, 'registry') });
    assert.notEqual(await s.getManifest(repo, garbage.digest), null);
  });

  it('deletes it; the signed untagged image and the tagged one stay; the trust database is unchanged', async () => {
    const db = readFileSync(join(dataDir, 'vouch.db'));
    const r = JSON.parse((await gcCommand(['--grace', '0s', '--output', 'json'])).stdout) as { manifests_deleted: unknown[]; blobs_deleted: string[]; dry_run: boolean; signed: unknown };
    assert.equal(r.dry_run, false);
    assert.deepEqual(r.signed, { guns: 1, manifests: 1 });
    assert.deepEqual(r.manifests_deleted, [{ repository: repo, digest: garbage.digest }]);
    assert.deepEqual(r.blobs_deleted.sort(), [garbage.digest, ...garbage.blobs].sort());
    const s = new FsRegistryStore({ root: join(dataDir, 'registry') });
    assert.equal(await s.getManifest(repo, garbage.digest), null);
    for (const img of [signed, tagged]) {
      assert.notEqual(await s.getManifest(repo, img.digest), null);
      for (const b of [img.digest, ...img.blobs]) assert.equal(await s.hasBlob(repo, b), true);
    }
    assert.ok(readFileSync(join(dataDir, 'vouch.db')).equals(db), 'vouch.db not written');
  });

  it('progress on a terminal: a line per repository on standard error', async () => {
    let stderr = '';
    const program = new Command('vouch').exitOverride();
    registerServeCommands(program, { gc: { env: { VOUCH_DATA_DIR: dataDir }, stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t), isTTY: true } } });
    await program.parseAsync(['gc'], { from: 'user' });
    assert.equal(stderr, `marking ${repo} (1/1)\n`);
  });

  it('a data dir without its trust database is refused, nothing deleted', async () => {
    const bare = join(root, 'bare');
    mkdirSync(join(bare, 'registry'), { recursive: true });
    const program = new Command('vouch').exitOverride();
    registerServeCommands(program, { gc: { env: {}, stdout: { write: () => true } } });
    await assert.rejects(program.parseAsync(['gc', '--data-dir', bare], { from: 'user' }), /no trust database .*vouch\.db; when vouch serve runs with --db/);
    await assert.rejects(program.parseAsync(['gc', '--data-dir', join(root, 'none')], { from: 'user' }), /no data dir/);
  });
});
