import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { prepareServeDataDir, serveKeyPassphrase } from './serve-data.ts';

const root = mkdtempSync(join(tmpdir(), 'vouch-serve-data-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('vouch serve data dir shared by instances starting together', () => {
  it('one CA, one server certificate and one token key, whoever prepares it', async () => {
    const dir = join(root, 'together');
    const all = await Promise.all([1, 2, 3, 4].map(() => prepareServeDataDir(dir, ['registry.example.com'])));
    const ca = await readFile(join(dir, 'tls', 'ca.crt'), 'utf8');
    const cert = await readFile(join(dir, 'tls', 'server.crt'), 'utf8');
    for (const f of all) assert.equal(f.tokenMaterial.rootPem, ca, 'every instance holds the CA that is on disk');
    assert.equal(new Set(all.map((f) => f.tokenMaterial.keyPem)).size, 1, 'one token signing key');
    assert.equal((await prepareServeDataDir(dir, ['registry.example.com'])).tokenMaterial.rootPem, ca);
    assert.equal(await readFile(join(dir, 'tls', 'server.crt'), 'utf8'), cert, 'nothing replaced on a later start');
    assert.deepEqual((await readdir(dir)).sort(), ['registry', 'tls'], 'the lock is gone');
  });

  it('one key passphrase (0600) made by the first and read by the others; a given one wins and writes nothing', async () => {
    const files = await prepareServeDataDir(join(root, 'passphrase'), []);
    const got = await Promise.all([1, 2, 3, 4, 5].map(() => serveKeyPassphrase(files, undefined)));
    assert.equal(new Set(got.map((g) => g.passphrase)).size, 1);
    assert.equal(got.filter((g) => g.generated).length, 1, 'generated exactly once');
    assert.equal((await readFile(files.passphraseFile, 'utf8')).trim(), got[0]!.passphrase);
    assert.equal((await stat(files.passphraseFile)).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(files.dataDir)).filter((f) => f.startsWith('vouch.db')), ['vouch.db.passphrase'], 'no temporary files left');
    assert.deepEqual(await serveKeyPassphrase(files, 'from-env'), { passphrase: 'from-env', generated: false });

    const other = await prepareServeDataDir(join(root, 'given'), []);
    await serveKeyPassphrase(other, 'from-env');
    assert.deepEqual((await readdir(other.dataDir)).filter((f) => f.startsWith('vouch.db')), []);
  });
});
