/**
 * The two ends of an image transfer besides the registry: where `push` reads an image
 * (`ImageSource`: an OCI layout directory, a `docker save` archive) and where `pull` writes one
 * (`ImageSink`: the same two formats). The transfer code (push.ts, pull.ts) only sees these.
 *
 * Contracts:
 * - a source's `root` bytes hash to `root.desc.digest` (sources check it: that digest is what
 *   gets signed); `openBlob` streams exactly the blob's bytes, which the *registry* verifies;
 * - a sink is given the whole plan first (`begin`), is then handed blob streams (whose length the
 *   caller limits) and must call the `check` it is given on the bytes as written — a file and the
 *   offset they start at — before it lets the blob be seen: `check` hashes them and rejects when
 *   they are not the blob's; nothing is visible at the destination before `commit`, and `abort`
 *   leaves the destination as it was (plus at most checked blobs in a layout).
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from './digest.ts';
import type { ImageManifest } from './manifest.ts';

export interface ManifestBytes {
  readonly desc: Descriptor;
  readonly bytes: Buffer;
}

export interface ImageSource {
  /** For messages: `OCI layout ./img`, `docker archive app.tar`. */
  readonly description: string;
  /** The manifest or index to push. */
  readonly root: ManifestBytes;
  /** A manifest the root index lists (checked against its digest). */
  readManifest(desc: Descriptor): Promise<Buffer>;
  /** The blob's bytes. */
  openBlob(desc: Descriptor): Promise<Readable>;
  close(): Promise<void>;
}

/** What a pull writes: one image manifest, its blobs, and the names to record it under. */
export interface PullPlan {
  readonly manifest: ManifestBytes;
  readonly image: ImageManifest;
  /** Fully qualified name with tag or digest, e.g. `127.0.0.1:5000/app:v1` (index.json's `io.containerd.image.name`). */
  readonly imageName: string;
  /** The tag, '' for a pull by digest (OCI `org.opencontainers.image.ref.name`, docker's RepoTags). */
  readonly tag: string;
  /** Familiar repository name (docker's RepoTags use it: `127.0.0.1:5000/app`, `alpine`). */
  readonly repository: string;
}

/** Checks the bytes of a blob as stored: `size` bytes of `file` from `offset`. */
export type BlobCheck = (file: string, offset: number) => Promise<void>;

export interface ImageSink {
  readonly description: string;
  /** Take the plan; resolves to the blobs that still have to be written (the sink may have some). */
  begin(plan: PullPlan): Promise<Descriptor[]>;
  /** Store one blob; rejects when the stream errors or `check` rejects. */
  writeBlob(desc: Descriptor, data: Readable, check: BlobCheck): Promise<void>;
  /** Make the image visible at the destination. */
  commit(): Promise<void>;
  /** Forget everything not committed. */
  abort(): Promise<void>;
}
