/**
 * `vouch signer` with a database (sqlite3): keys at rest and passphrase aliases (spec §8.3).
 *
 * - Rows are notary-signer's: `encryption_alg` A256GCM, `keywrap_alg` PBES2-HS256+A128KW,
 *   `private` a compact JWE (p2c 8192) opening to the raw key with the alias's passphrase; the
 *   database files hold no private key bytes in any encoding.
 * - Alias rotation: rows keep their alias; after `default_alias` changes, new keys are sealed
 *   under the new alias while old keys still open with `NOTARY_SIGNER_<OLD ALIAS>`; without that
 *   passphrase (or with a wrong one) the old keys are NOT_FOUND; a default alias without a
 *   passphrase makes CreateKey fail with INTERNAL.
 * - `NOTARY_SIGNER_DEFAULT_ALIAS` names the alias when `storage.default_alias` is not set.
 * - SQL stores hand out a pending (never used) key again on CreateKey until it signs.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, status } from '@grpc/grpc-js';
import { privateKeyFromRaw, tufKeyId, verifySignature } from '../../src/crypto/index.ts';
import { unsealPrivateKey } from '../../src/keystore/index.ts';
import { CreateKey, GetKeyInfo, Sign } from '../../src/signer/services.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { call, expectOk, expectStatus, makeSignerPki, startSigner, type SignerHandle, type SignerPki } from './support.ts';

const P1 = 'first alias passphrase';
const P2 = 'second alias passphrase';
const CONTENT = new TextEncoder().encode('{"_type":"Snapshot","version":3}');

interface Row {
  key_id: string;
  encryption_alg: string;
  keywrap_alg: string;
  algorithm: string;
  passphrase_alias: string;
  gun: string;
  role: string;
  public: Uint8Array;
  private: string;
  last_used: number | null;
}

function rows(dbFile: string): Row[] {
  const db = new DatabaseSync(dbFile, { readOnly: true });
  try {
    return db.prepare('SELECT key_id, encryption_alg, keywrap_alg, algorithm, passphrase_alias, gun, role, public, private, last_used FROM private_keys ORDER BY id').all() as unknown as Row[];
  } finally {
    db.close();
  }
}

/** The secret part of a raw key: the ECDSA scalar or the Ed25519 seed. */
function secretOf(algorithm: string, raw: Uint8Array): Buffer {
  if (algorithm === 'ed25519') return Buffer.from(raw.subarray(32, 64));
  const jwk = createPrivateKey({ key: Buffer.from(raw), format: 'der', type: 'sec1' }).export({ format: 'jwk' });
  return Buffer.from(jwk.d ?? '', 'base64url');
}

describe('vouch signer keys at rest and passphrase aliases (sqlite3)', { timeout: 180_000 }, () => {
  let dir: string;
  let pki: SignerPki;
  let dbFile: string;
  let signer: SignerHandle | undefined;
  let client: Client | undefined;
  let runs = 0;
  const ids: Record<string, string> = {};

  /** (Re)start the signer on the same database with this alias setup. */
  const restart = async (defaultAlias: string | null, env: Record<string, string>): Promise<Client> => {
    client?.close();
    await signer?.stop();
    signer = await startSigner('vouch', { dir, pki, backend: 'sqlite3', dbFile, defaultAlias, env, name: `signer-${++runs}` });
    client = new Client(
      `127.0.0.1:${signer.port}`,
      credentials.createSsl(readFileSync(pki.caFile), readFileSync(pki.clientKeyFile), readFileSync(pki.clientCertFile)),
    );
    return client;
  };
  const signsWith = async (c: Client, id: string): Promise<void> => {
    const info = expectOk(await call(c, GetKeyInfo, { id }));
    const sig = expectOk(await call(c, Sign, { keyId: id, content: CONTENT }));
    assert.ok(verifySignature({ keytype: info.keyInfo.algorithm, public: info.publicKey }, sig.algorithm, CONTENT, sig.content));
  };
  const create = async (c: Client, algorithm: string, gun: string, role = 'timestamp'): Promise<string> => {
    const res = expectOk(await call(c, CreateKey, { algorithm, gun, role }));
    return tufKeyId({ keytype: res.keyInfo.algorithm, public: res.publicKey });
  };

  before(async () => {
    dir = await tempDir('signer-at-rest');
    pki = await makeSignerPki(dir);
    dbFile = `${dir}/keys.db`;
  });
  after(async () => {
    client?.close();
    await signer?.stop();
    await removeDir(dir);
  });

  it('new keys are sealed JWEs under the default alias, and no private key bytes are stored', async () => {
    const c = await restart('alias1', { NOTARY_SIGNER_ALIAS1: P1 });
    ids['ecdsa1'] = await create(c, 'ecdsa', 'example.com/rest');
    ids['ed1'] = await create(c, 'ed25519', 'example.com/rest', 'snapshot');
    await signsWith(c, ids['ecdsa1']);
    await signer!.stop();

    const stored = rows(dbFile);
    assert.equal(stored.length, 2);
    const files = [dbFile, `${dbFile}-wal`, `${dbFile}-journal`].filter((f) => existsSync(f)).map((f) => readFileSync(f));
    for (const row of stored) {
      assert.equal(row.encryption_alg, 'A256GCM');
      assert.equal(row.keywrap_alg, 'PBES2-HS256+A128KW');
      assert.equal(row.passphrase_alias, 'alias1');
      assert.equal(row.gun, 'example.com/rest');
      const parts = row.private.split('.');
      assert.equal(parts.length, 5, 'compact JWE');
      const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      assert.equal(header['alg'], 'PBES2-HS256+A128KW');
      assert.equal(header['enc'], 'A256GCM');
      assert.equal(header['p2c'], 8192);

      const raw = await unsealPrivateKey(row.private, P1);
      const key = privateKeyFromRaw(row.algorithm as 'ecdsa' | 'ed25519', raw);
      assert.deepEqual(new Uint8Array(key.publicKey.public), new Uint8Array(row.public));
      assert.equal(tufKeyId(key.publicKey), row.key_id);
      await assert.rejects(unsealPrivateKey(row.private, P2), /wrong passphrase/);

      const secret = secretOf(row.algorithm, raw);
      for (const form of [secret, Buffer.from(raw), Buffer.from(secret.toString('hex')), Buffer.from(secret.toString('base64')), Buffer.from(secret.toString('base64url'))]) {
        for (const bytes of files) assert.equal(bytes.indexOf(form), -1, `private key bytes of ${row.key_id} found at rest`);
      }
    }
    assert.equal(stored.find((r) => r.key_id === ids['ecdsa1'])?.last_used !== null, true, 'signing marked the key used');
  });

  it('after rotating the default alias, new keys use the new alias and old keys open with theirs', async () => {
    const c = await restart('alias2', { NOTARY_SIGNER_ALIAS1: P1, NOTARY_SIGNER_ALIAS2: P2 });
    await signsWith(c, ids['ecdsa1']!);
    await signsWith(c, ids['ed1']!);
    ids['ecdsa2'] = await create(c, 'ecdsa', 'example.com/rest2');
    await signsWith(c, ids['ecdsa2']);
    await signer!.stop();
    const byId = new Map(rows(dbFile).map((r) => [r.key_id, r]));
    assert.equal(byId.get(ids['ecdsa1']!)?.passphrase_alias, 'alias1');
    const row2 = byId.get(ids['ecdsa2'])!;
    assert.equal(row2.passphrase_alias, 'alias2');
    await unsealPrivateKey(row2.private, P2);
    await assert.rejects(unsealPrivateKey(row2.private, P1), /wrong passphrase/);
  });

  it("without the old alias's passphrase (or with a wrong one) its keys are NOT_FOUND; the others still sign", async () => {
    const setups: Record<string, string>[] = [{ NOTARY_SIGNER_ALIAS2: P2 }, { NOTARY_SIGNER_ALIAS2: P2, NOTARY_SIGNER_ALIAS1: 'wrong' }];
    for (const env of setups) {
      const c = await restart('alias2', env);
      const id = ids['ecdsa1']!;
      expectStatus(await call(c, GetKeyInfo, { id }), status.NOT_FOUND, `key ${id} not found`);
      expectStatus(await call(c, Sign, { keyId: id, content: CONTENT }), status.NOT_FOUND, `signing key not found: ${id}`);
      await signsWith(c, ids['ecdsa2']!);
    }
  });

  it('a default alias without a passphrase: CreateKey is INTERNAL "Key creation failed", existing keys still sign', async () => {
    const c = await restart('alias3', { NOTARY_SIGNER_ALIAS1: P1, NOTARY_SIGNER_ALIAS2: P2 });
    expectStatus(await call(c, CreateKey, { algorithm: 'ecdsa', gun: 'example.com/none', role: 'timestamp' }), status.INTERNAL, 'Key creation failed');
    await signsWith(c, ids['ecdsa1']!);
    assert.equal(rows(dbFile).filter((r) => r.gun === 'example.com/none').length, 0);
  });

  it('NOTARY_SIGNER_DEFAULT_ALIAS names the alias when storage.default_alias is not configured', async () => {
    const c = await restart(null, { NOTARY_SIGNER_DEFAULT_ALIAS: 'alias4', NOTARY_SIGNER_ALIAS4: 'fourth' });
    const id = await create(c, 'ed25519', 'example.com/env-alias');
    await signer!.stop();
    const row = rows(dbFile).find((r) => r.key_id === id)!;
    assert.equal(row.passphrase_alias, 'alias4');
    await unsealPrivateKey(row.private, 'fourth');
  });

  it('CreateKey hands out the pending key of (role, GUN, algorithm) until it signs, then a new one', async () => {
    const c = await restart('alias1', { NOTARY_SIGNER_ALIAS1: P1 });
    const gun = 'example.com/pending';
    const first = await create(c, 'ecdsa', gun);
    assert.equal(await create(c, 'ecdsa', gun), first);
    assert.notEqual(await create(c, 'ed25519', gun), first);
    assert.notEqual(await create(c, 'ecdsa', gun, 'snapshot'), first);
    assert.notEqual(await create(c, 'ecdsa', 'example.com/other'), first);
    expectOk(await call(c, Sign, { keyId: first, content: CONTENT }));
    const next = await create(c, 'ecdsa', gun);
    assert.notEqual(next, first);
    assert.equal(await create(c, 'ecdsa', gun), next);
  });
});
