/**
 * Which local format a path is: a directory is an OCI image layout, a file is a `docker save`
 * archive (plain tar); a path that does not exist yet becomes an archive when it ends in `.tar`,
 * else a layout. `--format` overrides the guess for outputs.
 *
 * @example
 *   const src = await openImageSource('./img', ['v1']);      // OCI layout
 *   const sink = await openImageSink('app.tar');             // docker archive
 */
import { stat } from 'node:fs/promises';
import { DockerArchiveSink, openDockerArchive } from './docker-archive.ts';
import { ImageFormatError } from './errors.ts';
import { dirFiles, OciLayoutSink, OciLayoutSource } from './oci-layout.ts';
import type { ImageSink, ImageSource } from './types.ts';

export type ImageFormat = 'oci' | 'docker-archive';

/** The format of an existing path, or the guess for a new one. */
export async function detectFormat(path: string): Promise<ImageFormat> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'oci' : 'docker-archive';
  } catch {
    return /\.tar$/i.test(path) ? 'docker-archive' : 'oci';
  }
}

/**
 * Open an OCI layout directory or a docker archive for pushing.
 * @param names names to pick the image by, first match wins (else the only image)
 * @throws ImageFormatError
 */
export async function openImageSource(path: string, names: readonly string[]): Promise<ImageSource> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new ImageFormatError(`${path}: no such file or directory (expected an OCI image layout directory or a docker save archive)`, { cause: err });
  }
  return isDir ? OciLayoutSource.open(dirFiles(path), `OCI layout ${path}`, names) : openDockerArchive(path, names);
}

export async function openImageSink(path: string, format?: ImageFormat): Promise<ImageSink> {
  const f = format ?? (await detectFormat(path));
  return f === 'oci' ? new OciLayoutSink(path) : new DockerArchiveSink(path);
}
