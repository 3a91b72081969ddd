/**
 * `vouch trust` against the docker CLI 28 on the same scenario, per trust server (the real
 * notary-server and vouch server): docker works on one repository with its own DOCKER_CONFIG,
 * vouch on another with its own; every step's standard output, standard error and exit code must
 * be the same once per-run values (key IDs, the repository name, the home dir) are normalised.
 * The tag that `trust sign` signs again is first signed into `targets` with the notary CLI on each
 * tool's trust dir (no engine here), as in test/e2e/docker-trust.test.ts.
 */
import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type { DockerTrust } from '../support/docker-cli.ts';
import { useTarget } from '../support/e2e.ts';
import type { RunResult } from '../support/exec.ts';
import { NotaryCli } from '../support/notary-cli.ts';
import { makeDelegationKey } from '../support/pki.ts';
import { selectedTargets } from '../support/servers.ts';
import { dockerRun, normalize, sameProgram, sha256, VouchTrust } from './support.ts';

const REPO = { docker: 'registry.e2e.test/cmp/docker-made', vouch: 'registry.e2e.test/cmp/vouch-made' } as const;
const MANIFEST = '{"manifest":"compare"}';
const DIGEST_HEX = sha256(MANIFEST).slice('sha256:'.length);

type Side = 'docker' | 'vouch';

for (const target of selectedTargets()) {
  describe(`vouch trust and docker trust give the same output against ${target}`, { timeout: 600_000 }, () => {
    const env = useTarget(target, 'trust-compare');
    const tools: Partial<Record<Side, DockerTrust>> = {};

    const tool = (side: Side): DockerTrust => {
      const t = tools[side];
      assert.ok(t !== undefined, 'tools not ready');
      return t;
    };

    async function runOn(side: Side, args: readonly string[], input?: string): Promise<RunResult> {
      const d = tool(side);
      const concrete = args.map((a) => a.replaceAll('{R}', REPO[side]).replaceAll('{H}', d.home));
      return side === 'docker' ? dockerRun(d, concrete, input) : new VouchTrust(d).run(concrete, input === undefined ? {} : { input });
    }

    function norm(side: Side, text: string): string {
      return sameProgram(normalize(text, { [REPO[side]]: '<repo>', [tool(side).home]: '<home>' }));
    }

    /** Run on both sides and assert the same outcome; returns docker's (normalised) result. */
    async function same(args: readonly string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const d = await runOn('docker', args, input);
      const v = await runOn('vouch', args, input);
      const dn = { code: d.code, stdout: norm('docker', d.stdout), stderr: norm('docker', d.stderr) };
      const vn = { code: v.code, stdout: norm('vouch', v.stdout), stderr: norm('vouch', v.stderr) };
      assert.deepEqual(vn, dn, `vouch trust ${args.join(' ')} differs from docker\n--- docker ---\n${d.stdout}${d.stderr}\n--- vouch ---\n${v.stdout}${v.stderr}`);
      return dn;
    }

    it('inspect of a repository the server does not know', async () => {
      tools.docker = await env.docker('docker-side');
      tools.vouch = await env.docker('vouch-side');
      const r = await same(['inspect', '{R}']);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '[]\n');
      assert.equal(r.stderr, 'no signatures or cannot access <repo>\n');
    });

    it('key generate', async () => {
      let r = await same(['key', 'generate', 'alice', '--dir', '{H}']);
      assert.equal(r.stdout, 'Generating key for alice...\nSuccessfully generated and loaded private key. Corresponding public key available: <home>/alice.pub\n');
      await same(['key', 'generate', 'bob', '--dir', '{H}']);
      r = await same(['key', 'generate', 'alice', '--dir', '{H}']);
      assert.equal(r.stderr, 'public key file already exists: "<home>/alice.pub"\n');
      await same(['key', 'generate', 'Alice', '--dir', '{H}']);
      await same(['key', 'generate', 'carol', '--dir', '{H}/nope']);
      await same(['key', 'generate']);
    });

    it('key load', async () => {
      for (const side of ['docker', 'vouch'] as const) {
        const k = await makeDelegationKey(tool(side).home, 'dave');
        await chmod(k.keyFile, 0o600);
        await makeDelegationKey(tool(side).home, 'open');
      }
      const r = await same(['key', 'load', '--name', 'dave', '{H}/dave.key']);
      assert.equal(r.stdout, 'Loading key from "<home>/dave.key"...\nSuccessfully imported key from <home>/dave.key\n');
      await same(['key', 'load', '{H}/open.key']);
      await same(['key', 'load', '{H}/missing.key']);
      await same(['key', 'load', '--name', 'Bad', '{H}/dave.key']);
    });

    it('signer add initialises the repository, then adds more signers', async () => {
      let r = await same(['signer', 'add', '--key', '{H}/alice.pub', 'alice', '{R}']);
      assert.equal(r.code, 0);
      assert.equal(
        r.stdout,
        'Adding signer "alice" to <repo>...\nInitializing signed repository for <repo>...\nSuccessfully initialized "<repo>"\nSuccessfully added signer: alice to <repo>\n\n',
      );
      r = await same(['signer', 'add', '--key', '{H}/bob.pub', 'bob', '{R}']);
      assert.equal(r.stdout, 'Adding signer "bob" to <repo>...\nSuccessfully added signer: bob to <repo>\n\n');
      await same(['signer', 'add', '--key', '{H}/bob.pub', 'releases', '{R}']);
      await same(['signer', 'add', 'carol', '{R}']);
      await same(['signer', 'add', '--key', '{H}/none.pub', 'carol', '{R}']);
      await same(['signer', 'add', '--key', '{H}/bob.pub', 'bob']);
    });

    it('inspect and inspect --pretty with signers and no tags', async () => {
      let r = await same(['inspect', '{R}']);
      assert.equal(r.code, 0);
      const got = JSON.parse(r.stdout) as { Signers: { Name: string }[]; SignedTags: unknown[] }[];
      assert.deepEqual(got[0]?.SignedTags, []);
      assert.deepEqual(got[0]?.Signers.map((s) => s.Name), ['bob', 'alice']);
      r = await same(['inspect', '--pretty', '{R}']);
      assert.match(r.stdout, /^\nNo signatures for <repo>\n\n\nList of signers and their keys for <repo>\n\nSIGNER    KEYS\nalice     <short1>\nbob       <short2>\n/);
    });

    it('sign of a tag already signed by the repository owner', async () => {
      for (const side of ['docker', 'vouch'] as const) {
        const d = tool(side);
        const notary = new NotaryCli({ url: env.server.url, caFile: env.server.caFile, home: d.home, trustDir: d.trustDir });
        const file = await env.file(`manifest-${side}.json`, MANIFEST);
        await notary.ok('add', '-p', REPO[side], 'admin1', file);
        await notary.ok('add', '-p', REPO[side], 'v1', file);
        await notary.ok('add', '-p', REPO[side], 'v10', file);
        await notary.ok('add', '-p', REPO[side], 'v9', file);
      }
      const r = await same(['sign', '{R}:v1']);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `Signing and pushing trust metadata for <repo>:v1\nExisting signatures for tag v1 digest <id${r.stdout.match(/<id(\d+)>/)?.[1]}> from:\n\nSuccessfully signed <repo>:v1\n`);
      await same(['sign', '{R}']);
      await same(['sign', `{R}@sha256:${DIGEST_HEX}`]);
    });

    it('inspect after signing: all tags, one tag, several repositories, pretty', async () => {
      let r = await same(['inspect', '{R}']);
      const got = JSON.parse(r.stdout) as { SignedTags: { SignedTag: string; Signers: string[] }[] }[];
      assert.deepEqual(got[0]?.SignedTags.map((t) => t.SignedTag), ['admin1', 'v1', 'v9', 'v10']);
      assert.deepEqual(got[0]?.SignedTags[1]?.Signers.sort(), ['alice', 'bob']);
      await same(['inspect', '{R}:v1']);
      await same(['inspect', '{R}:nope']);
      r = await same(['inspect', '{R}', 'registry.e2e.test/cmp/unknown', '{R}:v9']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'no signatures or cannot access registry.e2e.test/cmp/unknown\n');
      r = await same(['inspect', '--pretty', '{R}']);
      assert.match(r.stdout, new RegExp(`^v1 {11}<id\\d+> {3}alice, bob$`, 'm'));
      await same(['inspect', '--pretty', '{R}:v9', '{R}']);
      await same(['inspect', '--pretty', '{R}', 'registry.e2e.test/cmp/unknown']);
    });

    it('revoke', async () => {
      let r = await same(['revoke', '-y', '{R}:v1']);
      assert.equal(r.stdout, 'Successfully deleted signature for <repo>:v1\n');
      r = await same(['revoke', '-y', '{R}:nope']);
      assert.equal(r.stderr, 'could not remove signature for <repo>:nope: No valid trust data for nope\n');
      r = await same(['revoke', '{R}'], 'n\n');
      assert.equal(r.stdout, 'Confirm you would like to delete all signature data for <repo>? [y/N] ');
      assert.equal(r.code, 0);
      await same(['revoke', `{R}@sha256:${DIGEST_HEX}`]);
      await same(['inspect', '--pretty', '{R}']);
    });

    it('usage errors', async () => {
      await same(['sign']);
      await same(['inspect']);
      await same(['revoke', '--bogus', '{R}']);
      await same(['signer', 'remove', 'alice']);
      await same(['signer', 'remove', 'releases', '{R}']);
      await same(['signer', 'remove', 'zed', '{R}']);
    });

    it('revoke of everything', async () => {
      const r = await same(['revoke', '-y', '{R}']);
      assert.equal(r.stdout, 'Successfully deleted signature for <repo>\n');
      await same(['inspect', '{R}']);
      await same(['revoke', '-y', '{R}']);
    });
  });
}

