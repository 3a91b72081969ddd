/**
 * `vouch push`/`pull` with docker content trust, end to end, against the real pair
 * (notary-server + distribution's docker-registry), vouch server + docker-registry, and
 * `vouch serve` (registry, trust server and token service on one port, after `vouch login`):
 *
 * - `DOCKER_CONTENT_TRUST=1 vouch push` signs the tag (initialising the repository), and
 *   `docker trust inspect` shows the signature with the pushed manifest's digest;
 * - `DOCKER_CONTENT_TRUST=1 vouch pull` resolves the tag through the trust data and the files
 *   of the image it writes (OCI layout and docker archive) are the files pushed;
 * - with a delegation key held (docker trust signer add), the push — from a `docker save`
 *   archive this time — signs into the delegations (`targets/releases` and the signer's role)
 *   and inspect names the signer;
 * - an unsigned tag is refused with docker's `No valid trust data for TAG`; a repository without
 *   trust data with docker's `Error: remote trust data does not exist for …`; a pull by digest
 *   is allowed; `--disable-content-trust` pulls anything;
 * - a tag re-pointed in the registry behind the signer's back is refused, while the signed
 *   digest still pulls;
 * - a tag revoked with `docker trust revoke` is refused;
 * - a push whose signing fails (wrong passphrase, unreachable trust server) exits non-zero and
 *   leaves the registry's tag where it was;
 * - with `vouch serve`'s own enforcement on, what vouch push signed is served and an unsigned
 *   tag is refused by the server.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult, runCommand, type RunResult } from '../support/exec.ts';
import { PASSPHRASE } from '../support/notary-cli.ts';
import { makePki, removeDir, tempDir } from '../support/pki.ts';
import { startServer, type TargetName } from '../support/servers.ts';
import { startRegistry, type RunningRegistry } from '../registry/support.ts';
import { ADMIN_PASSWORD, startServeProcess, type ServeProcess } from '../serve/support.ts';
import { VOUCH_BIN } from '../support/servers.ts';
import { assertSameFiles, buildLayout, dockerArchiveOf, imageFilesVia, type BuiltImage } from './support.ts';

interface Setup {
  /** Registry host (`127.0.0.1:<port>`). */
  readonly registry: string;
  /** DOCKER_CONTENT_TRUST_SERVER, or undefined when the trust server is at the registry's address. */
  readonly trustUrl: string | undefined;
  /** CA of the TLS servers, installed under `tls/<host:port>/` for docker and vouch. */
  readonly caFile: string;
  /** A login to perform with `vouch login` first. */
  readonly login?: { readonly user: string; readonly password: string };
  stop(): Promise<void>;
}

type SetupName = 'notary-server + docker-registry' | 'vouch server + docker-registry' | 'vouch serve';

async function startSetup(name: SetupName, dir: string): Promise<Setup> {
  if (name === 'vouch serve') {
    const srv: ServeProcess = await startServeProcess(dir);
    return { registry: srv.host, trustUrl: undefined, caFile: srv.caFile, login: { user: 'admin', password: ADMIN_PASSWORD }, stop: () => srv.stop() };
  }
  const pki = await makePki(dir);
  const target: TargetName = name.startsWith('notary') ? 'notary' : 'vouch-sqlite';
  const trust = await startServer(target, { pki, dir });
  let reg: RunningRegistry;
  try {
    reg = await startRegistry('docker-registry', { storageDir: join(dir, 'registry') });
  } catch (err) {
    await trust.stop();
    throw err;
  }
  return {
    registry: reg.host,
    trustUrl: trust.url,
    caFile: pki.caFile,
    stop: async () => {
      await reg.stop();
      await trust.stop();
    },
  };
}

const SETUPS: readonly SetupName[] = ['notary-server + docker-registry', 'vouch server + docker-registry', 'vouch serve'];

for (const setupName of SETUPS) {
  describe(`vouch push/pull with content trust: ${setupName}`, { timeout: 600_000 }, () => {
    let dir: string;
    let setup: Setup;
    let home: string;
    let configDir: string;
    let imgA: BuiltImage;
    let imgB: BuiltImage;
    let imgC: BuiltImage;
    const repo = (name = 'app'): string => `${setup.registry}/ns/${name}`;

    function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
      return {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: home,
        TZ: 'UTC',
        DOCKER_CONFIG: configDir,
        ...(setup.trustUrl === undefined ? {} : { DOCKER_CONTENT_TRUST_SERVER: setup.trustUrl }),
        DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: PASSPHRASE,
        DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE,
        DOCKER_HOST: 'unix:///nonexistent/docker.sock',
        ...extra,
      };
    }

    const vouch = (args: readonly string[], extra: Record<string, string> = {}, input?: string): Promise<RunResult> =>
      runCommand(process.execPath, ['--disable-warning=ExperimentalWarning', VOUCH_BIN, ...args], { env: env(extra), cwd: home, ...(input === undefined ? {} : { input }), timeoutMs: 300_000 });
    const docker = (args: readonly string[], input?: string): Promise<RunResult> => runCommand('docker', args, { env: env(), cwd: home, ...(input === undefined ? {} : { input }), timeoutMs: 120_000 });
    const dct = { DOCKER_CONTENT_TRUST: '1' };

    function ok(r: RunResult, args: readonly string[]): RunResult {
      assert.equal(r.code, 0, describeResult(args, r));
      return r;
    }
    function fails(r: RunResult, args: readonly string[], message: RegExp): RunResult {
      assert.notEqual(r.code, 0, describeResult(args, r));
      assert.match(r.stderr, message, describeResult(args, r));
      return r;
    }

    async function pulledFiles(out: string): Promise<Map<string, Buffer>> {
      const transport = out.endsWith('.tar') ? `docker-archive:${out}` : `oci:${out}`;
      return (await imageFilesVia(home, transport, `${out}-check`)).files;
    }

    async function inspect(name: string): Promise<{ SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[] }> {
      const r = ok(await docker(['trust', 'inspect', name]), ['docker', 'trust', 'inspect', name]);
      const all = JSON.parse(r.stdout) as { SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[] }[];
      return all[0] as (typeof all)[0];
    }

    before(async () => {
      dir = await tempDir(`image-dct-${setupName.replace(/\W+/g, '-')}`);
      setup = await startSetup(setupName, dir);
      home = join(dir, 'home');
      configDir = join(home, 'docker-config');
      const hosts = [setup.registry, ...(setup.trustUrl === undefined ? [] : [new URL(setup.trustUrl).host])];
      for (const h of hosts) {
        await mkdir(join(configDir, 'tls', h), { recursive: true });
        await copyFile(setup.caFile, join(configDir, 'tls', h, 'ca.crt'));
      }
      imgA = await buildLayout(join(dir, 'img-a'), { tag: 'v1', seed: 'a', layers: [{ files: 2, bytes: 300_000 }, { files: 3, bytes: 1000 }] });
      imgB = await buildLayout(join(dir, 'img-b'), { tag: 'v2', seed: 'b', layers: [{ files: 1, bytes: 200_000 }] });
      imgC = await buildLayout(join(dir, 'img-c'), { tag: 'v3', seed: 'c', layers: [{ files: 1, bytes: 5000 }], gzip: false });
      if (setup.login !== undefined) {
        const args = ['login', '-u', setup.login.user, '--password-stdin', setup.registry];
        const r = ok(await vouch(args, {}, `${setup.login.password}\n`), ['vouch', ...args]);
        assert.equal(r.stdout, 'Login Succeeded\n');
      }
    });
    after(async () => {
      await setup?.stop();
      if (dir !== undefined && process.env['VOUCH_E2E_KEEP'] !== '1') await removeDir(dir);
    });

    it('a signed push initialises the trust data, and docker trust inspect shows the signature', async () => {
      const args = ['push', '-i', imgA.dir, `${repo()}:v1`];
      const r = ok(await vouch(args, dct), ['vouch', ...args]);
      assert.match(r.stdout, new RegExp(`^The push refers to repository \\[${repo().replace(/\./g, '\\.')}\\]\n`));
      assert.match(r.stdout, new RegExp(`v1: digest: ${imgA.digest} size: ${imgA.manifest.length}\nSigning and pushing trust metadata\n`));
      assert.match(r.stdout, new RegExp(`Finished initializing "${repo()}"\nSuccessfully signed ${repo()}:v1\n$`));
      assert.match(r.stdout, /: Pushed\n/);
      const i = await inspect(repo());
      assert.deepEqual(i.SignedTags, [{ SignedTag: 'v1', Digest: imgA.digest.slice(7), Signers: ['Repo Admin'] }]);
    });

    it('a pull with content trust resolves the tag through the trust data; the files are those pushed', async () => {
      for (const out of [join(dir, 'pull-a'), join(dir, 'pull-a.tar')]) {
        const args = ['pull', '-o', out, `${repo()}:v1`];
        const r = ok(await vouch(args, dct), ['vouch', ...args]);
        assert.match(r.stdout, new RegExp(`^Pull \\(1 of 1\\): ${repo()}:v1@${imgA.digest}\n${imgA.digest}: Pulling from ns/app\n`));
        assert.match(r.stdout, new RegExp(`Tagging ${repo()}@${imgA.digest} as ${repo()}:v1\n${repo()}:v1\n$`));
        assertSameFiles(await pulledFiles(out), imgA.files);
      }
    });

    it('with a delegation key held, the push signs into the delegations, as docker does', async () => {
      const keys = join(dir, 'keys');
      await mkdir(keys, { recursive: true });
      ok(await docker(['trust', 'key', 'generate', 'alice', '--dir', keys]), ['docker', 'trust', 'key', 'generate']);
      ok(await docker(['trust', 'signer', 'add', '--key', join(keys, 'alice.pub'), 'alice', repo()]), ['docker', 'trust', 'signer', 'add']);
      // this time from a docker save archive (the older format, as skopeo writes it)
      const archive = join(dir, 'img-b.tar');
      await dockerArchiveOf(home, imgB.dir, 'v2', archive, `${repo()}:v2`);
      const args = ['push', '-i', archive, `${repo()}:v2`];
      const r = ok(await vouch(args, dct), ['vouch', ...args]);
      assert.doesNotMatch(r.stdout, /Finished initializing/);
      const pushed = /v2: digest: sha256:([a-f0-9]{64}) size: \d+\n/.exec(r.stdout)?.[1];
      assert.ok(pushed !== undefined, r.stdout);
      const i = await inspect(repo());
      assert.deepEqual(
        i.SignedTags.map((t) => [t.SignedTag, t.Digest, t.Signers]),
        [
          ['v1', imgA.digest.slice(7), ['Repo Admin']],
          ['v2', pushed, ['alice']],
        ],
      );
      const out = join(dir, 'pull-b');
      ok(await vouch(['pull', '-o', out, `${repo()}:v2`], dct), ['vouch', 'pull', 'v2']);
      assertSameFiles(await pulledFiles(out), imgB.files);
    });

    it("an unsigned tag is refused with docker's message; by digest, or with content trust off, it pulls", async () => {
      ok(await vouch(['push', '-i', imgC.dir, `${repo()}:v3`]), ['vouch', 'push', 'v3 unsigned']);
      fails(await vouch(['pull', '-o', join(dir, 'pull-c'), `${repo()}:v3`], dct), ['vouch', 'pull', 'v3'], /^No valid trust data for v3\n$/);
      ok(await vouch(['pull', '-o', join(dir, 'pull-c'), `${repo()}:v3`, '--disable-content-trust'], dct), ['vouch', 'pull', 'v3', '--disable-content-trust']);
      const out = join(dir, 'pull-c-digest.tar');
      const r = ok(await vouch(['pull', '-o', out, `${repo()}@${imgC.digest}`], dct), ['vouch', 'pull', 'by digest']);
      assert.match(r.stdout, new RegExp(`${repo()}@${imgC.digest}\n$`));
      assertSameFiles(await pulledFiles(out), imgC.files);
      // a repository with no trust data at all
      ok(await vouch(['push', '-i', imgC.dir, `${repo('plain')}:v1`]), ['vouch', 'push', 'plain']);
      fails(
        await vouch(['pull', '-o', join(dir, 'pull-plain'), `${repo('plain')}:v1`], dct),
        ['vouch', 'pull', 'plain'],
        new RegExp(`^Error: remote trust data does not exist for ${repo('plain')}: \\S+ does not have trust data for ${repo('plain')}\n$`),
      );
    });

    it("a tag re-pointed in the registry behind the signer's back is refused; the signed digest still pulls", async () => {
      ok(await vouch(['push', '-i', imgC.dir, '--disable-content-trust', `${repo()}:v1`], dct), ['vouch', 'push', 're-point v1']);
      const out = join(dir, 'pull-repointed');
      fails(await vouch(['pull', '-o', out, `${repo()}:v1`], dct), ['vouch', 'pull', 'v1'], new RegExp(`tag ${repo()}:v1 points at ${imgC.digest}, but the trust data signs ${imgA.digest}: refusing`));
      const r = ok(await vouch(['pull', '-o', out, `${repo()}@${imgA.digest}`], dct), ['vouch', 'pull', 'signed digest']);
      assert.match(r.stdout, /Pull complete|Already exists/);
      assertSameFiles(await pulledFiles(out), imgA.files);
    });

    it('a tag revoked with docker trust revoke is refused', async () => {
      ok(await docker(['trust', 'revoke', `${repo()}:v2`]), ['docker', 'trust', 'revoke']);
      fails(await vouch(['pull', '-o', join(dir, 'pull-revoked'), `${repo()}:v2`], dct), ['vouch', 'pull', 'revoked v2'], /^No valid trust data for v2\n$/);
    });

    if (setupName === 'vouch serve') {
      it("with the server's content-trust enforcement on, a signed push is served and an unsigned one is not", async () => {
        const admin = ['--username', 'admin', '-s', setup.registry, '--tlscacert', setup.caFile];
        ok(await vouch(['policy', 'set', 'ns', '--enforce', ...admin], { VOUCH_PASSWORD: ADMIN_PASSWORD }), ['vouch', 'policy', 'set', 'ns', '--enforce']);
        ok(await vouch(['push', '-i', imgA.dir, `${repo('enforced')}:v1`], dct), ['vouch', 'push', 'enforced v1 signed']);
        const out = join(dir, 'pull-enforced');
        ok(await vouch(['pull', '-o', out, `${repo('enforced')}:v1`, '--disable-content-trust']), ['vouch', 'pull', 'enforced v1']);
        assertSameFiles(await pulledFiles(out), imgA.files);
        ok(await vouch(['push', '-i', imgC.dir, `${repo('enforced')}:v2`]), ['vouch', 'push', 'enforced v2 unsigned']);
        fails(await vouch(['pull', '-o', join(dir, 'pull-enforced-2'), `${repo('enforced')}:v2`, '--disable-content-trust']), ['vouch', 'pull', 'enforced v2'], /tag "v2" is not signed/);
        ok(await vouch(['policy', 'set', 'ns', '--no-enforce', ...admin], { VOUCH_PASSWORD: ADMIN_PASSWORD }), ['vouch', 'policy', 'set', 'ns', '--no-enforce']);
      });
    }

    it('a push whose signing fails exits non-zero and leaves the tag where it was', async () => {
      const wrong = { ...dct, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'not-the-passphrase' };
      const r = await vouch(['push', '-i', imgB.dir, `${repo()}:v3`], wrong);
      assert.notEqual(r.code, 0, describeResult(['vouch', 'push', 'wrong passphrase'], r));
      assert.match(r.stdout, /Signing and pushing trust metadata\n/);
      assert.doesNotMatch(r.stdout, /Successfully signed/);
      // v3 still names image C in the registry
      const out = join(dir, 'pull-v3-after');
      const p = ok(await vouch(['pull', '-o', out, `${repo()}:v3`, '--disable-content-trust']), ['vouch', 'pull', 'v3 after failed push']);
      assert.match(p.stdout, new RegExp(`Digest: ${imgC.digest}\n`));
      if (setup.trustUrl !== undefined) {
        const gone = await vouch(['push', '-i', imgB.dir, `${repo()}:v4`], { ...dct, DOCKER_CONTENT_TRUST_SERVER: 'https://127.0.0.1:1' });
        assert.notEqual(gone.code, 0, describeResult(['vouch', 'push', 'no trust server'], gone));
        fails(await vouch(['pull', '-o', join(dir, 'pull-v4'), `${repo()}:v4`, '--disable-content-trust']), ['vouch', 'pull', 'v4'], /not found: manifest unknown/);
      }
    });
  });
}
