import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeUtf8 } from '../canonical/index.ts';
import { canonicalKeyId, generatePrivateKey, signMessage, tufKeyId } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import { PassphraseError } from '../errors/index.ts';
import { RepoBuilder } from '../tuf/index.ts';
import { MemoryKeyStore } from '../../test/client-write/support.ts';
import { TestRepo } from '../../test/support/tuf-repo.ts';
import { signForPublish } from './publish.ts';
import { InsufficientSignaturesError } from './repo-errors.ts';
import { EditableRepo } from './repo-state.ts';
import { KeyRing, signPayload, signWithRoles } from './sign.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const MSG = encodeUtf8('{"_type":"Targets"}');

function keyMap(...keys: TufKey[]): Map<string, TufKey> {
  return new Map(keys.map((k) => [tufKeyId(k), k]));
}

describe('signPayload (notary signed.Sign)', () => {
  it('signs with every held key and refuses below the threshold, naming the missing keys', async () => {
    const store = new MemoryKeyStore();
    const a = generatePrivateKey('ecdsa');
    const b = generatePrivateKey('ecdsa');
    await store.add(a, { role: 'x' });
    const ring = new KeyRing(store);
    const sigs = await signPayload(ring, MSG, [], keyMap(a.publicKey, b.publicKey), 1, new Map());
    assert.deepEqual(sigs.map((s) => s.keyid), [tufKeyId(a.publicKey)]);
    await assert.rejects(
      signPayload(ring, MSG, [], keyMap(a.publicKey, b.publicKey), 2, new Map()),
      (e) =>
        e instanceof InsufficientSignaturesError &&
        e.message === `not enough signing keys: found 1 of 2 needed keys - 1 other possible keys (${canonicalKeyId(b.publicKey)})`,
    );
    await assert.rejects(
      signPayload(ring, MSG, [], keyMap(b.publicKey), 1, new Map()),
      (e) => e instanceof InsufficientSignaturesError && e.foundKeys === 0 && e.message.startsWith('signing keys not available: need 1 keys from 1 possible keys'),
    );
  });

  it('keeps earlier signatures that verify and belong to a signing or whitelisted key', async () => {
    const store = new MemoryKeyStore();
    const a = generatePrivateKey('ecdsa');
    const old = generatePrivateKey('ecdsa');
    const stranger = generatePrivateKey('ecdsa');
    await store.add(a, { role: 'x' });
    const ring = new KeyRing(store);
    const oldSig = { keyid: tufKeyId(old.publicKey), ...signMessage(old, MSG) };
    const strangerSig = { keyid: tufKeyId(stranger.publicKey), ...signMessage(stranger, MSG) };
    const staleSig = { keyid: tufKeyId(old.publicKey), ...signMessage(old, encodeUtf8('other')) };
    const sigs = await signPayload(ring, MSG, [oldSig, strangerSig, staleSig], keyMap(a.publicKey), 1, keyMap(old.publicKey));
    assert.deepEqual(sigs.map((s) => s.keyid), [tufKeyId(a.publicKey), tufKeyId(old.publicKey)]);
  });

  it('signWithRoles: every role to its threshold; optional keys never fail the signing', async () => {
    const store = new MemoryKeyStore();
    const a = generatePrivateKey('ecdsa');
    const b = generatePrivateKey('ecdsa');
    await store.add(a, { role: 'root' });
    await store.add(b, { role: 'root' });
    const ring = new KeyRing(store);
    const roles = [
      { name: 'root', keys: keyMap(a.publicKey), threshold: 1 },
      { name: 'root', keys: keyMap(b.publicKey), threshold: 1 },
    ];
    const missing = generatePrivateKey('ecdsa').publicKey;
    const sigs = await signWithRoles(ring, MSG, [], roles, keyMap(missing));
    assert.deepEqual(sigs.map((s) => s.keyid).sort(), [tufKeyId(a.publicKey), tufKeyId(b.publicKey)].sort());
  });

  it('a key that cannot be opened fails the signing but counts as "cannot sign" for checks', async () => {
    const a = generatePrivateKey('ecdsa');
    const store = new MemoryKeyStore();
    await store.add(a, { role: 'x' });
    store.get = async () => {
      throw new PassphraseError('password invalid, operation has failed.');
    };
    const ring = new KeyRing(store);
    assert.equal(await ring.canSignWith(a.publicKey), false);
    await assert.rejects(signPayload(ring, MSG, [], keyMap(a.publicKey), 1, new Map()), PassphraseError);
  });
});

describe('root re-signing window (spec §10.4 step 3)', () => {
  async function editable(rootExpires: string): Promise<{ repo: EditableRepo; ring: KeyRing }> {
    const t = TestRepo.create({ gun: 'example.com/sign', now: NOW });
    t.sign('root', { mutate: (s) => (s['expires'] = rootExpires) });
    t.publish();
    const b = new RepoBuilder({ gun: t.gun, now: NOW });
    for (const role of ['root', 'timestamp', 'snapshot', 'targets']) b.load(role, t.bytes(role));
    const store = new MemoryKeyStore();
    for (const role of ['root', 'targets', 'snapshot']) for (const k of t.keys(role)) await store.add(k.priv, { role });
    const repo = EditableRepo.fromMetadata({ gun: t.gun, now: NOW, root: b.root!, targets: new Map([['targets', b.targets('targets')!]]), snapshot: b.snapshot! });
    return { repo, ring: new KeyRing(store) };
  }

  it('re-signs an unchanged root that expires within 6 months, with version + 1 and 10 more years', async () => {
    const { repo, ring } = await editable('2026-07-01T00:00:00Z');
    const files = await signForPublish(repo, ring, false);
    assert.deepEqual([...files.keys()], ['root', 'snapshot']);
    const root = (JSON.parse(new TextDecoder().decode(files.get('root'))) as { signed: Record<string, unknown> }).signed;
    assert.equal(root['version'], 3);
    assert.equal(root['expires'], '2036-02-27T12:00:00Z');
  });

  it('leaves a root with more than 6 months to go alone', async () => {
    const { repo, ring } = await editable('2026-09-02T00:00:00Z');
    assert.deepEqual([...(await signForPublish(repo, ring, false)).keys()], ['snapshot']);
  });
});
