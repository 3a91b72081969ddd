/**
 * `vouch trust` and the docker CLI 28 on the same repositories, per trust server (the real
 * notary-server and vouch server):
 *
 * - keys made by `vouch trust key generate` sign with `docker trust sign`, keys made by docker
 *   sign with `vouch trust sign`, and each tool's inspect shows the other's signatures — on the
 *   same repository both print byte-identical inspect output;
 * - `vouch trust revoke` and `signer remove` are seen by docker, docker's revoke by vouch;
 *   `signer remove` of a signer that is not the last one works in vouch, where docker 28.2.2
 *   removes nothing (spec §13.18);
 * - signing a tag the trust data does not have yet reads the manifest from a registry (an
 *   in-test one behind docker token auth, credentials from config.json): a new repository gets
 *   a signer named after the registry user, and `--recursive` signs an image index and its
 *   platform manifests in one publish.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DockerTrust } from '../support/docker-cli.ts';
import { useTarget } from '../support/e2e.ts';
import { describeResult } from '../support/exec.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { selectedTargets } from '../support/servers.ts';
import { dockerRun, ociIndex, ociManifest, sha256, startRegistry, VouchTrust, writeDockerLogin, type TestRegistry } from './support.ts';

const MANIFEST = '{"manifest":"interop"}';
const HEX = sha256(MANIFEST).slice('sha256:'.length);

interface Inspect {
  Name: string;
  SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[];
  Signers: { Name: string; Keys?: { ID: string }[] }[];
}

for (const target of selectedTargets()) {
  describe(`vouch trust with docker trust on shared repositories against ${target}`, { timeout: 600_000 }, () => {
    const env = useTarget(target, 'trust-interop');
    const REPO1 = 'registry.e2e.test/interop/docker-signs';
    const REPO2 = 'registry.e2e.test/interop/vouch-signs';
    let shared: DockerTrust; // docker and vouch on one DOCKER_CONFIG
    let other: DockerTrust; // a second user
    let reader: DockerTrust; // a fresh docker client that only reads

    async function docker(d: DockerTrust, ...args: string[]): Promise<string> {
      const r = await dockerRun(d, args);
      assert.equal(r.code, 0, describeResult(['docker', 'trust', ...args], r));
      return r.stdout;
    }

    async function inspect(d: DockerTrust, repo: string): Promise<Inspect> {
      const all = JSON.parse(await docker(d, 'inspect', repo)) as Inspect[];
      assert.equal(all.length, 1);
      return all[0] as Inspect;
    }

    function tagsOf(i: Inspect): Record<string, string[]> {
      return Object.fromEntries(i.SignedTags.map((t) => [t.SignedTag, [...t.Signers].sort()]));
    }

    async function ownerAdds(d: DockerTrust, repo: string, tag: string): Promise<void> {
      const notary = new NotaryCli({ url: env.server.url, caFile: env.server.caFile, home: d.home, trustDir: d.trustDir });
      await notary.ok('add', '-p', repo, tag, await env.file(`m-${tag}.json`, MANIFEST));
    }

    it('docker signs with a key vouch generated', async () => {
      shared = await env.docker('shared');
      other = await env.docker('other');
      reader = await env.docker('reader');
      const vouch = new VouchTrust(shared);
      await vouch.ok('key', 'generate', 'alice', '--dir', shared.home);
      await docker(shared, 'signer', 'add', '--key', join(shared.home, 'alice.pub'), 'alice', REPO1);
      await ownerAdds(shared, REPO1, 'v1');
      const out = await docker(shared, 'sign', `${REPO1}:v1`);
      assert.match(out, /Successfully signed registry\.e2e\.test\/interop\/docker-signs:v1\n$/);
      assert.deepEqual(tagsOf(await inspect(reader, REPO1)), { v1: ['alice'] });
    });

    it('vouch signs with a key docker generated; docker sees the signature', async () => {
      await docker(other, 'key', 'generate', 'bob', '--dir', other.home);
      const vouch = new VouchTrust(other);
      const added = await vouch.ok('signer', 'add', '--key', join(other.home, 'bob.pub'), 'bob', REPO2);
      assert.equal(added.stdout, `Adding signer "bob" to ${REPO2}...\nInitializing signed repository for ${REPO2}...\nSuccessfully initialized "${REPO2}"\nSuccessfully added signer: bob to ${REPO2}\n\n`);
      await ownerAdds(other, REPO2, 'v1');
      await ownerAdds(other, REPO2, 'v2');
      const signed = await vouch.ok('sign', `${REPO2}:v1`);
      assert.equal(signed.stdout, `Signing and pushing trust metadata for ${REPO2}:v1\nExisting signatures for tag v1 digest ${HEX} from:\n\nSuccessfully signed ${REPO2}:v1\n`);
      const seen = await inspect(reader, REPO2);
      assert.deepEqual(tagsOf(seen), { v1: ['bob'], v2: ['Repo Admin'] });
      assert.equal(seen.SignedTags[0]?.Digest, HEX);
    });

    it('on the same repository vouch and docker print the same inspect output', async () => {
      const vouch = new VouchTrust(reader);
      for (const repo of [REPO1, REPO2, `${REPO2}:v1`]) {
        for (const flags of [[], ['--pretty']]) {
          const d = await dockerRun(reader, ['inspect', ...flags, repo]);
          const v = await vouch.run(['inspect', ...flags, repo]);
          assert.equal(d.code, 0);
          assert.deepEqual({ code: v.code, stdout: v.stdout, stderr: v.stderr }, { code: d.code, stdout: d.stdout, stderr: d.stderr });
        }
      }
      const json = await vouch.ok('inspect', '--pretty', '--output', 'json', REPO2);
      const rows = JSON.parse(json.stdout) as { name: string; signatures: { signedTag: string; digest: string; signers: string[] }[]; signers: { signer: string }[] }[];
      assert.deepEqual(rows[0]?.signatures, [
        { signedTag: 'v1', digest: HEX, signers: ['bob'] },
        { signedTag: 'v2', digest: HEX, signers: ['Repo Admin'] },
      ]);
      assert.deepEqual(rows[0]?.signers.map((s) => s.signer), ['bob']);
    });

    it('revoke by vouch is seen by docker, revoke by docker by vouch', async () => {
      const vouch = new VouchTrust(other);
      assert.equal((await vouch.ok('revoke', '-y', `${REPO2}:v1`)).stdout, `Successfully deleted signature for ${REPO2}:v1\n`);
      assert.deepEqual(tagsOf(await inspect(reader, REPO2)), { v1: ['Repo Admin'], v2: ['Repo Admin'] });
      await docker(shared, 'revoke', '-y', `${REPO1}:v1`);
      const seen = JSON.parse((await new VouchTrust(reader).ok('inspect', REPO1)).stdout) as Inspect[];
      assert.deepEqual(tagsOf(seen[0] as Inspect), { v1: ['Repo Admin'] });
    });

    it('signer remove: vouch removes a signer docker 28.2.2 would keep', async () => {
      // two signers sign v1 again, so alice is not the last signer of targets/releases
      await docker(shared, 'key', 'generate', 'carol', '--dir', shared.home);
      await docker(shared, 'signer', 'add', '--key', join(shared.home, 'carol.pub'), 'carol', REPO1);
      await docker(shared, 'sign', `${REPO1}:v1`);
      assert.deepEqual(tagsOf(await inspect(reader, REPO1)), { v1: ['alice', 'carol'] });
      const d = await dockerRun(shared, ['signer', 'remove', 'alice', REPO1]);
      assert.deepEqual([d.code, d.stdout], [0, `Removing signer "alice" from ${REPO1}...\n`]);
      assert.deepEqual((await inspect(reader, REPO1)).Signers.map((s) => s.Name), ['carol', 'alice'], 'docker 28.2.2 removed nothing');
      const v = await new VouchTrust(shared).ok('signer', 'remove', 'alice', REPO1);
      assert.equal(v.stdout, `Removing signer "alice" from ${REPO1}...\nSuccessfully removed alice from ${REPO1}\n\n`);
      const after = await inspect(reader, REPO1);
      assert.deepEqual(after.Signers.map((s) => s.Name), ['carol']);
      assert.deepEqual(tagsOf(after), { v1: ['carol'] });
    });

    it('signer remove of the last signer asks first; -f does not', async () => {
      const vouch = new VouchTrust(other);
      await vouch.ok('sign', `${REPO2}:v2`);
      const question = `The signer "bob" signed the last released version of ${REPO2}. Removing this signer will make ${REPO2} unpullable. Are you sure you want to continue? [y/N] `;
      const no = await vouch.run(['signer', 'remove', 'bob', REPO2], { input: 'n\n' });
      assert.deepEqual([no.code, no.stdout, no.stderr], [0, `Removing signer "bob" from ${REPO2}...\n${question}`, '']);
      assert.deepEqual((await inspect(reader, REPO2)).Signers.map((s) => s.Name), ['bob']);
      const forced = await vouch.ok('signer', 'remove', '-f', 'bob', REPO2);
      assert.equal(forced.stdout, `Removing signer "bob" from ${REPO2}...\nSuccessfully removed bob from ${REPO2}\n\n`);
      const seen = await inspect(reader, REPO2);
      assert.deepEqual(seen.Signers, []);
      const missing = await vouch.run(['signer', 'remove', 'bob', REPO2]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, `no signer bob for repository ${REPO2}\n\nerror removing signer from: ${REPO2}\n`);
    });

    describe('signing tags the trust data does not have yet, from a registry', () => {
      let reg: TestRegistry;
      let ci: DockerTrust;
      let gun: string;
      const single = ociManifest('single');
      const amd64 = ociManifest('amd64');
      const arm64 = ociManifest('arm64');
      const attestation = ociManifest('attestation');
      const index = ociIndex([
        { m: amd64, platform: { os: 'linux', architecture: 'amd64' } },
        { m: arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { m: attestation, platform: { os: 'unknown', architecture: 'unknown' } },
      ]);
      const hex = (m: { bytes: Buffer }): string => sha256(m.bytes).slice('sha256:'.length);

      before(async () => {
        reg = await startRegistry({ users: { ci: 'ci-password' }, refreshTokens: ['ci-identity-token'] });
        gun = `${reg.host}/team/app`;
        reg.put('team/app', 'v1', single);
        reg.put('team/app', 'multi', index);
        for (const m of [amd64, arm64, attestation]) reg.put('team/app', sha256(m.bytes), m);
      });
      after(async () => {
        await reg?.close();
      });

      it('a new repository: the registry user becomes its signer', async () => {
        ci = await env.docker('ci');
        await writeDockerLogin(ci.configDir, reg.host, 'ci', 'ci-password');
        const r = await new VouchTrust(ci).ok('sign', `${gun}:v1`);
        assert.equal(
          r.stdout,
          `Created signer: ci\nFinished initializing signed repository for ${gun}:v1\nSigning and pushing trust metadata\nSuccessfully signed ${gun}:v1\n`,
        );
        assert.equal(r.stderr, `Signing and pushing trust data for ${gun}:v1 (manifest sha256:${hex(single)} in the registry), may overwrite remote trust data\n`);
        assert.ok(reg.log.includes('GET /token auth'), reg.log.join('\n'));
        const seen = await inspect(ci, gun);
        assert.deepEqual(seen.SignedTags, [{ SignedTag: 'v1', Digest: hex(single), Signers: ['ci'] }]);
        assert.deepEqual(seen.Signers.map((s) => s.Name), ['ci']);
      });

      it('--recursive signs an index and its platform manifests in one publish', async () => {
        const r = await new VouchTrust(ci).ok('sign', '--recursive', `${gun}:multi`);
        assert.match(r.stdout, /Successfully signed .*:multi\n$/);
        const seen = await inspect(ci, gun);
        assert.deepEqual(
          seen.SignedTags.map((t) => [t.SignedTag, t.Digest, t.Signers]),
          [
            ['multi', hex(index), ['ci']],
            ['multi-linux-amd64', hex(amd64), ['ci']],
            ['multi-linux-arm64-v8', hex(arm64), ['ci']],
            ['v1', hex(single), ['ci']],
          ],
        );
      });

      it('a login saved as an identity token reads the registry through the refresh_token grant', async () => {
        await writeDockerLogin(ci.configDir, reg.host, 'ci', '', 'ci-identity-token');
        const v3 = ociManifest('v3');
        reg.put('team/app', 'v3', v3);
        const r = await new VouchTrust(ci).ok('sign', `${gun}:v3`);
        assert.equal(r.stdout, `Signing and pushing trust metadata\nSuccessfully signed ${gun}:v3\n`);
        assert.ok(reg.log.includes('POST /token'), reg.log.join('\n'));
        const seen = await inspect(ci, gun);
        assert.deepEqual(seen.SignedTags.find((t) => t.SignedTag === 'v3'), { SignedTag: 'v3', Digest: hex(v3), Signers: ['ci'] });
      });

      it('a tag the registry does not have is refused and nothing is signed', async () => {
        const before = await docker(ci, 'inspect', gun);
        const r = await new VouchTrust(ci).run(['sign', `${gun}:nope`]);
        assert.equal(r.code, 1);
        assert.equal(r.stderr, `manifest for ${gun}:nope not found: manifest unknown\n`);
        assert.equal(await docker(ci, 'inspect', gun), before);
      });

      it('without a registry login a new repository is signed in targets', async () => {
        const anon = await startRegistry();
        try {
          const name = `${anon.host}/team/open`;
          anon.put('team/open', 'v1', single);
          const d = await env.docker('anon');
          const r = await new VouchTrust(d).ok('sign', `${name}:v1`);
          assert.equal(r.stdout, `Finished initializing "${name}"\nSigning and pushing trust metadata\nSuccessfully signed ${name}:v1\n`);
          const seen = await inspect(reader, name);
          assert.deepEqual(seen.SignedTags, [{ SignedTag: 'v1', Digest: hex(single), Signers: ['Repo Admin'] }]);
          assert.deepEqual(seen.Signers, []);
        } finally {
          await anon.close();
        }
      });
    });
  });
}
