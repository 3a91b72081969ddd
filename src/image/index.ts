/**
 * Public surface of src/image: images in OCI layouts and `docker save` archives, a streaming
 * client for OCI distribution registries, and the push/pull transfers between them. Content
 * trust is not here (src/cli/image-*.ts decides what to sign and which digest a tag may have);
 * this module only guarantees that what it moves is what the digests say.
 *
 * @example
 *   const client = await RegistryClient.connect({ host, repository, actions: ['pull', 'push'], insecure: true });
 *   const source = await openImageSource('./layout', ['v1']);
 *   const root = await pushImage(client, source);
 *   await client.putManifest('v1', root.bytes, root.desc.mediaType);
 */
export { ImageFormatError, DigestMismatchError, SizeMismatchError, RegistryError, RegistryNotFoundError, RegistryAuthError } from './errors.ts';
export { VerifyingStream, verifyingStream, hashFile, requireDigest, parseDigest, digestOf, digestHex, digestAlgorithm } from './digest.ts';
export { HashPool, hashPool } from './hash-pool.ts';
export type { Descriptor, Digest, Platform } from './digest.ts';
export { MediaType, BlobMediaType, MANIFEST_ACCEPT, readManifest, blobsOf, choosePlatform, hostPlatform, parsePlatform, formatPlatform, isIndexMediaType } from './manifest.ts';
export type { ImageManifest, ImageIndex, ParsedImage } from './manifest.ts';
export { indexTar, TarIndex, tarHeader, tarPadding, TAR_END } from './tar.ts';
export type { TarEntry } from './tar.ts';
export { OciLayoutSource, OciLayoutSink, dirFiles, tarFiles, blobPath, readLayoutIndex, REF_NAME, CONTAINERD_NAME } from './oci-layout.ts';
export type { LayoutFiles } from './oci-layout.ts';
export { openDockerArchive, DockerArchiveSink, ARCHIVE_MANIFEST } from './docker-archive.ts';
export { openImageSource, openImageSink, detectFormat } from './open.ts';
export type { ImageFormat } from './open.ts';
export { HttpClient, DEFAULT_USER_AGENT, discardBody, readBody } from './http.ts';
export type { TlsOptions, HttpClientOptions } from './http.ts';
export { RegistryAuthorizer, DOCKER_CLIENT_ID } from './registry-auth.ts';
export type { RegistryCredentials } from './registry-auth.ts';
export { RegistryClient } from './registry-client.ts';
export type { RegistryClientOptions, FetchedManifest, UploadMode, BlobPushResult, PushBlobOptions } from './registry-client.ts';
export { pushImage, pullImage, resolveImage, pool } from './transfer.ts';
export type { TransferEvent, TransferOptions, PushOptions, PullOptions, ResolvedImage, BlobRole } from './transfer.ts';
export type { ImageSource, ImageSink, PullPlan, ManifestBytes, BlobCheck } from './types.ts';
