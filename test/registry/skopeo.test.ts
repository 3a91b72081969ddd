/**
 * skopeo (the real client) copies images into vouch's registry and back out, and the same into
 * distribution's `docker-registry`, without and with token auth; the digests must match the
 * source's and the two registries must end up holding the same things.
 *
 * Images: a multi-layer OCI image; a two-architecture OCI index copied with `--all`; the same
 * index converted by skopeo to a Docker manifest list of schema 2 manifests (`--format v2s2`).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeResult } from '../support/exec.ts';
import {
  buildImageLayout,
  buildIndexLayout,
  layoutDigest,
  skopeo,
  startRegistry,
  startTokenService,
  type ImageLayout,
  type RegistryKind,
  type RunningRegistry,
  type TokenService,
} from './support.ts';

interface Observed {
  imagePushed: string;
  imagePulled: string;
  indexPushed: string;
  indexPulled: string;
  dockerListPushed: string;
  dockerListType: string;
  dockerListPulled: string;
  tags: string[];
}

let work: string;
let image: ImageLayout;
let index: ImageLayout;
let tokens: TokenService;
const observed = new Map<string, Observed>();

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'vouch-registry-skopeo-'));
  image = await buildImageLayout(join(work, 'image'), { layers: [1_500_000, 3_000_000, 700, 64_000] });
  index = await buildIndexLayout(join(work, 'index'), { layers: [400_000, 90_000], archs: ['amd64', 'arm64'] });
  tokens = await startTokenService();
});
after(async () => {
  await tokens.stop();
  await rm(work, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await skopeo(work, args);
  assert.equal(r.code, 0, describeResult(['skopeo', ...args], r));
  return r.stdout;
}

async function fails(args: string[]): Promise<string> {
  const r = await skopeo(work, args);
  assert.notEqual(r.code, 0, describeResult(['skopeo', ...args], r));
  return r.stderr;
}

const sha256 = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

for (const auth of [false, true]) {
  for (const kind of ['docker-registry', 'vouch'] as RegistryKind[]) {
    const label = `${kind}${auth ? ' with token auth' : ''}`;
    describe(`skopeo ⇄ ${label}`, () => {
      let reg: RunningRegistry;
      const user = auth ? 'alice' : undefined;
      const seen: Partial<Observed> = {};
      before(async () => {
        reg = await startRegistry(kind, { storageDir: join(work, `storage-${kind}-${auth}`), ...(auth ? { auth: tokens } : {}) });
      });
      after(async () => {
        await reg.stop();
        observed.set(label, seen as Observed);
      });

      it('copies a multi-layer image in and out with the same digest', async () => {
        const ref = `docker://${reg.host}/ns/image:1.0`;
        await ok(['copy', '--quiet', ...reg.destFlags(user), `oci:${image.dir}:${image.tag}`, ref]);
        const raw = await ok(['inspect', '--raw', ...reg.flags(user), ref]);
        seen.imagePushed = sha256(raw);
        assert.equal(seen.imagePushed, image.digest, 'the registry serves the manifest bytes unchanged');
        const out = join(work, `pulled-image-${kind}-${auth}`);
        await ok(['copy', '--quiet', ...reg.srcFlags(user), ref, `oci:${out}:1.0`]);
        seen.imagePulled = await layoutDigest(out);
        assert.equal(seen.imagePulled, image.digest);
        seen.tags = JSON.parse(await ok(['list-tags', ...reg.flags(user), `docker://${reg.host}/ns/image`])).Tags as string[];
        assert.deepEqual(seen.tags, ['1.0']);
      });

      it('copies a multi-arch OCI index with --all, and back', async () => {
        const ref = `docker://${reg.host}/ns/multi:1.0`;
        await ok(['copy', '--quiet', '--all', ...reg.destFlags(user), `oci:${index.dir}:${index.tag}`, ref]);
        seen.indexPushed = sha256(await ok(['inspect', '--raw', ...reg.flags(user), ref]));
        assert.equal(seen.indexPushed, index.digest);
        const out = join(work, `pulled-index-${kind}-${auth}`);
        await ok(['copy', '--quiet', '--all', ...reg.srcFlags(user), ref, `oci:${out}:1.0`]);
        seen.indexPulled = await layoutDigest(out);
        assert.equal(seen.indexPulled, index.digest);
      });

      it('copies the index converted to a Docker manifest list (schema 2), and out again', async () => {
        const ref = `docker://${reg.host}/ns/multi-docker:1.0`;
        await ok(['copy', '--quiet', '--all', '--format', 'v2s2', ...reg.destFlags(user), `oci:${index.dir}:${index.tag}`, ref]);
        const raw = await ok(['inspect', '--raw', ...reg.flags(user), ref]);
        seen.dockerListPushed = sha256(raw);
        seen.dockerListType = (JSON.parse(raw) as { mediaType: string }).mediaType;
        assert.equal(seen.dockerListType, 'application/vnd.docker.distribution.manifest.list.v2+json');
        const out = join(work, `pulled-docker-${kind}-${auth}`);
        await ok(['copy', '--quiet', '--all', ...reg.srcFlags(user), ref, `oci:${out}:1.0`]);
        // An OCI layout cannot hold a Docker list, so skopeo converts it on the way out; the
        // result must be the same from both registries (checked at the end).
        seen.dockerListPulled = await layoutDigest(out);
      });

      if (auth) {
        it('refuses a pull-only user’s push and an anonymous pull; the pull-only user can pull', async () => {
          const err = await fails(['copy', '--quiet', ...reg.destFlags('bob'), `oci:${image.dir}:${image.tag}`, `docker://${reg.host}/ns/bob:1`]);
          assert.match(err, /unauthorized|authentication required|denied/i);
          await fails(['inspect', '--raw', ...reg.flags(), `docker://${reg.host}/ns/image:1.0`]);
          assert.equal(sha256(await ok(['inspect', '--raw', ...reg.flags('bob'), `docker://${reg.host}/ns/image:1.0`])), image.digest);
        });
      }
    });
  }
}

describe('vouch and docker-registry agree', () => {
  it('on every digest, media type and tag list, with and without auth', () => {
    for (const auth of ['', ' with token auth']) {
      const base = observed.get(`docker-registry${auth}`);
      const mine = observed.get(`vouch${auth}`);
      assert.ok(base !== undefined && mine !== undefined, 'both registries ran');
      assert.equal(Object.keys(base).length, 8, `every copy ran against docker-registry${auth}`);
      assert.deepEqual(mine, base);
    }
  });
});
