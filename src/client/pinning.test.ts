import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { fromBase64, sha256Hex } from '../canonical/index.ts';
import { firstCertificate, privateKeyFromRaw } from '../crypto/index.ts';
import { RootValidationError } from '../tuf/index.ts';
import { TestRepo, rootKeyFromCertificate, type TestKey } from '../../test/support/tuf-repo.ts';
import { describeRootKeys, pinnedCaFile, pinnedCertIds, pinningRuleFor, resolveTrustPinning, withCertPin } from './pinning.ts';
import { TrustedSet } from './trusted-set.ts';

const caDir = new URL('../../test/fixtures/tuf/ca-pinning/', import.meta.url);
const caFile = fileURLToPath(new URL('ca.pem', caDir));
const pem = (n: string): string => readFileSync(new URL(n, caDir), 'utf8');
const leafKey = (): TestKey =>
  rootKeyFromCertificate(privateKeyFromRaw('ecdsa', fromBase64(readFileSync(new URL('leaf.key.b64', caDir), 'utf8'))), pem('leaf.pem') + pem('int.pem'));
const CA_GUN = 'example.com/ca/repo';
const IN_CA_VALIDITY = new Date(Date.UTC(2030, 0, 1));

describe('trust pinning config (§3.3 step 4, §9.5)', () => {
  it('certs: exact GUN first, else the longest prefix* wildcard', () => {
    const cfg = { certs: { 'example.com/*': ['a'], 'example.com/app*': ['b'], 'example.com/app': ['c'] } };
    assert.deepEqual(pinnedCertIds(cfg, 'example.com/app'), ['c']);
    assert.deepEqual(pinnedCertIds(cfg, 'example.com/app2'), ['b']);
    assert.deepEqual(pinnedCertIds(cfg, 'example.com/other'), ['a']);
    assert.equal(pinnedCertIds(cfg, 'other.io/x'), undefined);
    assert.equal(pinnedCertIds(undefined, 'x'), undefined);
  });

  it('ca: the longest GUN prefix; certs pins win over CA pins', () => {
    const cfg = { ca: { 'example.com/': '/short.pem', 'example.com/ca/': '/long.pem' } };
    assert.deepEqual(pinnedCaFile(cfg, CA_GUN), { prefix: 'example.com/ca/', file: '/long.pem' });
    assert.equal(pinningRuleFor(cfg, CA_GUN), 'ca');
    assert.equal(pinningRuleFor({ ...cfg, certs: { [CA_GUN]: ['x'] } }, CA_GUN), 'certs');
    assert.equal(pinningRuleFor(cfg, 'other/x'), 'tofu');
  });

  it('resolveTrustPinning reads only the bundle that applies; an unreadable one is notary\'s CA-path error', async () => {
    const reads: string[] = [];
    const readFile = async (p: string): Promise<Uint8Array> => {
      reads.push(p);
      return new Uint8Array(readFileSync(p));
    };
    const tofu = await resolveTrustPinning({ ca: { 'other/': caFile }, disableTofu: true }, CA_GUN, { readFile });
    assert.deepEqual(tofu, { disableTofu: true });
    const pinnedByCert = await resolveTrustPinning({ certs: { [CA_GUN]: ['id'] }, ca: { 'example.com/': caFile } }, CA_GUN, { readFile });
    assert.deepEqual([...(pinnedByCert.certs ?? [])], [[CA_GUN, ['id']]]);
    assert.deepEqual(reads, []);
    const byCa = await resolveTrustPinning({ ca: { 'example.com/': caFile } }, CA_GUN, { readFile });
    assert.deepEqual(reads, [caFile]);
    assert.equal(byCa.ca?.get('example.com/')?.length, 1);
    await assert.rejects(
      resolveTrustPinning({ ca: { 'example.com/': '/nonexistent/ca.pem' } }, CA_GUN),
      (e) => e instanceof RootValidationError && e.message === 'could not validate the path to a trusted root: could not load root cert from CA path',
    );
  });

  it('a CA pin accepts a root whose leaf chains to the bundle (first contact reported as ca)', async () => {
    const repo = TestRepo.create({ gun: CA_GUN, now: IN_CA_VALIDITY, rootKeys: [leafKey()] });
    const pinning = await resolveTrustPinning({ ca: { 'example.com/': caFile } }, CA_GUN);
    const set = TrustedSet.bootstrap({ gun: CA_GUN, now: IN_CA_VALIDITY, pinning: () => pinning });
    set.loadRoot(repo.bytes('root'));
    assert.equal(set.firstContact()?.trustedBy, 'ca');
    const own = TestRepo.create({ gun: CA_GUN, now: IN_CA_VALIDITY });
    const refused = TrustedSet.bootstrap({ gun: CA_GUN, now: IN_CA_VALIDITY, pinning: () => pinning });
    assert.throws(() => refused.loadRoot(own.bytes('root')), (e) => e instanceof RootValidationError && /unable to match any certificates/.test(e.message));
  });

  it('describeRootKeys gives TUF key IDs (what certs pins take) and certificate fingerprints; withCertPin adds one', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const repo = TestRepo.create({ gun: 'example.com/pin', now, rootKeys: 2 });
    const root = TrustedSet.bootstrap({ gun: repo.gun, now, pinning: () => ({}), cachedRoot: repo.bytes('root') }).root.signed;
    const keys = describeRootKeys(root);
    const expected = repo.keys('root').map((k) => k.id).sort();
    assert.deepEqual(keys.map((k) => k.keyId), expected);
    for (const k of keys) {
      const cert = firstCertificate((root.keys.get(k.keyId) as { public: Uint8Array }).public);
      assert.equal(k.certSha256, sha256Hex(cert?.der as Uint8Array));
      assert.equal(k.commonName, 'example.com/pin');
    }
    const cfg = withCertPin({ disableTofu: true, certs: { other: ['x'] } }, repo.gun, expected[0] as string);
    assert.deepEqual(cfg, { disableTofu: true, certs: { other: ['x'], [repo.gun]: [expected[0]] } });
    assert.deepEqual(withCertPin(cfg, repo.gun, expected[0] as string), cfg);
    assert.throws(() => withCertPin(cfg, repo.gun, 'not-an-id'), TypeError);
  });
});
