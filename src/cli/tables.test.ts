import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changesJson, changesTable, keysJson, keysTable, parseOutputFormat, rolesJson, rolesTable, targetsJson, targetsTable, truncateWithEllipsis } from './tables.ts';

// Expected texts below were printed by the notary 0.7 CLI for the same data.
const K1 = '1aa023bbbeb0f5f8376324b4364ca6243c9ca896242eba91050a42480a93a984';
const ROOT = '8d5e2af2b3904de1124bb9bcc8074665266b94fb58b25c50e1a64611ab8ae069';
const SNAP = 'b558ec906ec89e4a65b7d6440b2c99d8a76c5c7556a2c31c7ff3b237f1c088e8';
const TGTS = '634f6fdeac69de25a47a069adeabefef2d5f51a73d22410193cc454cc55cd9eb';
const D1 = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
const D2 = 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';

describe('notary tables', () => {
  it('list: sorted by name, Go tabwriter columns', () => {
    const rows = [
      { name: 'v2', digest: D2, size: 11, role: 'targets' },
      { name: 'rel1', digest: D1, size: 6, role: 'targets/releases' },
      { name: 'v1', digest: D1, size: 6, role: 'targets' },
    ];
    assert.equal(
      targetsTable(rows),
      `NAME    DIGEST                                                              SIZE (BYTES)    ROLE
----    ------                                                              ------------    ----
rel1    ${D1}    6               targets/releases
v1      ${D1}    6               targets
v2      ${D2}    11              targets
`,
    );
    assert.deepEqual(targetsJson(rows).map((r) => (r as { name: string }).name), ['rel1', 'v1', 'v2']);
    assert.deepEqual(targetsJson(rows)[0], { name: 'rel1', digest: D1, size: 6, role: 'targets/releases' });
  });

  it('list: the empty message', () => {
    assert.equal(targetsTable([]), '\nNo targets present in this repository.\n\n');
    assert.deepEqual(targetsJson([]), []);
  });

  it('key list: root first, then by GUN, role, id; location kept in JSON', () => {
    const loc = '/tmp/nsrv/h1/trust/private';
    const rows = [
      { role: 'targets', gun: 'example.com/app', keyId: TGTS, location: loc },
      { role: 'delegation', gun: '', keyId: K1, location: loc },
      { role: 'snapshot', gun: 'example.com/app', keyId: SNAP, location: loc },
      { role: 'root', gun: '', keyId: ROOT, location: loc },
    ];
    assert.equal(
      keysTable(rows),
      `ROLE          GUN                KEY ID                                                              LOCATION
----          ---                ------                                                              --------
root                             ${ROOT}    ${loc}
delegation                       ${K1}    ${loc}
snapshot      example.com/app    ${SNAP}    ${loc}
targets       example.com/app    ${TGTS}    ${loc}
`,
    );
    assert.deepEqual(keysJson(rows)[0], { role: 'root', gun: '', keyId: ROOT, location: loc });
    assert.equal(keysTable([]), 'No signing keys found.\n');
  });

  it('key list: long GUNs and locations are cut from the left with "..."', () => {
    assert.equal(truncateWithEllipsis('registry.example.com/team/project/app', 25, true), '...e.com/team/project/app');
    assert.equal(truncateWithEllipsis('registry.example.com/team/project/app', 25, true).length, 25);
    assert.equal(truncateWithEllipsis('short', 25, true), 'short');
    const text = keysTable([{ role: 'targets', gun: 'registry.example.com/team/project/app', keyId: TGTS, location: '/home/someone/with/a/long/path/.notary/private' }]);
    assert.match(text, /targets    \.\.\.\S{22}    /);
    assert.match(text, / \.\.\.\S{37}\n$/);
  });

  it('delegation list: paths sorted, "" shown as all paths, continuation rows', () => {
    const rows = [
      { role: 'targets/releases', paths: [''], keyIds: [K1], threshold: 1 },
      { role: 'targets/alice', paths: ['b/', 'a/'], keyIds: [K1], threshold: 1 },
    ];
    assert.equal(
      rolesTable(rows),
      `ROLE                PATHS             KEY IDS                                                             THRESHOLD
----                -----             -------                                                             ---------
targets/alice       a/                ${K1}    1
                    b/                                                                                    
targets/releases    "" <all paths>    ${K1}    1
`,
    );
    assert.deepEqual(rolesJson(rows)[0], { role: 'targets/alice', paths: ['a/', 'b/'], keyIds: [K1], threshold: 1 });
    assert.equal(rolesTable([]), '\nNo delegations present in this repository.\n\n');
  });

  it('status: heading and 0-based numbers', () => {
    const rows = [
      { action: 'create', scope: 'targets/releases', type: 'delegation', path: '' },
      { action: 'create', scope: 'targets', type: 'target', path: 'v1' },
    ];
    assert.equal(
      changesTable('example.com/app', rows),
      `Unpublished changes for example.com/app:

#    ACTION    SCOPE               TYPE          PATH
-    ------    -----               ----          ----
0    create    targets/releases    delegation    
1    create    targets             target        v1
`,
    );
    assert.equal(changesTable('example.com/app', []), 'No unpublished changes for example.com/app\n');
    assert.deepEqual(changesJson(rows)[1], { number: 1, action: 'create', scope: 'targets', type: 'target', path: 'v1' });
  });

  it('--output accepts table and json only', () => {
    assert.equal(parseOutputFormat(undefined), 'table');
    assert.equal(parseOutputFormat('json'), 'json');
    assert.throws(() => parseOutputFormat('yaml'), /invalid output format "yaml"/);
  });
});
