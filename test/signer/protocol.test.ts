/**
 * notary-signer's gRPC API, call by call (spec §8.1–8.2), asserted identically against the real
 * notary-signer 0.7 and `vouch signer`: every RPC's answer and every status code and message,
 * the health service names, and what mutual TLS lets through. A raw grpc-js client is used so
 * the exact codes and details are visible (RemoteCryptoService would translate them).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, status, type ChannelCredentials } from '@grpc/grpc-js';
import { canonicalKeyId, tufKeyId, verifySignature } from '../../src/crypto/index.ts';
import { CreateKey, DeleteKey, GetKeyInfo, HealthCheck, Sign } from '../../src/signer/services.ts';
import { removeDir, tempDir } from '../support/pki.ts';
import { call, expectOk, expectStatus, makeSignerPki, rawCall, startSigner, type SignerHandle, type SignerKind, type SignerPki } from './support.ts';

const enc = new TextEncoder();
const CONTENT = enc.encode('{"_type":"Timestamp","expires":"2030-01-01T00:00:00Z","meta":{},"version":1}');

for (const kind of ['notary', 'vouch'] as const satisfies readonly SignerKind[]) {
  describe(`gRPC API of ${kind === 'notary' ? 'notary-signer' : 'vouch signer'}`, { timeout: 120_000 }, () => {
    let dir: string;
    let pki: SignerPki;
    let signer: SignerHandle | undefined;
    let client: Client;
    const clients: Client[] = [];

    const dial = (creds: ChannelCredentials): Client => {
      const c = new Client(`127.0.0.1:${signer!.port}`, creds);
      clients.push(c);
      return c;
    };
    const mtls = (certFile: string, keyFile: string, caFile = pki.caFile): ChannelCredentials =>
      credentials.createSsl(readFileSync(caFile), readFileSync(keyFile), readFileSync(certFile));

    before(async () => {
      dir = await tempDir(`signer-proto-${kind}`);
      pki = await makeSignerPki(dir);
      signer = await startSigner(kind, { dir, pki });
      client = dial(mtls(pki.clientCertFile, pki.clientKeyFile));
    });
    after(async () => {
      for (const c of clients) c.close();
      await signer?.stop();
      await removeDir(dir);
    });

    it('Health/Check: "" and the KeyManagement and Signer services are SERVING; others are NOT_FOUND', async () => {
      for (const service of ['', 'grpc.health.v1.Health.KeyManagement', 'grpc.health.v1.Health.Signer']) {
        assert.equal(expectOk(await call(client, HealthCheck, { service })).status, 1, service);
      }
      expectStatus(await call(client, HealthCheck, { service: 'grpc.health.v1.Health.Overall' }), status.NOT_FOUND, 'unknown service');
      expectStatus(await call(client, HealthCheck, { service: 'proto.Signer' }), status.NOT_FOUND, 'unknown service');
    });

    for (const algorithm of ['ecdsa', 'ed25519'] as const) {
      it(`CreateKey ${algorithm} → GetKeyInfo → Sign → DeleteKey`, async () => {
        const created = expectOk(await call(client, CreateKey, { algorithm, gun: 'example.com/proto', role: 'timestamp' }));
        const key = { keytype: created.keyInfo.algorithm, public: created.publicKey };
        assert.equal(created.keyInfo.algorithm, algorithm);
        const id = tufKeyId(key);
        assert.equal(created.keyInfo.keyId, id, 'keyInfo.keyID is the TUF key id');
        assert.equal(canonicalKeyId(key), id);
        assert.equal(created.publicKey.length, algorithm === 'ed25519' ? 32 : 91);

        const info = expectOk(await call(client, GetKeyInfo, { id }));
        assert.deepEqual(info.keyInfo, { keyId: id, algorithm });
        assert.deepEqual(new Uint8Array(info.publicKey), new Uint8Array(created.publicKey));
        assert.equal(info.role, 'timestamp');

        const sig = expectOk(await call(client, Sign, { keyId: id, content: CONTENT }));
        assert.deepEqual(sig.keyInfo, { keyId: id, algorithm });
        assert.equal(sig.algorithm, algorithm === 'ecdsa' ? 'ecdsa' : 'eddsa');
        assert.equal(sig.content.length, 64);
        assert.ok(verifySignature(key, sig.algorithm, CONTENT, sig.content), 'signature over the full content verifies');
        assert.ok(!verifySignature(key, sig.algorithm, enc.encode('other'), sig.content));

        expectOk(await call(client, DeleteKey, { id }));
        expectStatus(await call(client, GetKeyInfo, { id }), status.NOT_FOUND, `key ${id} not found`);
        expectStatus(await call(client, Sign, { keyId: id, content: CONTENT }), status.NOT_FOUND, `signing key not found: ${id}`);
      });
    }

    it('CreateKey with an algorithm the signer does not create is UNKNOWN with notary\'s message', async () => {
      for (const algorithm of ['rsa', 'ECDSA', '', 'ecdsa-x509']) {
        expectStatus(await call(client, CreateKey, { algorithm, gun: 'g', role: 'snapshot' }), status.UNKNOWN, `algorithm ${algorithm} not supported for create key`);
      }
    });

    it('the memory store creates a new key on every CreateKey, even for the same role and GUN', async () => {
      const a = expectOk(await call(client, CreateKey, { algorithm: 'ecdsa', gun: 'example.com/same', role: 'snapshot' }));
      const b = expectOk(await call(client, CreateKey, { algorithm: 'ecdsa', gun: 'example.com/same', role: 'snapshot' }));
      assert.notEqual(a.keyInfo.keyId, b.keyInfo.keyId);
    });

    it('unknown keys: GetKeyInfo and Sign are NOT_FOUND, DeleteKey succeeds', async () => {
      const id = 'f'.repeat(64);
      expectStatus(await call(client, GetKeyInfo, { id }), status.NOT_FOUND, `key ${id} not found`);
      expectStatus(await call(client, Sign, { keyId: id, content: CONTENT }), status.NOT_FOUND, `signing key not found: ${id}`);
      expectStatus(await call(client, GetKeyInfo, { id: '' }), status.NOT_FOUND, 'key  not found');
      expectOk(await call(client, DeleteKey, { id }));
    });

    it('a request that is not a protobuf message is INTERNAL; an unknown method UNIMPLEMENTED', async () => {
      expectStatus(await rawCall(client, '/proto.KeyManagement/GetKeyInfo', Uint8Array.of(0x0a, 0x05, 0x61)), status.INTERNAL);
      expectStatus(await rawCall(client, '/proto.KeyManagement/ListKeys', new Uint8Array(0)), status.UNIMPLEMENTED);
      expectStatus(await rawCall(client, '/proto.Nothing/Sign', new Uint8Array(0)), status.UNIMPLEMENTED);
    });

    it('mutual TLS: no client certificate, one from another CA, or an untrusted signer certificate get no answer', async () => {
      const noCert = dial(credentials.createSsl(readFileSync(pki.caFile)));
      expectStatus(await call(noCert, HealthCheck, { service: '' }), status.UNAVAILABLE);
      const stranger = dial(mtls(pki.strangerCertFile, pki.strangerKeyFile));
      expectStatus(await call(stranger, HealthCheck, { service: '' }), status.UNAVAILABLE);
      const wrongRoots = dial(mtls(pki.clientCertFile, pki.clientKeyFile, `${dir}/other-ca.crt`));
      expectStatus(await call(wrongRoots, HealthCheck, { service: '' }), status.UNAVAILABLE);
      const plain = dial(credentials.createInsecure());
      expectStatus(await call(plain, HealthCheck, { service: '' }), status.UNAVAILABLE);
    });
  });
}
