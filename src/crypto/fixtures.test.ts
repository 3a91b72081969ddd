/**
 * Compatibility with metadata written by real notary: every fixture file is reproduced byte for
 * byte as envelope(canonical(parse(signed))), and every signature verifies with the key the
 * fixture's root (or parent delegation) lists for that role.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonicalize, encodeEnvelope, fromBase64, parseJson } from '../canonical/index.ts';
import { keyFromJSON, tufKeyId, verifySignature, type TufKey } from './index.ts';

const FIXTURES = new URL('../../test/fixtures/crypto/', import.meta.url);

interface Envelope {
  signed: Record<string, unknown>;
  signatures: { keyid: string; method: string; sig: string }[];
}
interface RoleKeys {
  keys: Map<string, TufKey>;
  keyids: string[];
}

function load(path: string): { bytes: Uint8Array; env: Envelope } {
  const bytes = new Uint8Array(readFileSync(new URL(path, FIXTURES)));
  return { bytes, env: parseJson(bytes, path) as Envelope };
}

function keyMap(raw: unknown): Map<string, TufKey> {
  return new Map(Object.entries(raw as Record<string, unknown>).map(([id, k]) => [id, keyFromJSON(k)]));
}

function rootRole(rootPath: string, role: string): RoleKeys {
  const { signed } = load(rootPath).env;
  const roles = signed.roles as Record<string, { keyids: string[] }>;
  return { keys: keyMap(signed.keys), keyids: roles[role]!.keyids };
}

function delegation(parentPath: string, name: string): RoleKeys {
  const d = load(parentPath).env.signed.delegations as { keys: unknown; roles: { name: string; keyids: string[] }[] };
  return { keys: keyMap(d.keys), keyids: d.roles.find((r) => r.name === name)!.keyids };
}

/** Every signature is by a listed key and verifies; returns the methods seen. */
function verifyAll(path: string, signers: RoleKeys[]): string[] {
  const { env } = load(path);
  const msg = canonicalize(env.signed);
  assert.ok(env.signatures.length > 0, `${path} has signatures`);
  for (const s of env.signatures) {
    const role = signers.find((r) => r.keyids.includes(s.keyid));
    assert.ok(role, `${path}: ${s.keyid} belongs to the role`);
    const key = role.keys.get(s.keyid);
    assert.ok(key, `${path}: key ${s.keyid} listed`);
    assert.equal(tufKeyId(key), s.keyid, `${path}: key ID matches key content`);
    const sig = fromBase64(s.sig);
    assert.ok(verifySignature(key, s.method, msg, sig), `${path}: signature by ${s.keyid} verifies`);
    const tampered = msg.slice();
    tampered[tampered.length - 2] = tampered.at(-2)! ^ 1;
    assert.equal(verifySignature(key, s.method, tampered, sig), false, `${path}: tampered message fails`);
  }
  return env.signatures.map((s) => s.method);
}

const ALL_FILES = [
  'compat/notary0.1/root.json',
  'compat/notary0.1/targets.json',
  'compat/notary0.1/snapshot.json',
  'compat/notary0.1/timestamp.json',
  'compat/notary0.3/root.json',
  'compat/notary0.3/targets.json',
  'compat/notary0.3/targets/releases.json',
  'compat/notary0.3/snapshot.json',
  'compat/notary0.3/timestamp.json',
  'notary07/root.1.json',
  'notary07/root.2.json',
  'notary07/root.3.json',
  'notary07/targets.json',
  'notary07/targets/releases.json',
  'notary07/snapshot.2.json',
  'notary07/snapshot.json',
  'notary07/timestamp.json',
  'notary07-rsa/root.json',
];

test('envelope(canonical(parse(signed))) reproduces every fixture byte for byte', () => {
  for (const path of ALL_FILES) {
    const { bytes, env } = load(path);
    const sigs = env.signatures.map((s) => ({ keyid: s.keyid, method: s.method, sig: fromBase64(s.sig) }));
    const rebuilt = encodeEnvelope(canonicalize(env.signed), sigs);
    assert.equal(Buffer.from(rebuilt).toString('latin1'), Buffer.from(bytes).toString('latin1'), path);
  }
});

test('the HTML-escaped target name survives the round trip (notary07 delegation)', () => {
  const { bytes, env } = load('notary07/targets/releases.json');
  assert.ok(Buffer.from(bytes).includes('"v2\\u0026\\u003crc\\u003e"'));
  assert.ok(Object.hasOwn(env.signed.targets as object, 'v2&<rc>'));
  assert.ok(Buffer.from(canonicalize(env.signed)).includes('"v2&<rc>"'), 'canonical form is raw');
});

test('notary 0.1 fixture signatures verify with the keys of their root', () => {
  const d = 'compat/notary0.1/';
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    assert.deepEqual(verifyAll(`${d}${role}.json`, [rootRole(`${d}root.json`, role)]), ['ecdsa']);
  }
});

test('notary 0.3 fixture signatures verify, including the rsa-x509 delegation (rsapss)', () => {
  const d = 'compat/notary0.3/';
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    verifyAll(`${d}${role}.json`, [rootRole(`${d}root.json`, role)]);
  }
  const deleg = delegation(`${d}targets.json`, 'targets/releases');
  assert.equal([...deleg.keys.values()][0]?.keytype, 'rsa-x509');
  assert.deepEqual(verifyAll(`${d}targets/releases.json`, [deleg]), ['rsapss']);
});

test('notary 0.7 vectors: ecdsa-x509 roots, rotation with two signatures, eddsa timestamp', () => {
  const d = 'notary07/';
  assert.equal(rootRole(`${d}root.1.json`, 'root').keys.get(rootRole(`${d}root.1.json`, 'root').keyids[0]!)?.keytype, 'ecdsa-x509');
  assert.deepEqual(verifyAll(`${d}root.1.json`, [rootRole(`${d}root.1.json`, 'root')]), ['ecdsa']);
  verifyAll(`${d}root.2.json`, [rootRole(`${d}root.2.json`, 'root')]);
  // Root rotation: signed by the new root key and by the previous one.
  const oldRoot = rootRole(`${d}root.2.json`, 'root');
  const newRoot = rootRole(`${d}root.3.json`, 'root');
  assert.deepEqual(verifyAll(`${d}root.3.json`, [newRoot, oldRoot]), ['ecdsa', 'ecdsa']);
  const sigIds = load(`${d}root.3.json`).env.signatures.map((s) => s.keyid).sort();
  assert.deepEqual(sigIds, [...newRoot.keyids, ...oldRoot.keyids].sort());

  verifyAll(`${d}targets.json`, [rootRole(`${d}root.3.json`, 'targets')]);
  verifyAll(`${d}targets/releases.json`, [delegation(`${d}targets.json`, 'targets/releases')]);
  assert.deepEqual(verifyAll(`${d}snapshot.2.json`, [rootRole(`${d}root.1.json`, 'snapshot')]), ['ecdsa']);
  assert.deepEqual(verifyAll(`${d}snapshot.json`, [rootRole(`${d}root.3.json`, 'snapshot')]), ['eddsa']);
  const ts = rootRole(`${d}root.3.json`, 'timestamp');
  assert.equal(ts.keys.get(ts.keyids[0]!)?.keytype, 'ed25519');
  assert.deepEqual(verifyAll(`${d}timestamp.json`, [ts]), ['eddsa']);
});

test('notary 0.7 RSA root: rsa-x509 key, rsapss signature', () => {
  const root = rootRole('notary07-rsa/root.json', 'root');
  assert.equal(root.keys.get(root.keyids[0]!)?.keytype, 'rsa-x509');
  assert.deepEqual(verifyAll('notary07-rsa/root.json', [root]), ['rsapss']);
});

test('a signature does not verify under another role key or another file', () => {
  const d = 'notary07/';
  const targets = rootRole(`${d}root.3.json`, 'targets');
  const { env } = load(`${d}snapshot.2.json`);
  const s = env.signatures[0]!;
  const key = targets.keys.get(targets.keyids[0]!)!;
  assert.equal(verifySignature(key, s.method, canonicalize(env.signed), fromBase64(s.sig)), false);
  const other = load(`${d}targets.json`).env;
  const snapKey = rootRole(`${d}root.1.json`, 'snapshot');
  assert.equal(verifySignature(snapKey.keys.get(s.keyid)!, s.method, canonicalize(other.signed), fromBase64(s.sig)), false);
});
