/**
 * The registry's storage contract: content-addressed blobs shared by every repository, plus
 * per-repository links (layers, manifest revisions, tags, referrers) and upload sessions.
 *
 * Every backend implements `RegistryStore` and passes `conformance.ts`; `MemoryRegistryStore` is
 * the reference, `FsRegistryStore` the production backend. The contracts, which the handlers rely
 * on and the conformance suite checks:
 *
 * - **Nothing half-written is ever visible.** A blob becomes readable only once all its bytes
 *   are stored and their digest verified (`commitUpload`); a manifest becomes visible only after
 *   its bytes are stored; a tag is switched in one step and never points at a manifest that is
 *   not stored. A crash at any point leaves either the old state or the new one, plus garbage
 *   that `gc` removes.
 * - **Blobs are streamed.** `appendUpload` consumes an async byte source with back-pressure and
 *   `openBlob` returns a stream factory; no method holds a whole blob in memory. Manifests
 *   (bounded by the caller's limit) are the only byte arrays passed in and out.
 * - **A failed append changes nothing.** If the source errors or ends early, the session is
 *   returned to its previous size, so a truncated chunk can be resent from the same offset.
 * - **Appends on one session are serialized.** A second append while one runs fails with
 *   `TOOMANYREQUESTS` instead of interleaving bytes.
 * - Repository names, tags and digests are validated by the caller (names.ts); backends may
 *   assume them well-formed, so none of them can escape the storage root.
 *
 * Errors: methods throw `RegistryApiError` with the OCI code the handler should send
 * (`BLOB_UPLOAD_UNKNOWN`, `BLOB_UPLOAD_INVALID` with status 416, `DIGEST_INVALID`,
 * `SIZE_INVALID`, `BLOB_UNKNOWN`, `TOOMANYREQUESTS`); anything else is a storage failure.
 */
import type { Readable, Writable } from 'node:stream';
import type { Digest } from '../names.ts';

export interface UploadSession {
  readonly id: string;
  readonly repo: string;
  /** Bytes accepted so far. */
  readonly size: number;
  readonly startedAt: Date;
}

export interface AppendOptions {
  /** The number of bytes the source must deliver (Content-Length); fewer or more → SIZE_INVALID. */
  readonly expectedLength?: number;
  /** The session may not grow beyond this many bytes → SIZE_INVALID. */
  readonly maxSize?: number;
  /** Observer called with the length of every chunk consumed (progress, memory pacing). */
  readonly onChunk?: (bytes: number) => void;
}

/**
 * An open blob: the bytes stay readable until it is closed, even if the blob is deleted meanwhile.
 * Use exactly one of `stream`, `copyTo` or `close`; the first two close it when done.
 */
export interface OpenBlob {
  readonly size: number;
  /** A stream of bytes `start..end` inclusive (default: all). */
  stream(start?: number, end?: number): Readable;
  /**
   * Write bytes `start..end` inclusive to `out` with back-pressure, reusing buffers; resolves once
   * `out` has flushed them (it is not ended). Rejects if `out` fails or closes first.
   */
  copyTo(out: Writable, start?: number, end?: number): Promise<void>;
  close(): Promise<void>;
}

export interface StoredManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

export interface ManifestInfo {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  /** The manifest's `subject`, when it has one (for the referrers index). */
  readonly subject?: Digest;
  readonly createdAt: Date;
}

/** What the referrers API lists for one referrer (OCI descriptor fields). */
export interface ReferrerDescriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface PutManifestInput {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  /** Set when the manifest has a `subject`: its referrers entry. */
  readonly referrer?: { readonly subject: Digest; readonly descriptor: ReferrerDescriptor };
}

export interface BlobEntry {
  readonly digest: Digest;
  readonly size: number;
  readonly modifiedAt: Date;
}

export interface RegistryStore {
  // --- blobs (global) ---
  /** Size of the stored blob, or null. */
  statBlob(digest: Digest): Promise<number | null>;
  /** Open a stored blob for reading, or null. */
  openBlob(digest: Digest): Promise<OpenBlob | null>;
  /** Every stored blob (for gc). */
  listBlobs(): AsyncIterable<BlobEntry>;
  /** Remove a stored blob; false when it was absent. Repository links are left alone. */
  deleteBlob(digest: Digest): Promise<boolean>;

  // --- per-repository blob links ---
  /** True when `repo` links the blob as a layer/config blob or as a manifest revision, and it is stored. */
  hasBlob(repo: string, digest: Digest): Promise<boolean>;
  /** Link a stored blob into `repo`. @throws BLOB_UNKNOWN when it is not stored */
  linkBlob(repo: string, digest: Digest): Promise<void>;
  /** Remove the layer link; false when there was none. */
  unlinkBlob(repo: string, digest: Digest): Promise<boolean>;
  /** Layer links of `repo` (for gc). */
  listBlobLinks(repo: string): Promise<Digest[]>;

  // --- uploads ---
  createUpload(repo: string): Promise<UploadSession>;
  /** The session if it exists *in this repository*, else null. */
  getUpload(repo: string, id: string): Promise<UploadSession | null>;
  /**
   * Append the source's bytes at `offset`, which must equal the session's size (else
   * BLOB_UPLOAD_INVALID with status 416 and the current size in `detail`). Returns the new size.
   * On any failure the session is left at `offset`.
   * @throws BLOB_UPLOAD_UNKNOWN, BLOB_UPLOAD_INVALID (416), SIZE_INVALID, TOOMANYREQUESTS
   */
  appendUpload(repo: string, id: string, offset: number, source: AsyncIterable<Uint8Array>, opts?: AppendOptions): Promise<number>;
  /**
   * Verify that the session's bytes hash to `digest`, store them as that blob (keeping an
   * already stored copy), link it into `repo` and end the session. On a digest mismatch the
   * session is ended too (the client must start again) and nothing is stored.
   * @throws BLOB_UPLOAD_UNKNOWN, DIGEST_INVALID, TOOMANYREQUESTS
   */
  commitUpload(repo: string, id: string, digest: Digest): Promise<{ size: number }>;
  /** End a session and drop its bytes; false when there was none. */
  cancelUpload(repo: string, id: string): Promise<boolean>;
  /** Every session (for gc of abandoned uploads). */
  listUploads(): Promise<UploadSession[]>;

  // --- manifests and tags ---
  /**
   * Store the manifest bytes as a blob, link the revision into `repo` and record its referrers
   * entry, then point each of `tags` at it. Callers have verified `digest` and the references.
   */
  putManifest(repo: string, manifest: PutManifestInput, tags: readonly string[]): Promise<void>;
  getManifest(repo: string, digest: Digest): Promise<StoredManifest | null>;
  statManifest(repo: string, digest: Digest): Promise<ManifestInfo | null>;
  /** Revisions linked in `repo` (for gc). */
  listManifests(repo: string): Promise<ManifestInfo[]>;
  /** Unlink a revision, every tag pointing at it and its referrers entry; false when absent. */
  deleteManifest(repo: string, digest: Digest): Promise<boolean>;
  resolveTag(repo: string, tag: string): Promise<Digest | null>;
  /** Tags in ASCII order, or null when the repository does not exist. */
  listTags(repo: string): Promise<string[] | null>;
  /** Tags with their targets (for gc). */
  listTagTargets(repo: string): Promise<Map<string, Digest>>;
  deleteTag(repo: string, tag: string): Promise<boolean>;
  /** Referrers of `subject` in `repo`, in digest order. */
  listReferrers(repo: string, subject: Digest): Promise<ReferrerDescriptor[]>;

  // --- repositories ---
  /**
   * True once a blob or manifest has been linked into the repository. Deleting its content does
   * not remove the repository (as in distribution); only gc may.
   */
  repositoryExists(repo: string): Promise<boolean>;
  /** Every repository name, in ASCII order. */
  listRepositories(): Promise<string[]>;
}
