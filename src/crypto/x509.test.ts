import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { CertificateError } from '../errors/index.ts';
import { children, parseDer } from './der.ts';
import {
  certificateToTufKey,
  certificatesToTufKey,
  checkCertificateValidity,
  generatePrivateKey,
  generateRootCertificate,
  parseCertificateChain,
  privateKeyFromRaw,
  tufKeyId,
  verifyChainToRoots,
  type ParsedCertificate,
} from './index.ts';

const FIXTURES = new URL('../../test/fixtures/crypto/', import.meta.url);
const pki = (name: string): string => readFileSync(new URL(`pki/${name}`, FIXTURES), 'latin1');
const cert = (name: string): ParsedCertificate => parseCertificateChain(pki(name))[0]!;
const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2026-03-04T05:06:07.891Z');

function opensslText(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem }).toString();
}

/** The DER of the TBS extensions field ([3]) of a certificate. */
function extensionsDer(c: ParsedCertificate): string {
  const tbs = children(children(parseDer(c.der))[0]!);
  return Buffer.from(tbs.find((n) => n.tag === 0xa3)!.full).toString('hex');
}

test('generateRootCertificate (ecdsa): fields as notary makes them, checked with openssl', () => {
  const key = generatePrivateKey('ecdsa');
  const pem = generateRootCertificate(key, 'example.com/spec/app', NOW);
  assert.match(pem, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
  const text = opensslText(pem);
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /Issuer: CN = example.com\/spec\/app\n/);
  assert.match(text, /Subject: CN = example.com\/spec\/app\n/);
  assert.match(text, /Not Before: Mar  4 05:06:07 2026 GMT/);
  assert.match(text, /Not After : Mar  1 05:06:07 2036 GMT/); // + 3650 days
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
  assert.match(text, /X509v3 Extended Key Usage: \n\s+Code Signing\n/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
  assert.doesNotMatch(text, /Key Identifier|Alternative Name/);
  assert.match(text, /ASN1 OID: prime256v1/);

  const x = new X509Certificate(pem);
  assert.ok(x.verify(x.publicKey), 'self-signature verifies (OpenSSL)');
  const serial = BigInt('0x' + x.serialNumber);
  assert.ok(serial > 0n && serial < 1n << 128n);

  const parsed = parseCertificateChain(pem)[0]!;
  assert.deepEqual(parsed.publicKey, key.publicKey);
  assert.equal(parsed.notAfter.getTime() - parsed.notBefore.getTime(), 3650 * DAY);
  assert.equal(parsed.notBefore.toISOString(), '2026-03-04T05:06:07.000Z');
});

test('generateRootCertificate: same extensions, encoding and names as notary 0.7 certificates', () => {
  const theirs = cert('notary07-root.crt');
  const ours = parseCertificateChain(generateRootCertificate(generatePrivateKey('ecdsa'), theirs.commonName, NOW))[0]!;
  assert.equal(extensionsDer(ours), extensionsDer(theirs));
  assert.deepEqual(ours.rawSubject, theirs.rawSubject);
  assert.deepEqual(ours.rawIssuer, theirs.rawIssuer);
  assert.equal(ours.signatureAlgorithm, theirs.signatureAlgorithm);
  assert.equal(theirs.notAfter.getTime() - theirs.notBefore.getTime(), 3650 * DAY, 'notary: now + 3650 days');

  const theirsRsa = cert('notary07-rsa-root.crt');
  const rsaKey = privateKeyFromRaw('rsa', new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'der', type: 'pkcs1' })));
  const oursRsa = parseCertificateChain(generateRootCertificate(rsaKey, theirsRsa.commonName, NOW))[0]!;
  assert.equal(extensionsDer(oursRsa), extensionsDer(theirsRsa));
  assert.equal(oursRsa.signatureAlgorithm, 'SHA256-RSA');
  assert.equal(theirsRsa.signatureAlgorithm, 'SHA256-RSA');
  assert.match(opensslText(oursRsa.pem), /Signature Algorithm: sha256WithRSAEncryption/);
});

test('generateRootCertificate: GUN outside PrintableString becomes UTF8String; ed25519 refused', () => {
  const pem = generateRootCertificate(generatePrivateKey('ecdsa'), 'docker.io/my_org/app', NOW);
  const c = parseCertificateChain(pem)[0]!;
  assert.equal(c.commonName, 'docker.io/my_org/app');
  assert.equal(c.rawSubject[11], 0x0c, 'UTF8String tag');
  assert.throws(() => generateRootCertificate(generatePrivateKey('ed25519'), 'x', NOW), CertificateError);
});

test('certificateToTufKey: notary root keys reproduce their key IDs', () => {
  assert.equal(tufKeyId(certificateToTufKey(pki('notary07-root.crt'))), 'de15caf348add9f4c74ced85bc165287a6244a0e3f740d7599c435b44f54a490');
  assert.equal(tufKeyId(certificateToTufKey(pki('notary07-rsa-root.crt'))), '6cb765880e373dc14a7f44b3d200ebf7d7d7098d8408dfbe277255688c74c9d1');
  const chain = certificateToTufKey(pki('leaf-noeku.crt') + pki('inter.crt'));
  assert.equal(chain.keytype, 'ecdsa-x509');
  assert.equal(new TextDecoder().decode(chain.public), pki('leaf-noeku.crt') + pki('inter.crt'));
  // CRLF and surrounding text are normalised to Go's PEM encoding.
  const crlf = 'junk\r\n' + pki('notary07-root.crt').replaceAll('\n', '\r\n');
  assert.deepEqual(certificateToTufKey(crlf), certificateToTufKey(pki('notary07-root.crt')));
  assert.equal(certificatesToTufKey([cert('rsa2048.crt')]).keytype, 'rsa-x509');
});

test('parseCertificateChain: fields of openssl-made certificates', () => {
  const [leaf, inter] = parseCertificateChain(pki('leaf-codesign.crt') + pki('inter.crt'));
  assert.ok(leaf && inter);
  assert.equal(leaf.commonName, 'example.com/pinned');
  assert.equal(leaf.isCA, false);
  assert.deepEqual(leaf.extKeyUsage, ['codeSigning']);
  assert.equal(leaf.signatureAlgorithm, 'ECDSA-SHA256');
  assert.equal(leaf.publicKey.keytype, 'ecdsa');
  assert.equal(inter.commonName, 'vouch-test-intermediate');
  assert.equal(inter.isCA, true);
  assert.equal(inter.maxPathLen, 0);
  assert.equal(inter.extKeyUsage, null);
  assert.ok(inter.subjectKeyId !== null && inter.authorityKeyId !== null);
  assert.deepEqual(leaf.rawIssuer, inter.rawSubject);
  assert.deepEqual(cert('leaf-server.crt').extKeyUsage, ['serverAuth', 'codeSigning']);
  assert.equal(cert('leaf-sha1.crt').signatureAlgorithm, 'ECDSA-SHA1');
  assert.equal(cert('rsa1024.crt').rsaModulusBits, 1024);
  assert.equal(cert('rsa2048.crt').publicKey.keytype, 'rsa');
  const x = new X509Certificate(pki('leaf-codesign.crt'));
  assert.equal(leaf.notBefore.getTime(), new Date(x.validFrom).getTime());
  assert.equal(leaf.notAfter.getTime(), new Date(x.validTo).getTime());
});

test('parseCertificateChain: garbage, other block types and empty input throw CertificateError', () => {
  const publicKey = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n';
  const bad = [
    '',
    'hello',
    publicKey,
    pki('root.crt') + publicKey,
    '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    pki('root.crt').split('\n').filter((_, i) => i !== 2).join('\n'), // a base64 line missing: truncated DER
  ];
  for (const pem of bad) assert.throws(() => parseCertificateChain(pem), CertificateError, JSON.stringify(pem.slice(0, 40)));
  const der = Buffer.from(cert('root.crt').der);
  der[der.length - 10] = der.at(-10)! ^ 1;
  const tamperedStillParses = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
  assert.equal(parseCertificateChain(tamperedStillParses).length, 1, 'a bad signature is not a parse error');
});

test('checkCertificateValidity: spec §3.2 rules', () => {
  const root = cert('notary07-root.crt');
  checkCertificateValidity(root, {});
  checkCertificateValidity(root, { now: new Date(root.notBefore.getTime() + DAY) });
  // One day of leeway before NotBefore.
  checkCertificateValidity(root, { now: new Date(root.notBefore.getTime() - 23 * 60 * 60 * 1000) });
  assert.throws(() => checkCertificateValidity(root, { now: new Date(root.notBefore.getTime() - 25 * 60 * 60 * 1000) }), CertificateError);
  assert.throws(() => checkCertificateValidity(root, { now: new Date(root.notAfter.getTime() + 1000) }), /expired/);
  checkCertificateValidity(root, { now: root.notAfter });
  assert.throws(() => checkCertificateValidity(cert('leaf-sha1.crt'), {}), /SHA1/);
  assert.throws(() => checkCertificateValidity(cert('rsa1024.crt'), {}), /RSA bit length is too short/);
  checkCertificateValidity(cert('rsa2048.crt'), {});
  assert.throws(() => checkCertificateValidity({ ...root, notBefore: root.notAfter, notAfter: root.notBefore }, {}), /validity window/);
});

interface GoVector {
  leaf: string;
  roots: 'root' | 'other' | 'inter' | 'self';
  intermediates: boolean;
  at: string;
  ok: boolean;
  err: string;
}

test('verifyChainToRoots: agrees with Go 1.19 x509.Verify on every recorded case', () => {
  const lines = pki('go-verify-vectors.jsonl').trim().split('\n');
  const vectors = lines.map((l) => JSON.parse(l) as GoVector);
  assert.ok(vectors.length >= 192);
  const inter = cert('inter.crt');
  let accepted = 0;
  for (const v of vectors) {
    const leaf = cert(`${v.leaf}.crt`);
    const roots = v.roots === 'self' ? [leaf] : [cert(`${v.roots}.crt`)];
    const got = verifyChainToRoots(leaf, v.intermediates ? [inter] : [], roots, new Date(v.at));
    assert.equal(got, v.ok, `${v.leaf} roots=${v.roots} intermediates=${v.intermediates} at=${v.at}: Go said ${v.err}`);
    if (got) accepted++;
  }
  assert.ok(accepted > 10 && accepted < vectors.length - 10, 'both outcomes are exercised');
});

test('verifyChainToRoots: the serverAuth quirk (codeSigning-only leaves never pass CA pinning)', () => {
  const at = new Date(cert('inter.crt').notBefore.getTime() + 2 * DAY);
  const root = cert('root.crt');
  const inter = cert('inter.crt');
  assert.equal(verifyChainToRoots(cert('leaf-noeku.crt'), [inter], [root], at), true);
  assert.equal(verifyChainToRoots(cert('leaf-server.crt'), [inter], [root], at), true);
  assert.equal(verifyChainToRoots(cert('leaf-codesign.crt'), [inter], [root], at), false);
  const notaryRoot = cert('notary07-root.crt');
  assert.equal(verifyChainToRoots(notaryRoot, [], [notaryRoot], new Date(notaryRoot.notBefore.getTime() + DAY)), false);
});
