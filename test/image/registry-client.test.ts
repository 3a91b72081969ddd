/**
 * src/image's registry client and transfers against distribution's docker-registry and vouch's
 * registry, each behind docker token auth: push in every upload mode (docker's stream, monolithic,
 * chunked), skopeo sees the pushed manifest and files, pull brings back the same files into both
 * local formats, blobs are not sent twice and can be mounted, a pull-only user cannot push, an
 * image index is pushed whole and pulled for one platform, and a registry that changes one byte of
 * a layer makes the pull fail before anything is written.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DigestMismatchError,
  dirFiles,
  OciLayoutSource,
  openImageSink,
  openImageSource,
  pullImage,
  pushImage,
  RegistryAuthError,
  RegistryClient,
  RegistryNotFoundError,
  resolveImage,
  type RegistryClientOptions,
  type TransferEvent,
} from '../../src/image/index.ts';
import { startRegistry, startTokenService, USERS, buildIndexLayout, type RunningRegistry, type TokenService } from '../registry/support.ts';
import { assertSameFiles, buildLayout, imageFilesVia, skopeo, startTamperingProxy } from './support.ts';

const alice = { username: 'alice', password: USERS['alice']?.password ?? '', identityToken: '' };
const bob = { username: 'bob', password: USERS['bob']?.password ?? '', identityToken: '' };

for (const kind of ['docker-registry', 'vouch'] as const) {
  describe(`image transfers with ${kind} behind token auth`, { timeout: 300_000 }, () => {
    let dir: string;
    let tokens: TokenService;
    let reg: RunningRegistry;
    const clients: RegistryClient[] = [];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `vouch-image-client-${kind}-`));
      tokens = await startTokenService();
      reg = await startRegistry(kind, { storageDir: join(dir, 'storage'), auth: tokens });
    });
    after(async () => {
      for (const c of clients) c.close();
      await reg?.stop();
      await tokens?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    async function client(repository: string, o: Partial<RegistryClientOptions> = {}): Promise<RegistryClient> {
      const c = await RegistryClient.connect({ host: reg.host, repository, actions: ['pull', 'push'], insecure: true, credentials: alice, ...o });
      clients.push(c);
      return c;
    }

    for (const mode of ['stream', 'monolithic', 'chunked'] as const) {
      it(`pushes a layout (${mode} uploads); skopeo and vouch pull back the same files`, async () => {
        const img = await buildLayout(join(dir, `img-${mode}`), { tag: 'v1', seed: mode, layers: [{ files: 2, bytes: 70_000 }, { files: 1, bytes: 10 }, { files: 3, bytes: 1234 }] });
        const c = await client(`ns/${mode}`, { uploadMode: mode, chunkSize: 10_000 });
        const events: TransferEvent[] = [];
        const source = await openImageSource(img.dir, ['v1']);
        const root = await pushImage(c, source, { onEvent: (e) => events.push(e) });
        assert.equal(await c.putManifest('v1', root.bytes, root.desc.mediaType), img.digest);
        assert.deepEqual(events.filter((e) => e.type === 'done').map((e) => (e as { result: string }).result), ['uploaded', 'uploaded', 'uploaded', 'uploaded']);
        assert.ok(events.some((e) => e.type === 'progress'));
        // skopeo reads the same manifest and files
        const creds = ['--src-tls-verify=false', '--src-creds', `alice:${alice.password}`];
        await skopeo(dir, ['copy', '--quiet', ...creds, `docker://${reg.host}/ns/${mode}:v1`, `oci:${join(dir, `sk-${mode}`)}:v1`]);
        const back = await imageFilesVia(dir, `oci:${join(dir, `sk-${mode}`)}:v1`, join(dir, `sk-dir-${mode}`));
        assert.equal(back.manifest.toString(), img.manifest.toString());
        assertSameFiles(back.files, img.files);
        // vouch pulls it into a layout and an archive
        for (const out of [join(dir, `pulled-${mode}`), join(dir, `pulled-${mode}.tar`)]) {
          const r = await resolveImage(c, 'v1', { os: 'linux', architecture: 'amd64' });
          assert.equal(r.manifest.desc.digest, img.digest);
          const sink = await openImageSink(out);
          await pullImage(c, { manifest: r.manifest, image: r.image, imageName: `${reg.host}/ns/${mode}:v1`, tag: 'v1', repository: `${reg.host}/ns/${mode}` }, sink);
          const transport = out.endsWith('.tar') ? `docker-archive:${out}` : `oci:${out}:v1`;
          assertSameFiles((await imageFilesVia(dir, transport, join(dir, `check-${mode}-${out.endsWith('.tar')}`))).files, img.files);
        }
      });
    }

    it('does not send a blob twice, mounts from another repository, and a pull-only user cannot push', async () => {
      const img = await buildLayout(join(dir, 'img-mount'), { tag: 'v1', seed: 'mount', layers: [{ files: 1, bytes: 50_000 }] });
      const source = await openImageSource(img.dir, ['v1']);
      const a = await client('ns/first');
      await pushImage(a, source);
      const done = async (c: RegistryClient, mountFrom?: string): Promise<string[]> => {
        const results: string[] = [];
        await pushImage(c, source, { ...(mountFrom === undefined ? {} : { mountFrom }), onEvent: (e) => e.type === 'done' && results.push(e.result) });
        return results;
      };
      assert.deepEqual(await done(a), ['exists', 'exists']);
      assert.deepEqual(await done(await client('ns/second'), 'ns/first'), ['mounted', 'mounted']);
      const asBob = await client('ns/bobs', { credentials: bob });
      await assert.rejects(pushImage(asBob, source), RegistryAuthError);
      await assert.rejects((await client('ns/first', { credentials: bob, actions: ['pull'] })).getManifest('nope'), RegistryNotFoundError);
    });

    it('pushes an image index whole and pulls the platform asked for', async () => {
      const layout = await buildIndexLayout(join(dir, 'index'), { layers: [3000, 4000], archs: ['amd64', 'arm64'], tag: 'multi' });
      const c = await client('ns/multi');
      const source = await OciLayoutSource.open(dirFiles(layout.dir), 'index layout', ['multi']);
      const root = await pushImage(c, source);
      await c.putManifest('multi', root.bytes, root.desc.mediaType);
      const r = await resolveImage(c, 'multi', { os: 'linux', architecture: 'arm64' }, { digest: layout.digest as never, size: root.bytes.length });
      assert.equal(r.root.digest, layout.digest);
      const config = JSON.parse((await readFile(join(layout.dir, 'blobs', 'sha256', r.image.config.digest.slice(7)))).toString()) as { architecture: string };
      assert.equal(config.architecture, 'arm64');
      await assert.rejects(resolveImage(c, 'multi', { os: 'linux', architecture: 's390x' }), /no matching manifest for linux\/s390x.*linux\/amd64, linux\/arm64/);
      await assert.rejects(resolveImage(c, 'multi', { os: 'linux', architecture: 'arm64' }, { digest: root.desc.digest.replace(/.$/, '0') as never, size: 1 }), DigestMismatchError);
    });

    it('a registry that changes one byte of a layer fails the pull and leaves no image behind', async () => {
      const img = await buildLayout(join(dir, 'img-tamper'), { tag: 'v1', seed: 'tamper', layers: [{ files: 1, bytes: 200_000 }] });
      const c = await client('ns/tamper');
      const root = await pushImage(c, await openImageSource(img.dir, ['v1']));
      await c.putManifest('v1', root.bytes, root.desc.mediaType);
      const layer = img.layerDigests[0] as string;
      const proxy = await startTamperingProxy(reg.url, (method, path) =>
        method === 'GET' && path.endsWith(`/blobs/${layer}`) ? (chunk) => Buffer.from(chunk.map((b, i) => (i === 100 ? b ^ 1 : b))) : undefined,
      );
      try {
        const bad = await RegistryClient.connect({ host: proxy.host, repository: 'ns/tamper', actions: ['pull'], insecure: true, credentials: alice });
        clients.push(bad);
        const r = await resolveImage(bad, 'v1', { os: 'linux', architecture: 'amd64' });
        for (const out of [join(dir, 'tampered'), join(dir, 'tampered.tar')]) {
          const sink = await openImageSink(out);
          await assert.rejects(
            pullImage(bad, { manifest: r.manifest, image: r.image, imageName: 'x:v1', tag: 'v1', repository: 'x' }, sink),
            (err: unknown) => err instanceof DigestMismatchError && err.message.includes(layer),
          );
        }
        const left = await readdir(dir);
        assert.ok(!left.some((n) => n.includes('tampered.tar')), left.join(' '));
        const index = JSON.parse(await readFile(join(dir, 'tampered', 'index.json'), 'utf8')) as { manifests: unknown[] };
        assert.deepEqual(index.manifests, []);
      } finally {
        await proxy.close();
      }
    });
  });
}
