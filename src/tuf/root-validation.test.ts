import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromBase64 } from '../canonical/index.ts';
import { parseCertificateChain, privateKeyFromRaw, tufKeyId, type ParsedCertificate } from '../crypto/index.ts';
import { generateKey, generateRootKey, rootKeyFromCertificate, TestRepo, type TestKey } from '../../test/support/tuf-repo.ts';
import { Envelope } from './envelope.ts';
import { InvalidMetadataError, RootRotationError, RootValidationError } from './errors.ts';
import { matchCommonNameToGun, validateRoot, type TrustPinning } from './root-validation.ts';
import { Root } from './root.ts';

const DAY = 86_400_000;
const t0 = new Date(Date.UTC(2026, 0, 1));
const gun = 'example.com/test/repo';
const env = (bytes: Uint8Array): Envelope => Envelope.parse(bytes, 'root');
const rootOf = (repo: TestRepo): Root => Root.fromSigned(env(repo.bytes('root')).signed);

function fails(fn: () => unknown, type: typeof RootValidationError | typeof RootRotationError, reason: string): void {
  assert.throws(fn, (e: unknown) => e instanceof type && e.reason === reason && e.message.endsWith(reason));
}

test('CN matching: exact, or "prefix*" for any GUN with that prefix', () => {
  assert.equal(matchCommonNameToGun('example.com/app', 'example.com/app'), true);
  assert.equal(matchCommonNameToGun('example.com/app', 'example.com/app2'), false);
  assert.equal(matchCommonNameToGun('example.com/*', 'example.com/app'), true);
  assert.equal(matchCommonNameToGun('example.com/**', 'example.com/app'), true);
  assert.equal(matchCommonNameToGun('example.com/*', 'example.org/app'), false);
  assert.equal(matchCommonNameToGun('*', 'anything'), true);
});

test('TOFU: a fresh root with a matching, valid x509 leaf is trusted', () => {
  const repo = TestRepo.create({ gun, now: t0 });
  const root = validateRoot(null, env(repo.bytes('root')), gun, {}, t0);
  assert.equal(root.version, 1);
});

test('leaf certificate rules: CN, validity window (1 day leeway), wildcard, plain keys', () => {
  const repo = TestRepo.create({ gun, now: t0 });
  const bytes = repo.bytes('root');
  const noLeaf = 'unable to retrieve valid leaf certificates';
  fails(() => validateRoot(null, env(bytes), 'example.com/other', {}, t0), RootValidationError, noLeaf);
  fails(() => validateRoot(null, env(bytes), gun, {}, new Date(t0.getTime() + 3651 * DAY)), RootValidationError, noLeaf);
  validateRoot(null, env(bytes), gun, {}, new Date(t0.getTime() - DAY + 1000)); // not yet valid, within leeway
  fails(() => validateRoot(null, env(bytes), gun, {}, new Date(t0.getTime() - DAY - 1000)), RootValidationError, noLeaf);

  const wild = TestRepo.create({ gun, now: t0, rootKeys: [generateRootKey('example.com/*', t0)] });
  validateRoot(null, env(wild.bytes('root')), gun, {}, t0);

  const plain = TestRepo.create({ gun, now: t0, rootKeys: [generateKey('ecdsa')] });
  fails(() => validateRoot(null, env(plain.bytes('root')), gun, {}, t0), RootValidationError, noLeaf);
});

test('structure is checked first', () => {
  const repo = TestRepo.create({ gun, now: t0 });
  const bytes = repo.sign('root', { mutate: (s) => { delete s['roles']['timestamp']; } });
  assert.throws(() => validateRoot(null, env(bytes), gun, {}, t0), InvalidMetadataError);
});

test('the new root must be signed by its own threshold of valid leaves', () => {
  const repo = TestRepo.create({ gun, now: t0, rootKeys: 2, rootThreshold: 2 });
  validateRoot(null, env(repo.bytes('root')), gun, {}, t0);
  const one = repo.sign('root', { keys: [repo.keys('root')[0] as TestKey] });
  fails(() => validateRoot(null, env(one), gun, {}, t0), RootValidationError, 'failed to validate integrity of roots');
  const other = repo.sign('root', { keys: [generateRootKey(gun, t0)] });
  fails(() => validateRoot(null, env(other), gun, {}, t0), RootValidationError, 'failed to validate integrity of roots');
});

test('rotation: signatures from the previous root threshold of previous certs are required', () => {
  const repo = TestRepo.create({ gun, now: t0 });
  const prev = rootOf(repo);
  const oldKeys = repo.keys('root');
  const newKey = generateRootKey(gun, t0);
  const both = repo.rotateRootKeys([newKey]);
  assert.equal(validateRoot(prev, env(both), gun, {}, t0).version, 2);
  const onlyNew = repo.sign('root', { bump: false, keys: [newKey] });
  fails(() => validateRoot(prev, env(onlyNew), gun, {}, t0), RootRotationError, 'failed to validate data with current trusted certificates');
  validateRoot(null, env(onlyNew), gun, {}, t0); // fine without a previous root (TOFU)
  const onlyOld = repo.sign('root', { bump: false, keys: oldKeys });
  fails(() => validateRoot(prev, env(onlyOld), gun, {}, t0), RootValidationError, 'failed to validate integrity of roots');
});

test('rotation uses the previous threshold; previous certificates are not checked for expiry', () => {
  const repo = TestRepo.create({ gun, now: t0, rootKeys: 2, rootThreshold: 2 });
  const prev = rootOf(repo);
  const [a, b] = repo.keys('root') as [TestKey, TestKey];
  const later = new Date(t0.getTime() + 4000 * DAY); // old certs expired by now
  const fresh = generateRootKey(gun, later);
  repo.signed('root')['roles']['root']['threshold'] = 1;
  const withOne = repo.rotateRootKeys([fresh], [fresh, a]);
  fails(() => validateRoot(prev, env(withOne), gun, {}, later), RootRotationError, 'failed to validate data with current trusted certificates');
  const withBoth = repo.sign('root', { bump: false, keys: [fresh, a, b] });
  assert.equal(validateRoot(prev, env(withBoth), gun, {}, later).version, 2);
});

test('a previous root without valid certificates for this GUN cannot vouch for rotation', () => {
  const other = TestRepo.create({ gun: 'example.com/other', now: t0 });
  const repo = TestRepo.create({ gun, now: t0 });
  fails(() => validateRoot(rootOf(other), env(repo.bytes('root')), gun, {}, t0), RootValidationError,
    'could not retrieve trusted certs from previous root role data');
});

test('pinning by certificate IDs: exact GUN first, else the longest matching wildcard', () => {
  const repo = TestRepo.create({ gun, now: t0 });
  const id = (repo.keys('root')[0] as TestKey).id;
  const bytes = repo.bytes('root');
  const check = (certs: [string, string[]][]): Root => validateRoot(null, env(bytes), gun, { certs: new Map(certs) }, t0);
  check([[gun, [id]]]);
  check([['example.com/*', ['nope']], ['example.com/test/*', [id]]]);
  check([['other/*', ['nope']]]); // no rule applies → TOFU
  const noMatch = 'unable to match any certificates to trust_pinning config';
  fails(() => check([[gun, ['nope']], ['example.com/*', [id]]]), RootValidationError, noMatch);
  fails(() => check([['example.com/*', [id]], ['example.com/test/*', ['nope']]]), RootValidationError, noMatch);
  fails(() => check([[gun, []]]), RootValidationError, noMatch);
});

test('disable_tofu refuses a first bootstrap without a pinning rule, but not a rotation', () => {
  const repo = TestRepo.create({ gun, now: t0 });
  const pin: TrustPinning = { disableTofu: true };
  fails(() => validateRoot(null, env(repo.bytes('root')), gun, pin, t0), RootValidationError, 'invalid trust pinning specified');
  const prev = rootOf(repo);
  validateRoot(prev, env(repo.rotateRootKeys()), gun, pin, t0);
});

const caDir = new URL('../../test/fixtures/tuf/ca-pinning/', import.meta.url);
const pem = (n: string): string => readFileSync(new URL(n, caDir), 'utf8');
const caKey = (n: string): TestKey => rootKeyFromCertificate(privateKeyFromRaw('ecdsa', fromBase64(readFileSync(new URL(`${n}.key.b64`, caDir), 'utf8'))),
  n === 'leaf' ? pem('leaf.pem') + pem('int.pem') : pem(`${n}.pem`));
const caGun = 'example.com/ca/repo';
const inCaValidity = new Date(Date.UTC(2030, 0, 1));

test('pinning by CA: the leaf (with intermediates from the key) must chain to the bundle', () => {
  const repo = TestRepo.create({ gun: caGun, now: inCaValidity, rootKeys: [caKey('leaf')] });
  const bundle = parseCertificateChain(pem('ca.pem'));
  const ca = (m: [string, ParsedCertificate[]][]): TrustPinning => ({ ca: new Map(m) });
  validateRoot(null, env(repo.bytes('root')), caGun, ca([['example.com/', bundle]]), inCaValidity);
  // longest prefix wins: an unrelated bundle on a shorter prefix is ignored
  const unrelated = parseCertificateChain(pem('codesign.pem'));
  validateRoot(null, env(repo.bytes('root')), caGun, ca([['example.com/', unrelated], ['example.com/ca/', bundle]]), inCaValidity);
  fails(() => validateRoot(null, env(repo.bytes('root')), caGun, ca([['example.com/', bundle], ['example.com/ca/', unrelated]]), inCaValidity),
    RootValidationError, 'unable to match any certificates to trust_pinning config');
  // as in Go, any pooled certificate is an anchor: the intermediate alone also works
  validateRoot(null, env(repo.bytes('root')), caGun, ca([['example.com/', parseCertificateChain(pem('int.pem'))]]), inCaValidity);
  // the certificate ID of the leaf+intermediate chain is what cert pinning sees
  assert.equal(tufKeyId((repo.keys('root')[0] as TestKey).pub), (repo.keys('root')[0] as TestKey).id);
});

test('pinning by CA: a codeSigning-only leaf fails Go\'s chain check; an all-expired bundle is an error', () => {
  const repo = TestRepo.create({ gun: caGun, now: inCaValidity, rootKeys: [caKey('codesign')] });
  const bundle = parseCertificateChain(pem('ca.pem'));
  fails(() => validateRoot(null, env(repo.bytes('root')), caGun, { ca: new Map([['example.com/', bundle]]) }, inCaValidity),
    RootValidationError, 'unable to match any certificates to trust_pinning config');
  const own = TestRepo.create({ gun, now: t0 });
  const expired = parseCertificateChain(pem('ca.pem')).map((c) => ({ ...c, notAfter: new Date(0) }));
  fails(() => validateRoot(null, env(own.bytes('root')), gun, { ca: new Map([['example.com/', expired]]) }, t0),
    RootValidationError, 'invalid CA certs provided');
});
