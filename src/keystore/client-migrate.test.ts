import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalKeyId } from '../crypto/index.ts';
import { FileKeyStore } from './client-file-store.ts';
import { migrateLegacyKeyLayout } from './client-migrate.ts';
import { decodePrivateKeyPem } from './key-file.ts';
import { envPassphraseRetriever } from './passphrase-env.ts';

const COMPAT = join(import.meta.dirname, '../../test/fixtures/keys/compat');
// notary0.1: notary's fixtures/compatibility/README.md; notary0.3: notary's Test0Dot3RepoFormat
const PASS = { 'notary0.1': 'randompass', 'notary0.3': 'password' } as const;
const tmpRoot = mkdtempSync(join(tmpdir(), 'vouch-migrate-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

/** A copy of a compatibility trust dir, with a trusted_certificates dir as 0.1-0.3 clients left it. */
function copyOf(version: string): string {
  const dir = join(tmpRoot, version);
  cpSync(join(COMPAT, version), dir, { recursive: true });
  mkdirSync(join(dir, 'private', 'trusted_certificates', 'docker.com'), { recursive: true });
  writeFileSync(join(dir, 'private', 'trusted_certificates', 'docker.com', 'x.crt'), 'cert');
  return dir;
}

const retrieverFor = (pass: string) =>
  envPassphraseRetriever({ NOTARY_ROOT_PASSPHRASE: pass, NOTARY_TARGETS_PASSPHRASE: pass, NOTARY_SNAPSHOT_PASSPHRASE: pass, NOTARY_DELEGATION_PASSPHRASE: pass });
const retriever = retrieverFor(PASS['notary0.1']);

describe('legacy key layout migration on open (spec §9.1)', () => {
  it('notary 0.1: <id>_<role>.key files move to private/<id>.key with role and gun headers', async () => {
    const dir = copyOf('notary0.1');
    const store = await FileKeyStore.open(dir, { retriever });
    const priv = join(dir, 'private');
    assert.deepEqual(readdirSync(priv).sort(), [
      '7fc757801b9bab4ec9e35bfe7a6b61668ff6f4c81b5632af19e6c728ab799599.key',
      'a55ccf652b0be4b6c4d356cbb02d9ea432bb84a2571665be3df7c7396af8e8b8.key',
      'd0c623c8e70c70d42a8a8125c44a8598588b3f6e31d5c21a83cbc338dfde8a68.key',
    ]);
    const root = readFileSync(join(priv, 'd0c623c8e70c70d42a8a8125c44a8598588b3f6e31d5c21a83cbc338dfde8a68.key'), 'latin1');
    assert.match(root, /^-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,[0-9a-f]{32}\nrole: root\n\n/);
    assert.doesNotMatch(root, /gun:/);
    const listed = await store.list();
    assert.deepEqual(
      listed.map((k) => [k.keyId.slice(0, 8), k.role, k.gun]),
      [
        ['7fc75780', 'targets', 'docker.com/notary0.1/samplerepo'],
        ['a55ccf65', 'snapshot', 'docker.com/notary0.1/samplerepo'],
        ['d0c623c8', 'root', ''],
      ],
    );
    for (const info of listed) {
      const { key } = await store.get(info.keyId);
      assert.equal(canonicalKeyId(key.publicKey), info.keyId);
    }
  });

  it('notary 0.3: role headers kept, GUN from the tuf_keys directory, legacy directories and trusted_certificates removed', async () => {
    const dir = copyOf('notary0.3');
    const priv = join(dir, 'private');
    const report = await migrateLegacyKeyLayout(priv);
    assert.deepEqual(report.migrated.sort(), [
      '041b64dab281324ef2b62fd2d04f4758269e120ff063b7bc78709272821a0a02',
      '85559599cf3cf681ff193f432a7ca6d128182bd1cfa8ede2c70761deac8bc2dc',
      'f4eaf871a74aa3b3a0ff95cef2455a1e4d461639f5625418e76756fc5c948690',
      'fa842f66cac2dc898677a8660789dcff0e3b0b93b73f8952491f6493199936d3',
    ]);
    for (const gone of ['root_keys', 'tuf_keys', 'trusted_certificates']) assert.equal(existsSync(join(priv, gone)), false, gone);
    const store = await FileKeyStore.open(dir, { retriever: retrieverFor(PASS['notary0.3']) });
    const listed = await store.list();
    assert.deepEqual(
      listed.map((k) => [k.keyId.slice(0, 8), k.role, k.gun]),
      [
        ['041b64da', 'targets', 'docker.com/notary0.3/tst'],
        ['85559599', 'snapshot', 'docker.com/notary0.3/tst'],
        ['f4eaf871', 'root', ''],
        ['fa842f66', 'targets/releases', ''],
      ],
    );
    const targets = readFileSync(join(priv, '041b64dab281324ef2b62fd2d04f4758269e120ff063b7bc78709272821a0a02.key'), 'latin1');
    assert.match(targets, /\ngun: docker\.com\/notary0\.3\/tst\nrole: targets\n\n/);
    assert.equal(decodePrivateKeyPem(targets, PASS['notary0.3']).role, 'targets');
    for (const info of listed) {
      const { key } = await store.get(info.keyId);
      assert.equal(canonicalKeyId(key.publicKey), info.keyId);
      assert.equal(key.keytype, info.role === 'targets/releases' ? 'rsa' : 'ecdsa');
    }
  });

  it('is idempotent on a migrated or new directory', async () => {
    const dir = copyOf('notary0.3');
    await FileKeyStore.open(dir, { retriever });
    const before = readdirSync(join(dir, 'private')).sort();
    const report = await migrateLegacyKeyLayout(join(dir, 'private'));
    assert.deepEqual(report, { migrated: [], skipped: [] });
    assert.deepEqual(readdirSync(join(dir, 'private')).sort(), before);
  });

  it('a legacy file without a PEM block is skipped (and dropped with its directory, as notary does)', async () => {
    const dir = join(tmpRoot, 'odd');
    mkdirSync(join(dir, 'private', 'root_keys'), { recursive: true });
    writeFileSync(join(dir, 'private', 'root_keys', 'abc_root.key'), 'garbage');
    const report = await migrateLegacyKeyLayout(join(dir, 'private'));
    assert.deepEqual(report, { migrated: [], skipped: ['root_keys/abc_root.key'] });
    assert.deepEqual(readdirSync(join(dir, 'private')), []);
  });
});
