import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryApiError } from './errors.ts';
import { MediaType, parseManifest, referrerDescriptor } from './manifest.ts';
import type { Digest } from './names.ts';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const desc = (c: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip', size = 10): Record<string, unknown> => ({ mediaType, digest: d(c), size });
const enc = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof RegistryApiError && e.oci === 'MANIFEST_INVALID' && pattern.test(e.message));
}

describe('parseManifest', () => {
  it('Docker schema 2 image: config and layers, foreign layers skipped', () => {
    const m = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: MediaType.DockerManifest,
        config: desc('c', 'application/vnd.docker.container.image.v1+json'),
        layers: [desc('1'), { ...desc('2', 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'), urls: ['https://example.com/x'] }],
      }),
      MediaType.DockerManifest,
    );
    assert.equal(m.mediaType, MediaType.DockerManifest);
    assert.deepEqual(m.blobs.map((b) => b.digest), [d('c'), d('1')]);
    assert.equal(m.artifactType, undefined, 'only OCI manifests have an artifact type');
  });

  it('Docker manifest list and OCI index: the child manifests', () => {
    for (const type of [MediaType.DockerManifestList, MediaType.OciIndex]) {
      const m = parseManifest(enc({ schemaVersion: 2, mediaType: type, manifests: [desc('a', MediaType.OciManifest), desc('b', MediaType.OciManifest)] }), `${type}; charset=utf-8`);
      assert.equal(m.mediaType, type);
      assert.deepEqual(m.manifests.map((x) => x.digest), [d('a'), d('b')]);
      assert.deepEqual(m.blobs, []);
    }
  });

  it('OCI manifest with subject: artifactType falls back to the config media type', () => {
    const m = parseManifest(
      enc({ schemaVersion: 2, config: desc('c', 'application/vnd.example.sig.config'), layers: [], subject: desc('e', MediaType.OciManifest), annotations: { a: 'b' } }),
      MediaType.OciManifest,
    );
    assert.equal(m.subject?.digest, d('e'));
    assert.equal(m.artifactType, 'application/vnd.example.sig.config');
    assert.deepEqual(referrerDescriptor(m, d('f') as Digest, 99), {
      mediaType: MediaType.OciManifest,
      digest: d('f'),
      size: 99,
      artifactType: 'application/vnd.example.sig.config',
      annotations: { a: 'b' },
    });
  });

  it('infers an OCI type when neither the header nor the body says', () => {
    assert.equal(parseManifest(enc({ schemaVersion: 2, manifests: [] }), 'application/json').mediaType, MediaType.OciIndex);
    assert.equal(parseManifest(enc({ schemaVersion: 2, config: desc('c'), layers: [] }), undefined).mediaType, MediaType.OciManifest);
  });

  it('refuses bad input with every problem named', () => {
    invalid(() => parseManifest(Buffer.from('{'), MediaType.OciManifest), /JSON/);
    invalid(() => parseManifest(enc([1]), MediaType.OciManifest), /object/);
    invalid(() => parseManifest(enc({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }), MediaType.OciManifest), /does not match Content-Type/);
    invalid(() => parseManifest(enc({ schemaVersion: 1, name: 'x' }), 'application/vnd.docker.distribution.manifest.v1+prettyjws'), /schema 1/);
    invalid(() => parseManifest(enc({ schemaVersion: 2 }), 'application/vnd.example+json'), /unsupported manifest media type/);
    invalid(
      () => parseManifest(enc({ schemaVersion: 3, config: { digest: 'sha256:zz', size: -1 }, layers: 'no' }), MediaType.OciManifest),
      /schemaVersion must be 2.*config.mediaType.*config.digest.*config.size.*layers must be an array/,
    );
    invalid(() => parseManifest(enc({ schemaVersion: 2, config: desc('c'), layers: [], annotations: { a: 1 } }), MediaType.OciManifest), /annotations/);
  });
});
