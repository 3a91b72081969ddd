import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fromBase64 } from '../canonical/index.ts';
import { keyFromJSON } from '../crypto/index.ts';
import { DeserializationError, StateError } from '../errors/index.ts';
import { InvalidRoleError } from '../tuf/index.ts';
import { changelistDir, decodeChange, encodeChange, FileChangelist, MemoryChangelist, type Change } from './changelist.ts';
import {
  delegationAddChanges,
  delegationClearPathsChange,
  delegationDeleteChange,
  delegationPurgeChange,
  delegationRemoveChanges,
  isWildDelegation,
  targetAddChanges,
  targetRemoveChanges,
  witnessChange,
} from './changelist-changes.ts';
import { decodeDelegationData, decodeTargetData, encodeDelegationData } from './changelist-data.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

// Written by the real notary 0.7 CLI (`notary add … --custom`, `remove -r`, `witness`, `delegation …`).
const NOTARY_FILES = [
  '{"action":"create","role":"targets","type":"target","path":"a\\u0026b\\u003cc\\u003e","data":"eyJsZW5ndGgiOjExLCJoYXNoZXMiOnsic2hhMjU2IjoidVUwbnVaTk5QZ2lsTGxMWDJuMnIrc1NFNytONlU0RHVrSWozck9Mdnplaz0iLCJzaGE1MTIiOiJNSjdNU0p3UzF1dE14QTlReVFMeXRORHRkKzVSR254Nm04MDhxRzFNMkcrWW5kTmJ4ZjlKbG5EYU5DVmJSYkRQMkREb0gyQmR6MzNGVkM2VHJwelhidz09In0sImN1c3RvbSI6eyJiIjoxLCJhIjoiXHUwMDNjeFx1MDAzZSJ9fQ=="}',
  '{"action":"delete","role":"targets/releases","type":"target","path":"v1","data":null}',
  '{"action":"update","role":"targets/releases","type":"witness","path":"","data":null}',
  '{"action":"update","role":"targets/*","type":"delegation","path":"","data":"eyJyZW1vdmVfa2V5cyI6WyJhYmMiXX0="}',
  '{"action":"create","role":"targets/alice","type":"delegation","path":"","data":"eyJ0aHJlc2hvbGQiOjEsImFkZF9rZXlzIjpbeyJrZXl0eXBlIjoiZWNkc2EiLCJrZXl2YWwiOnsicHVibGljIjoiTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFSHp4Vk1wTzZxVlovWTlZcXJxbGFqaTVpMmFEMVBlRzk5NS80Y0ZWdG1lb29mVWFhYjBpMWdib01MN2E0S1dWeFpnVVp1MmkxMkpRVE1XWkU2SzVWdGc9PSIsInByaXZhdGUiOm51bGx9fV19"}',
  '{"action":"create","role":"targets/alice","type":"delegation","path":"","data":"eyJhZGRfcGF0aHMiOlsiYS8iLCJiLyJdfQ=="}',
  '{"action":"update","role":"targets/alice","type":"delegation","path":"","data":"eyJyZW1vdmVfcGF0aHMiOlsiYS8iXX0="}',
  '{"action":"update","role":"targets/alice","type":"delegation","path":"","data":"eyJjbGVhcl9wYXRocyI6dHJ1ZX0="}',
  '{"action":"delete","role":"targets/bob","type":"delegation","path":"","data":null}',
];
const ALICE_KEY = keyFromJSON({
  keytype: 'ecdsa',
  keyval: { private: null, public: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHzxVMpO6qVZ/Y9Yqrqlaji5i2aD1PeG995/4cFVtmeoofUaab0i1gboML7a4KWVxZgUZu2i12JQTMWZE6K5Vtg==' },
});
const HELLO_HASHES = new Map([
  ['sha256', fromBase64('uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=')],
  ['sha512', fromBase64('MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==')],
]);

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vouch-cl-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('change files (spec §9.4)', () => {
  it('re-encodes every file the notary CLI wrote byte for byte', () => {
    for (const text of NOTARY_FILES) assert.equal(dec.decode(encodeChange(decodeChange(enc.encode(text)))), text);
  });

  it('stages the same bytes as notary for add/remove/witness/delegation commands', () => {
    const made: Change[] = [
      ...targetAddChanges({ name: 'a&b<c>', length: 11, hashes: HELLO_HASHES, customJson: enc.encode('{"b":1,"a":"<x>"}\n') }),
      ...targetRemoveChanges('v1', ['targets/releases']),
      witnessChange('targets/releases'),
      delegationPurgeChange(['abc']),
      ...delegationAddChanges('targets/alice', [ALICE_KEY], ['a/', 'b/']),
      ...delegationRemoveChanges('targets/alice', [], ['a/']),
      delegationClearPathsChange('targets/alice'),
      delegationDeleteChange('targets/bob'),
    ];
    assert.deepEqual(made.map((c) => dec.decode(encodeChange(c))), NOTARY_FILES);
  });

  it('decodes payloads: target meta with custom, delegation keys and paths', () => {
    const t = decodeTargetData(decodeChange(enc.encode(NOTARY_FILES[0] as string)).data);
    assert.equal(t.length, 11);
    assert.deepEqual(t.hashes, HELLO_HASHES);
    assert.deepEqual(t.custom, { b: 1, a: '<x>' });
    const d = decodeDelegationData(decodeChange(enc.encode(NOTARY_FILES[4] as string)).data);
    assert.equal(d.threshold, 1);
    assert.deepEqual(d.addKeys, [ALICE_KEY]);
    assert.deepEqual(decodeDelegationData(enc.encode('{"clear_paths":true,"REMOVE_PATHS":["x"]}')), { removePaths: ['x'], clearPaths: true });
    assert.equal(dec.decode(encodeDelegationData({ threshold: 0, addKeys: [], clearPaths: false })), '{}');
  });

  it('reads fields as Go does: case-insensitive keys, missing fields empty, bad types refused', () => {
    assert.deepEqual(decodeChange(enc.encode('{"Action":"create","ROLE":"targets","data":null}')), {
      action: 'create',
      scope: 'targets',
      type: '',
      path: '',
      data: null,
    });
    assert.throws(() => decodeChange(enc.encode('{"action":1}')), DeserializationError);
    assert.throws(() => decodeChange(enc.encode('{"data":"***"}')), DeserializationError);
    assert.throws(() => decodeChange(enc.encode('[]')), DeserializationError);
    assert.throws(() => decodeTargetData(null), DeserializationError);
  });

  it('checks arguments as notary does', () => {
    assert.throws(() => targetAddChanges({ name: 'x', length: 1, hashes: new Map() }), (e) => e instanceof StateError && e.message === 'no hashes specified for target "x"');
    assert.throws(() => targetRemoveChanges('x', ['root']), (e) => e instanceof InvalidRoleError && e.message === 'tuf: invalid role root. cannot add targets to this role');
    assert.throws(() => delegationAddChanges('releases', [ALICE_KEY], []), InvalidRoleError);
    assert.throws(() => delegationDeleteChange('targets/*'), InvalidRoleError);
    assert.doesNotThrow(() => delegationRemoveChanges('targets/a/*', ['k'], []));
    assert.equal(isWildDelegation('targets/*'), true);
    assert.equal(isWildDelegation('targets/a/*'), true);
    assert.equal(isWildDelegation('targets//*'), false);
    assert.equal(isWildDelegation('root/*'), false);
    assert.deepEqual(targetAddChanges({ name: 'x', length: 1, hashes: HELLO_HASHES }, ['targets/*']).map((c) => c.scope), ['targets/*']);
  });
});

describe('FileChangelist', () => {
  it('names files <20-digit UnixNano>_<uuid>.change, 0600, listed in name order', async () => {
    const dir = join(await tempDir(), 'tuf', 'example.com', 'app', 'changelist');
    let n = 0;
    const cl = new FileChangelist(dir, { now: () => new Date(1_700_000_000_000), uuid: () => `uuid-${n++}` });
    await cl.add(witnessChange('targets'));
    await cl.add(witnessChange('targets/a'));
    const names = await readdir(dir);
    assert.deepEqual(names.sort(), ['01700000000000000000_uuid-0.change', '01700000000000000001_uuid-1.change']);
    assert.equal((await stat(join(dir, names[0] as string))).mode & 0o777, 0o600);
    assert.deepEqual((await cl.list()).map((c) => c.scope), ['targets', 'targets/a']);
    assert.equal(changelistDir('/t', 'example.com/app'), join('/t', 'tuf', 'example.com', 'app', 'changelist'));
  });

  it('skips unreadable files in list but counts them for remove, as notary does', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '001.change'), NOTARY_FILES[1] as string);
    await writeFile(join(dir, '002.change'), 'not json');
    await writeFile(join(dir, '003.change'), NOTARY_FILES[2] as string);
    await mkdir(join(dir, '000-subdir'));
    const skipped: string[] = [];
    const cl = new FileChangelist(dir, { onSkip: (f) => skipped.push(f) });
    assert.deepEqual((await cl.list()).map((c) => c.type), ['target', 'witness']);
    assert.deepEqual(skipped, ['002.change']);
    await cl.remove([1, 7]);
    assert.deepEqual((await readdir(dir)).sort(), ['000-subdir', '001.change', '003.change']);
    await cl.remove([0]);
    assert.deepEqual((await cl.list()).map((c) => c.type), ['witness']);
    assert.equal(await readFile(join(dir, '003.change'), 'utf8'), NOTARY_FILES[2]);
    await cl.clear();
    assert.deepEqual(await readdir(dir), ['000-subdir']);
  });

  it('treats a missing directory as empty', async () => {
    const cl = new FileChangelist(join(await tempDir(), 'missing'));
    assert.deepEqual(await cl.list(), []);
    await cl.remove([0]);
    await cl.clear();
  });
});

describe('MemoryChangelist', () => {
  it('keeps changes in order and removes by position', async () => {
    const cl = new MemoryChangelist();
    await cl.add(witnessChange('a'));
    await cl.add(witnessChange('b'));
    await cl.add(witnessChange('c'));
    await cl.remove([1]);
    assert.deepEqual((await cl.list()).map((c) => c.scope), ['a', 'c']);
    await cl.clear();
    assert.deepEqual(await cl.list(), []);
  });
});
