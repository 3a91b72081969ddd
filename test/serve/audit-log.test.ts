/**
 * The audit log file of `vouch serve` (src/serve/audit-log.ts) on a real directory: lines in
 * decision order, size-based rotation to `audit.log.1` … `audit.log.<keep>`, no line lost or
 * split across a rotation (bursts included), an existing file's size counted, a file truncated
 * behind its back not rotated, a failed rename reported without losing lines.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEntry } from '../../src/policy/index.ts';
import { DEFAULT_AUDIT_KEEP, DEFAULT_AUDIT_MAX_BYTES, FileAuditSink } from '../../src/serve/audit-log.ts';
import { removeDir, tempDir } from '../support/pki.ts';

const entry = (n: number, reason = 'tag "v1" is not signed'): AuditEntry => ({
  time: new Date(Date.UTC(2025, 0, 1, 0, 0, n % 60)).toISOString(),
  user: n % 2 === 0 ? 'alice' : '',
  action: 'pull',
  repository: 'team/app',
  reference: `v${n}`,
  digest: `sha256:${'a'.repeat(64)}`,
  decision: n % 3 === 0 ? 'allow' : 'deny',
  reason,
  namespace: 'team',
});

/** The entries of `file` (parsed; every line must be whole JSON). */
async function entries(file: string): Promise<AuditEntry[]> {
  const text = await readFile(file, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), `${file} ends with a whole line`);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditEntry);
}

const refs = (es: readonly AuditEntry[]): number[] => es.map((e) => Number(e.reference.slice(1)));

describe('FileAuditSink', () => {
  let dir: string;
  let n = 0;
  const fresh = async (): Promise<string> => {
    const d = join(dir, String(n++));
    await mkdir(d);
    return d;
  };

  before(async () => {
    dir = await tempDir('audit-log');
  });
  after(async () => {
    if (dir !== undefined) await removeDir(dir);
  });

  it('open() creates the empty file (0600) at start; a log that cannot be written fails then', async () => {
    const file = join(await fresh(), 'audit.log');
    const log = new FileAuditSink(file);
    await log.open();
    const st = await stat(file);
    assert.equal(st.size, 0);
    assert.equal(st.mode & 0o777, 0o600);
    log.record(entry(1));
    await log.close();
    assert.deepEqual(refs(await entries(file)), [1]);
    const missing = new FileAuditSink(join(dir, 'no-such-dir', 'audit.log'));
    await assert.rejects(missing.open(), /ENOENT/);
    await missing.close();
  });

  it('needs no configuration: one JSON line per decision, in order, file mode 0600', async () => {
    assert.equal(DEFAULT_AUDIT_MAX_BYTES, 32 * 1024 * 1024);
    assert.equal(DEFAULT_AUDIT_KEEP, 8);
    const file = join(await fresh(), 'audit.log');
    const log = new FileAuditSink(file);
    for (let i = 0; i < 50; i++) log.record(entry(i));
    await log.close();
    const got = await entries(file);
    assert.deepEqual(got[7], entry(7));
    assert.deepEqual(refs(got), [...Array(50).keys()]);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    log.record(entry(99)); // after close: ignored
    await log.close();
    assert.equal((await entries(file)).length, 50);
  });

  it('rotates by size: no file past maxBytes, no line lost or split, the newest in audit.log', async () => {
    const d = await fresh();
    const file = join(d, 'audit.log');
    const lineBytes = Buffer.byteLength(`${JSON.stringify(entry(100))}\n`);
    const maxBytes = lineBytes * 5 + 10; // 5 lines per file
    const log = new FileAuditSink(file, { maxBytes, keep: 100 });
    // a burst, recorded before the writer runs, then lines one by one
    for (let i = 100; i < 160; i++) log.record(entry(i));
    for (let i = 160; i < 200; i++) {
      log.record(entry(i));
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    await log.close();
    const names = (await readdir(d)).sort((a, b) => (a.length - b.length) || a.localeCompare(b));
    assert.equal(names.length, 20, names.join(' '));
    const all: AuditEntry[] = [];
    for (let i = names.length - 1; i >= 1; i--) {
      const f = join(d, `audit.log.${i}`);
      assert.ok((await stat(f)).size <= maxBytes, `${f} is at most maxBytes`);
      all.push(...(await entries(f)));
    }
    all.push(...(await entries(file)));
    assert.deepEqual(refs(all), [...Array(100).keys()].map((i) => i + 100), 'every line, in order, oldest file first');
    assert.deepEqual(refs(await entries(join(d, 'audit.log.1'))), [190, 191, 192, 193, 194]);
  });

  it('keeps `keep` rotated files; the oldest go', async () => {
    const d = await fresh();
    const file = join(d, 'audit.log');
    const lineBytes = Buffer.byteLength(`${JSON.stringify(entry(100))}\n`);
    const log = new FileAuditSink(file, { maxBytes: lineBytes * 2, keep: 3 });
    for (let i = 100; i < 120; i++) log.record(entry(i));
    await log.close();
    assert.deepEqual((await readdir(d)).sort(), ['audit.log', 'audit.log.1', 'audit.log.2', 'audit.log.3']);
    assert.deepEqual(refs(await entries(join(d, 'audit.log.3'))), [112, 113]);
    assert.deepEqual(refs(await entries(join(d, 'audit.log.2'))), [114, 115]);
    assert.deepEqual(refs(await entries(join(d, 'audit.log.1'))), [116, 117]);
    assert.deepEqual(refs(await entries(file)), [118, 119]);
  });

  it("counts an existing file's size; a line longer than maxBytes is written whole, alone", async () => {
    const d = await fresh();
    const file = join(d, 'audit.log');
    const before = `${JSON.stringify(entry(1))}\n`;
    await writeFile(file, before.repeat(3));
    const lineBytes = Buffer.byteLength(before);
    const log = new FileAuditSink(file, { maxBytes: lineBytes * 3 + 5 });
    log.record(entry(2));
    log.record(entry(3, 'x'.repeat(lineBytes * 10)));
    log.record(entry(4));
    await log.close();
    assert.deepEqual(refs(await entries(join(d, 'audit.log.3'))), [1, 1, 1], 'the existing lines were rotated out first');
    assert.deepEqual(refs(await entries(join(d, 'audit.log.2'))), [2]);
    const big = await entries(join(d, 'audit.log.1'));
    assert.deepEqual(refs(big), [3], 'the long line alone');
    assert.equal(big[0]!.reason.length, lineBytes * 10);
    assert.deepEqual(refs(await entries(file)), [4]);
  });

  it('a file truncated behind its back (copytruncate) is written on, not rotated', async () => {
    const d = await fresh();
    const file = join(d, 'audit.log');
    const lineBytes = Buffer.byteLength(`${JSON.stringify(entry(10))}\n`);
    const log = new FileAuditSink(file, { maxBytes: lineBytes * 3 });
    for (let i = 10; i < 13; i++) log.record(entry(i));
    await new Promise((r) => setTimeout(r, 50));
    await truncate(file, 0);
    log.record(entry(13));
    log.record(entry(14));
    await log.close();
    assert.deepEqual(await readdir(d), ['audit.log']);
    assert.deepEqual(refs(await entries(file)), [13, 14]);
  });

  it('a failed rotation is reported and the lines go on to the current file', async () => {
    const d = await fresh();
    const file = join(d, 'audit.log');
    // audit.log.1 is a directory with something in it: renaming the file onto it fails
    await mkdir(join(d, 'audit.log.1', 'busy'), { recursive: true });
    const lineBytes = Buffer.byteLength(`${JSON.stringify(entry(20))}\n`);
    const errors: Error[] = [];
    const log = new FileAuditSink(file, { maxBytes: lineBytes * 2, keep: 1, onError: (err) => errors.push(err) });
    for (let i = 20; i < 25; i++) log.record(entry(i));
    await log.close();
    assert.ok(errors.length >= 1, 'the rename failure is reported');
    assert.match((errors[0] as NodeJS.ErrnoException).code ?? '', /^(EISDIR|ENOTEMPTY|EEXIST)$/);
    assert.deepEqual(refs(await entries(file)), [20, 21, 22, 23, 24]);
  });
});
