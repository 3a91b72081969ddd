import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspectJson, inspectOutput, naturalCompare, prettyText, releasedSignatures, type RoleTarget, type TrustInfo } from './trust-inspect.ts';
import { platformManifests, platformTag } from './trust-registry.ts';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const target = (role: string, name: string, hex: string): RoleTarget => ({ role, name, meta: { length: 1, hashes: new Map([['sha256', Buffer.from(hex, 'hex')]]) } as RoleTarget['meta'] });

describe('docker trust inspect data', () => {
  it('natural order, byte and case sensitive (spec §12.2)', () => {
    assert.deepEqual(['v10', 'v9', 'admin1', 'v1', 'V3'].sort(naturalCompare), ['V3', 'admin1', 'v1', 'v9', 'v10']);
    assert.ok(naturalCompare('a01', 'a1') > 0);
    assert.equal(naturalCompare('x', 'x'), 0);
  });

  it('signed tags: released roles only, signers by same digest, admin-only rows', () => {
    const rows = releasedSignatures([
      target('targets', 'v1', H1),
      target('targets/releases', 'v1', H1),
      target('targets/alice', 'v1', H1),
      target('targets/bob', 'v1', H2),
      target('targets/bob', 'only-bob', H1),
      target('targets', 'v2', H2),
    ]);
    assert.deepEqual(rows, [
      { tag: 'v1', digest: H1, signers: ['alice'] },
      { tag: 'v2', digest: H2, signers: [] },
    ]);
  });

  const info: TrustInfo = {
    tags: [
      { tag: 'admin1', digest: H1, signers: [] },
      { tag: 'v1', digest: H2, signers: ['bob', 'alice'] },
    ],
    signers: new Map([
      ['alice', ['a'.repeat(64)]],
      ['carol', []],
      ['bob', ['c'.repeat(64), 'b'.repeat(64)]],
    ]),
    rootKeys: ['r'.repeat(4)],
    repositoryKeys: ['t'.repeat(4)],
  };

  it('JSON: signers by name descending, Repo Admin, omitted empty Keys, indent 4', () => {
    const out = inspectOutput([inspectJson('example.com/app', info)]);
    const v = JSON.parse(out) as { Signers: { Name: string; Keys?: unknown[] }[]; SignedTags: { Signers: string[] }[] }[];
    assert.deepEqual(v[0]?.Signers.map((s) => s.Name), ['carol', 'bob', 'alice']);
    assert.equal(v[0]?.Signers[0]?.Keys, undefined);
    assert.deepEqual(v[0]?.SignedTags[0]?.Signers, ['Repo Admin']);
    assert.ok(out.startsWith('[\n    {\n        "Name": "example.com/app",\n'));
    assert.equal(inspectOutput([]), '[]\n');
  });

  it("--pretty: docker's table layout", () => {
    assert.equal(
      prettyText('example.com/app', info),
      '\nSignatures for example.com/app\n\n' +
        'SIGNED TAG   DIGEST                                                             SIGNERS\n' +
        `admin1       ${H1}   (Repo Admin)\n` +
        `v1           ${H2}   alice, bob\n` +
        '\nList of signers and their keys for example.com/app\n\n' +
        'SIGNER    KEYS\n' +
        `alice     ${'a'.repeat(12)}\n` +
        `bob       ${'b'.repeat(12)}, ${'c'.repeat(12)}\n` +
        'carol     \n' +
        '\nAdministrative keys for example.com/app\n\n' +
        '  Repository Key:\ttttt\n  Root Key:\trrrr\n',
    );
    assert.match(prettyText('x', { ...info, tags: [], signers: new Map() }), /^\nNo signatures for x\n\n\nAdministrative keys for x\n/);
  });
});

describe('sign --recursive naming', () => {
  it('platform entries of an index become TAG-OS-ARCH[-VARIANT]; unknown platforms are skipped', () => {
    const d = (c: string): string => 'sha256:' + c.repeat(64);
    const index = {
      digest: d('0'),
      size: 1,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      bytes: Buffer.from(
        JSON.stringify({
          manifests: [
            { digest: d('1'), size: 10, platform: { os: 'linux', architecture: 'amd64' } },
            { digest: d('2'), size: 20, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
            { digest: d('3'), size: 30, platform: { os: 'unknown', architecture: 'unknown' } },
            { digest: d('4'), size: 40 },
          ],
        }),
      ),
    };
    const ps = platformManifests(index);
    assert.deepEqual(ps.map((p) => platformTag('v1', p)), ['v1-linux-amd64', 'v1-linux-arm-v7']);
    assert.deepEqual(ps.map((p) => p.size), [10, 20]);
  });
});
