/**
 * Changelists shared with the real notary 0.7 CLI (spec §9.4), no server needed: what `notary
 * add/addhash/remove/witness/delegation …` stages vouch reads (and re-encodes byte for byte), and
 * what vouch stages `notary status` shows and `notary reset` edits.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromBase64, sha256 } from '../../src/canonical/index.ts';
import { canonicalKeyId, certificateToTufKey, keyFromJSON } from '../../src/crypto/index.ts';
import { changelistDir, encodeChange, FileChangelist } from '../../src/client/changelist.ts';
import { decodeDelegationData, decodeTargetData } from '../../src/client/changelist-data.ts';
import { NotaryCli, parseTable } from '../support/notary-cli.ts';
import { makeDelegationKey, removeDir, tempDir } from '../support/pki.ts';
import { MemoryMetadataCache } from '../../src/client/cache.ts';
import { InProcessRemote, MemoryKeyStore, testRepository } from './support.ts';

const GUN = 'example.com/interop/changes';
let dir = '';
before(async () => {
  dir = await tempDir('changelist');
});
after(async () => {
  if (process.env['VOUCH_E2E_KEEP'] !== '1') await removeDir(dir);
});

/** A notary CLI that never reaches a server (staging commands are offline). */
function offlineNotary(home: string): NotaryCli {
  return new NotaryCli({ url: 'https://127.0.0.1:9', caFile: join(dir, 'no-ca.crt'), home });
}

describe('changelist interop with the notary CLI (spec §9.4)', { timeout: 120_000 }, () => {
  it('reads what notary staged, in order, and re-encodes every file byte for byte', async () => {
    const home = join(dir, 'notary-stages');
    const cli = offlineNotary(home);
    const content = join(dir, 'hello.txt');
    await writeFile(content, 'hello world');
    const custom = join(dir, 'custom.json');
    await writeFile(custom, '{"b": 1, "a": "<x>"}\n');
    const alice = await makeDelegationKey(dir, 'alice');
    await cli.ok('add', GUN, 'a&b<c>', content, '--custom', custom);
    await cli.ok('addhash', GUN, 'v3', '0x10', '--sha256', 'ab'.repeat(32), '-r', 'targets/releases');
    await cli.ok('remove', GUN, 'old', '-r', 'targets/releases');
    await cli.ok('delegation', 'add', GUN, 'targets/releases', alice.certFile, '--all-paths');
    await cli.ok('delegation', 'remove', GUN, 'targets/releases', '1234', '--paths', 'x/');
    await cli.ok('delegation', 'purge', GUN, '--key', 'abcd');
    await cli.ok('witness', GUN, 'targets/releases');

    const cl = new FileChangelist(changelistDir(cli.trustDir, GUN));
    const changes = await cl.list();
    assert.deepEqual(
      changes.map((c) => [c.action, c.scope, c.type, c.path]),
      [
        ['create', 'targets', 'target', 'a&b<c>'],
        ['create', 'targets/releases', 'target', 'v3'],
        ['delete', 'targets/releases', 'target', 'old'],
        ['create', 'targets/releases', 'delegation', ''],
        ['create', 'targets/releases', 'delegation', ''],
        ['update', 'targets/releases', 'delegation', ''],
        ['update', 'targets/releases', 'delegation', ''],
        ['update', 'targets/*', 'delegation', ''],
        ['update', 'targets/releases', 'witness', ''],
      ],
    );
    const names = await cl.fileNames();
    assert.ok(names.every((n) => /^\d{20}_[0-9a-f-]{36}\.change$/.test(n)), names.join(' '));
    for (const [i, name] of names.entries()) {
      assert.deepEqual(encodeChange(changes[i]!), new Uint8Array(await readFile(join(cl.location, name))), name);
    }
    const added = decodeTargetData(changes[0]!.data);
    assert.deepEqual(added.hashes.get('sha256'), sha256(new TextEncoder().encode('hello world')));
    assert.deepEqual(added.custom, { b: 1, a: '<x>' });
    assert.equal(decodeTargetData(changes[1]!.data).length, 16);
    const keys = decodeDelegationData(changes[3]!.data);
    assert.equal(keys.threshold, 1);
    assert.equal(canonicalKeyId(keys.addKeys![0]!), canonicalKeyId(certificateToTufKey(await readFile(alice.certFile, 'utf8'))));
    assert.deepEqual(decodeDelegationData(changes[4]!.data), { addPaths: [''] });
    assert.deepEqual(decodeDelegationData(changes[5]!.data), { removePaths: ['x/'] });
    assert.deepEqual(decodeDelegationData(changes[6]!.data), { removeKeys: ['1234'] });
    assert.deepEqual(decodeDelegationData(changes[7]!.data), { removeKeys: ['abcd'] });
  });

  it('notary status shows what vouch staged, notary reset removes by index, vouch sees the rest', async () => {
    const home = join(dir, 'vouch-stages');
    const cli = offlineNotary(home);
    const remote = new InProcessRemote(GUN, () => new Date());
    const repo = testRepository({ gun: GUN, trustDir: cli.trustDir, remote, keys: new MemoryKeyStore(), cache: new MemoryMetadataCache(), now: () => new Date() });
    const alicePub = keyFromJSON({ keytype: 'ecdsa', keyval: { private: null, public: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHzxVMpO6qVZ/Y9Yqrqlaji5i2aD1PeG995/4cFVtmeoofUaab0i1gboML7a4KWVxZgUZu2i12JQTMWZE6K5Vtg==' } });
    await repo.addTarget({ name: 'v1', length: 11, hashes: new Map([['sha256', fromBase64('uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=')]]) });
    await repo.addDelegation('targets/releases', [alicePub], ['']);
    await repo.removeTarget('gone', ['targets/releases']);
    await repo.witness(['targets']);
    const status = await cli.ok('status', GUN);
    assert.deepEqual(parseTable(status.stdout).slice(3), [
      ['0', 'create', 'targets', 'target', 'v1'],
      ['1', 'create', 'targets/releases', 'delegation'],
      ['2', 'create', 'targets/releases', 'delegation'],
      ['3', 'delete', 'targets/releases', 'target', 'gone'],
      ['4', 'update', 'targets', 'witness'],
    ]);
    await cli.ok('reset', GUN, '-n', '1', '-n', '3');
    assert.deepEqual(
      (await repo.changelist.list()).map((c) => `${c.action} ${c.scope} ${c.type}`),
      ['create targets target', 'create targets/releases delegation', 'update targets witness'],
    );
    await cli.ok('reset', GUN, '--all');
    assert.deepEqual(await repo.changelist.list(), []);
  });
});
