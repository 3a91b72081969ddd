/**
 * Bad publishes get the status and error the real notary-server gives, and change nothing
 * (issue "Trust server: a drop-in notary-server", fourth requirement).
 *
 * A repository is set up with the notary CLI (server-managed snapshot, a `targets/qa` delegation
 * limited to `qa/`, a `targets/two` delegation with threshold 2); bad uploads are then crafted
 * with raw HTTPS, signed where needed with keys read from the CLI's trust dir. Each case asserts
 * status, error code and detail exactly as notary-server answers (the expectations were taken
 * from notary-server 0.7), then that every role the server serves, the change feed and
 * `notary list` are unchanged. Every server runs with `server.max_upload_bytes` = 1 MiB.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, it, before } from 'node:test';
import { useTarget } from '../support/e2e.ts';
import { errorCode, getMeta, httpRequest, multipartBody, postUpload, type HttpResponse } from '../support/http.ts';
import { NotaryCli, PASSPHRASE } from '../support/notary-cli.ts';
import { makeDelegationKey, makeRootCert } from '../support/pki.ts';
import { selectedTargets } from '../support/servers.ts';
import {
  ecdsaPublicJson,
  keyIdOf,
  parseEnvelope,
  readTrustDirKeys,
  sha256Hex,
  signEnvelope,
  signingKeyFor,
  x509PublicJson,
  type Json,
  type SigningKey,
} from '../support/tuf-sign.ts';

const GUN = 'example.com/e2e/bad';
const HELLO_SHA256_B64 = 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=';
const MAX_UPLOAD_BYTES = 1024 * 1024;
const ROLES = ['root', 'targets', 'snapshot', 'timestamp', 'targets/qa', 'targets/two'];

interface Expected {
  status: number;
  code?: string;
  /** Exact `detail` (deep-equal); `'absent'` when the error has none. */
  detail?: unknown;
  location?: string;
}

/** An expiry in whole seconds: Go re-serialises times without trailing zeros (spec §4.1), and the
 * server hashes that re-serialisation, so `.120Z` would not round-trip. */
function inAYear(): string {
  return new Date(Date.now() + 365 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
}

function targetsBody(version: number, targets: Json = {}, delegations: Json = { keys: {}, roles: [] }): Json {
  return { _type: 'Targets', delegations, expires: inAYear(), targets, version };
}

function badTargets(msg: string): Expected {
  return { status: 400, code: 'INVALID_UPDATE', detail: { Name: 'ErrBadTargets', Error: { Msg: msg } } };
}

function badRoot(msg: string): Expected {
  return { status: 400, code: 'INVALID_UPDATE', detail: { Name: 'ErrBadRoot', Error: { Msg: msg } } };
}

const MALFORMED_JSON: Expected = { status: 400, code: 'MALFORMED_JSON', detail: 'absent' };
const MALFORMED_UPLOAD: Expected = { status: 400, code: 'MALFORMED_UPLOAD', detail: 'absent' };
const VERSION: Expected = { status: 400, code: 'VERSION', detail: {} };

for (const target of selectedTargets()) {
  describe(`bad input against ${target}`, { timeout: 300_000 }, () => {
    // notary-server ignores `max_upload_bytes` (it has no limit); vouch enforces it
    const env = useTarget(target, 'bad-input', { extraConfig: { server: { max_upload_bytes: MAX_UPLOAD_BYTES } } });
    let owner: NotaryCli;
    let targetsKey: SigningKey;
    let rootKey: SigningKey;
    let rootSigned: Json;
    let currentTargets: Json;
    let carol: { keyid: string; key: KeyObject };
    let two: { keyid: string; key: KeyObject }[];
    let listBefore: string;

    /** Bytes (as sha256) and status of every role, plus the change feed length. */
    async function serverState(): Promise<Record<string, string>> {
      const state: Record<string, string> = {};
      for (const role of ROLES) {
        const r = await getMeta(env.server, GUN, role);
        state[role] = `${r.status} ${sha256Hex(r.body)}`;
      }
      const feed = await httpRequest(env.server, { path: `/v2/${GUN}/_trust/changefeed?change_id=0&records=1000` });
      state['changefeed'] = `${feed.status} ${(feed.json() as { count: number }).count}`;
      return state;
    }

    async function expectRejected(send: () => Promise<HttpResponse>, expected: Expected): Promise<void> {
      const before = await serverState();
      const r = await send();
      const what = `${r.status} ${r.text()}`;
      assert.equal(r.status, expected.status, what);
      if (expected.code !== undefined) {
        const e = errorCode(r);
        assert.equal(e?.code, expected.code, what);
        assert.equal(r.headers['content-type'], 'application/json; charset=utf-8', what);
        if (expected.detail === 'absent') assert.equal(e?.detail, undefined, what);
        else if (expected.detail !== undefined) assert.deepEqual(e?.detail, expected.detail, what);
      }
      if (expected.location !== undefined) assert.equal(r.headers['location'], expected.location, what);
      assert.deepEqual(await serverState(), before, 'a rejected upload must not change what the server serves');
      const list = await owner.ok('list', GUN);
      assert.equal(list.stdout, listBefore);
    }

    function upload(filename: string, data: string): () => Promise<HttpResponse> {
      return () => postUpload(env.server, GUN, [{ filename, data }]);
    }

    /** The current targets with one more target and version+1, validly signed. */
    function nextTargets(): Json {
      const next = structuredClone(currentTargets);
      next.version += 1;
      next.targets['new'] = { hashes: { sha256: HELLO_SHA256_B64 }, length: 11 };
      return next;
    }

    before(async () => {
      owner = await env.notary('owner');
      const hello = await env.file('hello.txt', 'hello world');
      const qa = await makeDelegationKey(env.dir, 'qa');
      await owner.ok('init', '-p', GUN);
      await owner.ok('add', '-p', GUN, 'v1', hello);
      await owner.ok('key', 'rotate', GUN, 'snapshot', '-r');
      await owner.ok('delegation', 'add', '-p', GUN, 'targets/qa', qa.pubFile, '--paths', 'qa/');
      const keys = await readTrustDirKeys(owner.trustDir, PASSPHRASE);
      rootSigned = parseEnvelope((await getMeta(env.server, GUN, 'root')).body).signed;
      targetsKey = signingKeyFor(rootSigned, 'targets', keys);
      rootKey = signingKeyFor(rootSigned, 'root', keys);
      const carolKey = createPrivateKey(await readFile(qa.keyFile));
      carol = { keyid: keyIdOf(ecdsaPublicJson(carolKey)), key: carolKey };

      // a delegation with threshold 2, published with a forged (valid) targets upload
      two = [0, 1].map(() => {
        const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
        return { keyid: keyIdOf(ecdsaPublicJson(key)), key };
      });
      const t = parseEnvelope((await getMeta(env.server, GUN, 'targets')).body).signed;
      t.version += 1;
      for (const k of two) t.delegations.keys[k.keyid] = ecdsaPublicJson(k.key);
      t.delegations.roles.push({ keyids: two.map((k) => k.keyid), name: 'targets/two', paths: [''], threshold: 2 });
      const r = await postUpload(env.server, GUN, [{ filename: 'targets', data: signEnvelope(t, [targetsKey]) }]);
      assert.equal(r.status, 200, r.text());
      const r2 = await postUpload(env.server, GUN, [{ filename: 'targets/two', data: signEnvelope(targetsBody(1), two) }]);
      assert.equal(r2.status, 200, r2.text());
      currentTargets = parseEnvelope((await getMeta(env.server, GUN, 'targets')).body).signed;
      listBefore = (await owner.ok('list', GUN)).stdout;
    });

    it('a non-multipart body', async () => {
      const body = signEnvelope(nextTargets(), [targetsKey]);
      await expectRejected(
        () => httpRequest(env.server, { method: 'POST', path: `/v2/${GUN}/_trust/tuf/`, headers: { 'Content-Type': 'application/json' }, body }),
        MALFORMED_UPLOAD,
      );
      await expectRejected(() => httpRequest(env.server, { method: 'POST', path: `/v2/${GUN}/_trust/tuf/`, body }), MALFORMED_UPLOAD);
    });

    it('a truncated upload', async () => {
      const { body, contentType } = multipartBody([{ filename: 'targets', data: signEnvelope(nextTargets(), [targetsKey]) }]);
      await expectRejected(
        () =>
          httpRequest(env.server, {
            method: 'POST',
            path: `/v2/${GUN}/_trust/tuf/`,
            headers: { 'Content-Type': contentType },
            body: body.subarray(0, body.length - 200),
          }),
        MALFORMED_JSON,
      );
    });

    it('malformed JSON', async () => {
      await expectRejected(upload('targets', '{"signed":{"_type":'), MALFORMED_JSON);
      await expectRejected(upload('targets', '[1,2]'), MALFORMED_JSON);
      await expectRejected(upload('targets', 'not json at all'), MALFORMED_JSON);
    });

    it('a part without a filename', async () => {
      await expectRejected(upload('', signEnvelope(nextTargets(), [targetsKey])), { status: 400, code: 'NO_FILENAME', detail: 'absent' });
    });

    it('unknown and invalid roles', async () => {
      const body = signEnvelope(nextTargets(), [targetsKey]);
      for (const role of ['foo', 'targets/UP', 'targets/../x', 'targets/']) {
        await expectRejected(upload(role, body), { status: 400, code: 'INVALID_ROLE', detail: role });
      }
    });

    it('a bad signature', async () => {
      const env1 = parseEnvelope(signEnvelope(nextTargets(), [targetsKey]));
      const sig = Buffer.from(env1.signatures[0]?.sig ?? '', 'base64');
      sig[10] = (sig[10] ?? 0) ^ 0xff;
      env1.signatures[0]!.sig = sig.toString('base64');
      await expectRejected(upload('targets', JSON.stringify(env1)), badTargets('valid signatures did not meet threshold for targets'));
    });

    it('missing signatures', async () => {
      const env1 = parseEnvelope(signEnvelope(nextTargets(), [targetsKey]));
      env1.signatures = [];
      await expectRejected(upload('targets', JSON.stringify(env1)), badTargets('tuf: data has no signatures'));
    });

    it('a signature by a key that is not the role’s', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      await expectRejected(
        upload('targets', signEnvelope(nextTargets(), [{ keyid: targetsKey.keyid, key: other }])),
        badTargets('valid signatures did not meet threshold for targets'),
      );
    });

    it('signatures below the threshold', async () => {
      const first = two[0];
      assert.ok(first !== undefined);
      await expectRejected(
        upload('targets/two', signEnvelope(targetsBody(2, { x: { hashes: { sha256: HELLO_SHA256_B64 }, length: 11 } }), [first])),
        badTargets('valid signatures did not meet threshold for targets/two'),
      );
    });

    it('stale versions', async () => {
      await expectRejected(upload('targets', signEnvelope({ ...currentTargets, expires: inAYear() }, [targetsKey])), VERSION);
      await expectRejected(upload('targets', signEnvelope({ ...currentTargets, version: 1 }, [targetsKey])), VERSION);
      await expectRejected(upload('targets/two', signEnvelope(targetsBody(1), two)), VERSION);
    });

    it('a root rotation without the old root’s signature', async () => {
      const cert = await makeRootCert(env.dir, 'newroot', GUN);
      const newKey = createPrivateKey(await readFile(cert.keyFile));
      const pub = x509PublicJson(await readFile(cert.certFile, 'utf8'));
      const newId = keyIdOf(pub);
      const root = structuredClone(rootSigned);
      root.version += 1;
      root.keys[newId] = pub;
      root.roles.root.keyids = [newId];
      await expectRejected(
        upload('root', signEnvelope(root, [{ keyid: newId, key: newKey }])),
        badRoot('could not rotate trust to a new trusted root: failed to validate data with current trusted certificates'),
      );
      // signed by both it would be accepted; skipping versions is not
      const skip = { ...root, version: rootSigned.version + 3 };
      await expectRejected(
        upload('root', signEnvelope(skip, [{ keyid: newId, key: newKey }, rootKey])),
        badRoot(`Root modifications must increment the version. Current ${rootSigned.version}, new ${rootSigned.version + 3}`),
      );
    });

    it('a delegation that is not a child of the role listing it', async () => {
      const next = nextTargets();
      next.delegations.keys[carol.keyid] = ecdsaPublicJson(carol.key);
      next.delegations.roles.push({ keyids: [carol.keyid], name: 'targets/qa/deep/x', paths: [''], threshold: 1 });
      await expectRejected(
        upload('targets', signEnvelope(next, [targetsKey])),
        badTargets('targets type metadata invalid: delegation role targets/qa/deep/x invalid'),
      );
    });

    it('a GUN with .. or *', async () => {
      const body = signEnvelope(nextTargets(), [targetsKey]);
      await expectRejected(() => postUpload(env.server, 'example.com/x/../e2e/bad', [{ filename: 'targets', data: body }]), {
        status: 301,
        location: '/v2/example.com/e2e/bad/_trust/tuf/',
      });
      await expectRejected(() => postUpload(env.server, 'example.com/e2e/b*d', [{ filename: 'targets', data: body }]), {
        status: 404,
        code: 'METADATA_NOT_FOUND',
        detail: 'absent',
      });
      await expectRejected(() => postUpload(env.server, '*', [{ filename: 'targets', data: body }]), {
        status: 404,
        code: 'METADATA_NOT_FOUND',
        detail: 'absent',
      });
      const r = await getMeta(env.server, 'example.com/e2e/b*d', 'root');
      assert.equal(r.status, 404);
      assert.equal(errorCode(r)?.code, 'METADATA_NOT_FOUND');
    });

    it('a body over the configured limit', async () => {
      // notary-server has no limit: it reads the whole part and fails to parse it. vouch stops
      // reading at server.max_upload_bytes; the answer must be the same (the truncated JSON is
      // malformed) and nothing may be stored
      const big = '{"signed":{"_type":"Targets","pad":"' + 'x'.repeat(2 * MAX_UPLOAD_BYTES);
      await expectRejected(upload('targets', big), MALFORMED_JSON);
    });

    it('delegation paths outside the parent’s are stored and ignored by readers, as notary-server does', async () => {
      // notary-server does not check a delegated role's paths against its parent's, nor target
      // names against the role's paths (spec §6.2, §13.9); clients filter when reading
      const child = targetsBody(1, { 'notqa/x': { hashes: { sha256: HELLO_SHA256_B64 }, length: 11 } }, {
        keys: { [carol.keyid]: ecdsaPublicJson(carol.key) },
        roles: [{ keyids: [carol.keyid], name: 'targets/qa/sub', paths: ['other/'], threshold: 1 }],
      });
      const r = await postUpload(env.server, GUN, [{ filename: 'targets/qa', data: signEnvelope(child, [carol]) }]);
      assert.equal(r.status, 200, r.text());
      assert.equal((await getMeta(env.server, GUN, 'targets/qa')).status, 200);
      const list = await owner.ok('list', GUN);
      assert.equal(list.stdout, listBefore, 'targets outside the delegation’s paths are not listed');
    });
  });
}
