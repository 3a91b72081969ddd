/**
 * The docker CLI's `docker trust` commands against each target server over https (issue
 * "Trust server: a drop-in notary-server", second requirement): key generate, signer add,
 * sign of an existing tag (no engine needed), inspect, inspect --pretty and revoke. Outputs are
 * asserted exactly; key IDs are computed from the keys and the served root.json.
 *
 * The image name uses a non-loopback registry host so docker verifies the trust server's
 * certificate against `$DOCKER_CONFIG/tls/<host:port>/ca.crt`.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DockerTrust } from '../support/docker-cli.ts';
import { useTarget } from '../support/e2e.ts';
import { getMeta } from '../support/http.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { selectedTargets } from '../support/servers.ts';
import { ecdsaPublicJson, keyIdOf, parseEnvelope, sha256Hex } from '../support/tuf-sign.ts';

const REPO = 'registry.e2e.test/app/img';
const MANIFEST = '{"manifest":1}';
const MANIFEST_SHA = sha256Hex(MANIFEST);

/** Canonical ID of a docker `.pub` file (PEM with a `role:` header). */
async function pubKeyId(file: string): Promise<string> {
  const pem = await readFile(file, 'utf8');
  const body = pem.replace(/^role: .*\n\n/m, '');
  return keyIdOf(ecdsaPublicJson(createPublicKey(body)));
}

interface InspectSigner {
  Name: string;
  Keys: { ID: string }[];
}
interface Inspect {
  Name: string;
  SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[];
  Signers: InspectSigner[];
  AdministrativeKeys: InspectSigner[];
}

for (const target of selectedTargets()) {
  describe(`docker trust against ${target}`, { timeout: 300_000 }, () => {
    const env = useTarget(target, 'docker-trust');
    let docker: DockerTrust;
    let keysDir: string;
    let aliceId: string;
    let bobId: string;
    let rootId: string;
    let repoKeyId: string;

    async function adminKeys(): Promise<void> {
      const root = parseEnvelope((await getMeta(env.server, REPO, 'root')).body).signed;
      rootId = root.roles.root.keyids[0];
      repoKeyId = root.roles.targets.keyids[0];
    }

    function pretty(tags: [string, string][], signers: [string, string][]): string {
      const head =
        tags.length === 0
          ? `\nNo signatures for ${REPO}\n\n`
          : `\nSignatures for ${REPO}\n\nSIGNED TAG   DIGEST                                                             SIGNERS\n` +
            tags.map(([t, s]) => `${t.padEnd(13)}${MANIFEST_SHA}   ${s}\n`).join('');
      const signerPart =
        signers.length === 0 ? '' : `\nList of signers and their keys for ${REPO}\n\nSIGNER    KEYS\n` + signers.map(([n, id]) => `${n.padEnd(10)}${id.slice(0, 12)}\n`).join('');
      return (
        head +
        signerPart +
        `\nAdministrative keys for ${REPO}\n\n  Repository Key:\t${repoKeyId}\n  Root Key:\t${rootId}\n`
      );
    }

    it('inspect of an unknown repository', async () => {
      docker = await env.docker('alice');
      keysDir = await env.home('keys');
      const r = await docker.run(['trust', 'inspect', REPO]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '[]\n');
      assert.equal(r.stderr, `no signatures or cannot access ${REPO}\n`);
    });

    it('key generate and signer add initialise the repository', async () => {
      let r = await docker.ok('trust', 'key', 'generate', 'alice', '--dir', keysDir);
      const alicePub = join(keysDir, 'alice.pub');
      assert.equal(r.stdout, `Generating key for alice...\nSuccessfully generated and loaded private key. Corresponding public key available: ${alicePub}\n`);
      aliceId = await pubKeyId(alicePub);
      r = await docker.ok('trust', 'signer', 'add', '--key', alicePub, 'alice', REPO);
      assert.equal(
        r.stdout,
        `Adding signer "alice" to ${REPO}...\nInitializing signed repository for ${REPO}...\nSuccessfully initialized "${REPO}"\nSuccessfully added signer: alice to ${REPO}\n\n`,
      );
      await docker.ok('trust', 'key', 'generate', 'bob', '--dir', keysDir);
      bobId = await pubKeyId(join(keysDir, 'bob.pub'));
      r = await docker.ok('trust', 'signer', 'add', '--key', join(keysDir, 'bob.pub'), 'bob', REPO);
      assert.equal(r.stdout, `Adding signer "bob" to ${REPO}...\nSuccessfully added signer: bob to ${REPO}\n\n`);
      await adminKeys();
    });

    it('inspect shows signers and administrative keys, no tags', async () => {
      const r = await docker.ok('trust', 'inspect', REPO);
      const expected: Inspect[] = [
        {
          Name: REPO,
          SignedTags: [],
          Signers: [
            { Name: 'bob', Keys: [{ ID: bobId }] },
            { Name: 'alice', Keys: [{ ID: aliceId }] },
          ],
          AdministrativeKeys: [
            { Name: 'Root', Keys: [{ ID: rootId }] },
            { Name: 'Repository', Keys: [{ ID: repoKeyId }] },
          ],
        },
      ];
      assert.equal(r.stdout, JSON.stringify(expected, null, 4) + '\n');
      const p = await docker.ok('trust', 'inspect', '--pretty', REPO);
      assert.equal(p.stdout, pretty([], [['alice', aliceId], ['bob', bobId]]));
    });

    it('signing existing tags shows up in inspect', async () => {
      // no engine: the owner signs tags into targets with the notary CLI on docker's trust dir,
      // then docker trust sign adds its delegations' signatures to an existing tag
      const notary = new NotaryCli({ url: env.server.url, caFile: env.server.caFile, home: docker.home, trustDir: docker.trustDir });
      const manifest = await env.file('manifest.json', MANIFEST);
      await notary.ok('add', '-p', REPO, 'admin', manifest);
      await notary.ok('add', '-p', REPO, 'v1', manifest);
      let r = await docker.ok('trust', 'sign', `${REPO}:v1`);
      assert.equal(
        r.stdout,
        `Signing and pushing trust metadata for ${REPO}:v1\nExisting signatures for tag v1 digest ${MANIFEST_SHA} from:\n\nSuccessfully signed ${REPO}:v1\n`,
      );
      r = await docker.ok('trust', 'inspect', REPO);
      const got = JSON.parse(r.stdout) as Inspect[];
      assert.equal(got.length, 1);
      const tags = got[0]?.SignedTags ?? [];
      assert.deepEqual(
        tags.map((t) => ({ ...t, Signers: [...t.Signers].sort() })),
        [
          { SignedTag: 'admin', Digest: MANIFEST_SHA, Signers: ['Repo Admin'] },
          { SignedTag: 'v1', Digest: MANIFEST_SHA, Signers: ['alice', 'bob'] },
        ],
      );
      r = await docker.ok('trust', 'inspect', `${REPO}:v1`);
      const one = JSON.parse(r.stdout) as Inspect[];
      assert.equal(one[0]?.Name, `${REPO}:v1`);
      assert.deepEqual(one[0]?.SignedTags.map((t) => t.SignedTag), ['v1']);
      const p = await docker.ok('trust', 'inspect', '--pretty', REPO);
      const line = /^v1 +[0-9a-f]{64} +(.*)$/m.exec(p.stdout);
      assert.ok(line !== null, p.stdout);
      assert.deepEqual(line[1]?.split(', ').sort(), ['alice', 'bob']);
      assert.match(p.stdout, new RegExp(`^admin {8}${MANIFEST_SHA} {3}\\(Repo Admin\\)$`, 'm'));
    });

    it('another docker client sees the same trust data', async () => {
      const other = await env.docker('reader');
      const a = await docker.ok('trust', 'inspect', REPO);
      const b = await other.ok('trust', 'inspect', REPO);
      assert.equal(b.stdout, a.stdout);
    });

    it('revoke removes the delegations’ signatures', async () => {
      let r = await docker.ok('trust', 'revoke', '-y', `${REPO}:v1`);
      assert.equal(r.stdout, `Successfully deleted signature for ${REPO}:v1\n`);
      r = await docker.ok('trust', 'inspect', '--pretty', REPO);
      assert.equal(
        r.stdout,
        pretty(
          [
            ['admin', '(Repo Admin)'],
            ['v1', '(Repo Admin)'],
          ],
          [['alice', aliceId], ['bob', bobId]],
        ),
      );
      r = await docker.run(['trust', 'revoke', '-y', `${REPO}:nope`]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `could not remove signature for ${REPO}:nope: No valid trust data for nope\n`);
    });
  });
}
