/**
 * notary-signer and `vouch signer` on one key database (PostgreSQL and MariaDB/MySQL, spec
 * §8.3): rows either one writes, the other opens and signs with — same table, same sealed JWE,
 * same passphrase aliases — and both hand out the same pending key for (role, GUN, algorithm).
 * So a notary-signer deployment can be replaced by vouch signer on its existing database, and
 * back. The table is created by vouch's migrations; notary-signer runs on it unchanged.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, status } from '@grpc/grpc-js';
import { tufKeyId, verifySignature } from '../../src/crypto/index.ts';
import { MysqlKeyRecordStore, PostgresKeyRecordStore } from '../../src/storage/index.ts';
import { CreateKey, DeleteKey, GetKeyInfo, Sign } from '../../src/signer/services.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { freshMysql, freshPostgres, type FreshDatabase } from '../storage/databases.ts';
import { call, expectOk, expectStatus, makeSignerPki, startSigner, type SignerHandle, type SignerKind, type SignerPki } from './support.ts';

const CONTENT = new TextEncoder().encode('{"_type":"Timestamp","version":7}');
const ENV = { NOTARY_SIGNER_ALIAS1: 'shared passphrase one', NOTARY_SIGNER_ALIAS2: 'shared passphrase two' };

const BACKENDS = [
  { backend: 'postgres', fresh: freshPostgres, migrate: async (url: string) => (await PostgresKeyRecordStore.open(url)).close() },
  { backend: 'mysql', fresh: freshMysql, migrate: async (url: string) => (await MysqlKeyRecordStore.open(url)).close() },
] as const;

for (const { backend, fresh, migrate } of BACKENDS) {
  describe(`notary-signer and vouch signer sharing a ${backend} key database`, { timeout: 180_000 }, () => {
    let dir: string;
    let pki: SignerPki;
    let db: FreshDatabase | undefined;
    const signers: SignerHandle[] = [];
    const clients = new Map<SignerKind, Client>();

    const start = async (kind: SignerKind, defaultAlias: string): Promise<Client> => {
      const s = await startSigner(kind, { dir, pki, backend, dbUrl: db!.url, defaultAlias, env: ENV, name: `${kind}-${defaultAlias}` });
      signers.push(s);
      const c = new Client(`127.0.0.1:${s.port}`, credentials.createSsl(readFileSync(pki.caFile), readFileSync(pki.clientKeyFile), readFileSync(pki.clientCertFile)));
      clients.set(kind, c);
      return c;
    };
    const signsWith = async (c: Client, id: string, role: string): Promise<void> => {
      const info = expectOk(await call(c, GetKeyInfo, { id }));
      assert.equal(info.role, role);
      const sig = expectOk(await call(c, Sign, { keyId: id, content: CONTENT }));
      assert.ok(verifySignature({ keytype: info.keyInfo.algorithm, public: info.publicKey }, sig.algorithm, CONTENT, sig.content));
    };
    const create = async (c: Client, algorithm: string, gun: string, role: string): Promise<string> => {
      const res = expectOk(await call(c, CreateKey, { algorithm, gun, role }));
      return tufKeyId({ keytype: res.keyInfo.algorithm, public: res.publicKey });
    };

    before(async () => {
      dir = await tempDir(`signer-shared-${backend}`);
      pki = await makeSignerPki(dir);
      db = await fresh();
      await migrate(db.url);
    });
    after(async () => {
      for (const c of clients.values()) c.close();
      for (const s of signers) await s.stop();
      await db?.drop();
      await removeDir(dir);
    });

    it('keys created by either signer are opened and used by the other', async () => {
      const notary = await start('notary', 'alias1');
      const vouch = await start('vouch', 'alias2');
      const fromNotary = await create(notary, 'ecdsa', 'example.com/shared', 'timestamp');
      const fromNotaryEd = await create(notary, 'ed25519', 'example.com/shared', 'snapshot');
      const fromVouch = await create(vouch, 'ecdsa', 'example.com/shared2', 'timestamp');
      const fromVouchEd = await create(vouch, 'ed25519', 'example.com/shared2', 'snapshot');
      await signsWith(vouch, fromNotary, 'timestamp');
      await signsWith(vouch, fromNotaryEd, 'snapshot');
      await signsWith(notary, fromVouch, 'timestamp');
      await signsWith(notary, fromVouchEd, 'snapshot');

      const rows = await db!.admin('SELECT key_id, passphrase_alias, encryption_alg, keywrap_alg FROM private_keys');
      const alias = new Map(rows.map((r) => [String(r['key_id']), String(r['passphrase_alias'])]));
      assert.equal(alias.get(fromNotary), 'alias1');
      assert.equal(alias.get(fromVouch), 'alias2', 'each signer seals under its own default alias; the other opens it by the row alias');
      for (const r of rows) {
        assert.equal(r['encryption_alg'], 'A256GCM');
        assert.equal(r['keywrap_alg'], 'PBES2-HS256+A128KW');
      }
    });

    it('both hand out the same pending key for (role, GUN, algorithm), until it signs', async () => {
      const notary = clients.get('notary')!;
      const vouch = clients.get('vouch')!;
      const pending = await create(vouch, 'ecdsa', 'example.com/pending', 'snapshot');
      assert.equal(await create(notary, 'ecdsa', 'example.com/pending', 'snapshot'), pending);
      expectOk(await call(notary, Sign, { keyId: pending, content: CONTENT }));
      const next = await create(vouch, 'ecdsa', 'example.com/pending', 'snapshot');
      assert.notEqual(next, pending, 'notary-signer marked the key used, so vouch makes a new one');
      assert.equal(await create(notary, 'ecdsa', 'example.com/pending', 'snapshot'), next);
    });

    it('a key deleted through one is gone for the other', async () => {
      const notary = clients.get('notary')!;
      const vouch = clients.get('vouch')!;
      const id = await create(notary, 'ecdsa', 'example.com/deleted', 'timestamp');
      await signsWith(vouch, id, 'timestamp');
      expectOk(await call(vouch, DeleteKey, { id }));
      // notary-signer caches keys it has opened; this one it never opened
      expectStatus(await call(notary, GetKeyInfo, { id }), status.NOT_FOUND, `key ${id} not found`);
      const id2 = await create(vouch, 'ed25519', 'example.com/deleted', 'timestamp');
      expectOk(await call(notary, DeleteKey, { id: id2 }));
      expectStatus(await call(vouch, Sign, { keyId: id2, content: CONTENT }), status.NOT_FOUND, `signing key not found: ${id2}`);
    });
  });
}
