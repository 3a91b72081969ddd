/**
 * `vouch pull -o OUTPUT NAME[:TAG|@DIGEST]`: docker pull without an engine, into an OCI image
 * layout directory (added to one that exists) or a `docker save` archive (`--format`, else a
 * directory vs. a file or a name ending in `.tar`). A multi-platform image is narrowed to
 * `--platform` (default: this machine's). Every byte is checked against its digest on the way in;
 * nothing shows up at OUTPUT unless all of it arrived intact.
 *
 * With content trust (`DOCKER_CONTENT_TRUST=1` or `--verify`, unless `--disable-content-trust`),
 * as docker's trusted pull (spec §10.3, §12): the tag is resolved through the trust server —
 * `targets/releases` first, then `targets`, any other role's target refused (`No trust data for
 * TAG`) — and the image is pulled *by that digest* (size checked too), then recorded under the
 * tag (`Tagging R@sha256:… as R:TAG`). Docker's errors: an unsigned or revoked tag is `No valid
 * trust data for TAG`, a repository without trust data is `Error: remote trust data does not exist
 * for R: …`. Beyond docker: when the registry's tag points at another manifest than the signed
 * one (re-pointed behind the signer's back), the pull is refused. A pull by digest is always
 * allowed: the digest is its own proof.
 *
 * @example
 *   DOCKER_CONTENT_TRUST=1 vouch pull -o ./out 127.0.0.1:5000/app:v1
 */
import { dockerDigest, getTargetByName, DOCKER_TARGET_ROLES, NoSuchTargetError } from '../client/index.ts';
import { hostPlatform, openImageSink, parsePlatform, pullImage, resolveImage, type Digest, type ImageFormat } from '../image/index.ts';
import { connectRegistry, contentTrust, familiarName, transferConcurrency } from './image-registry.ts';
import { ProgressView } from './image-progress.ts';
import type { TrustCommandSpec, TrustInvocation } from './trust-cli.ts';
import { parseImageRef, type ImageRef } from './trust-ref.ts';
import { notaryError } from './trust-session.ts';

/** A signed tag as docker's getTrustedPullTargets resolves it. */
export interface TrustedTag {
  readonly digest: Digest;
  readonly size: number;
  readonly role: string;
}

/**
 * The digest and size the trust data signs for `tag` (releases, then targets).
 * @throws Error with docker's words
 */
export async function resolveTrustedTag(inv: TrustInvocation, ref: ImageRef, tag: string): Promise<TrustedTag> {
  let trusted;
  try {
    const conn = await inv.session.connect(ref, 'readOnly');
    trusted = await inv.session.trusted(conn);
  } catch (err) {
    throw notaryError(ref.gun, err);
  }
  let t;
  try {
    t = getTargetByName(trusted, tag, DOCKER_TARGET_ROLES);
  } catch (err) {
    if (err instanceof NoSuchTargetError) throw new Error(err.message, { cause: err });
    throw notaryError(ref.gun, err);
  }
  if (!DOCKER_TARGET_ROLES.includes(t.role)) throw new Error(`No trust data for ${tag}`);
  const digest = dockerDigest(t);
  if (digest === undefined) throw new Error('no valid hash, expecting sha256');
  return { digest: digest as Digest, size: t.length, role: t.role };
}

function isTTY(inv: TrustInvocation): boolean {
  return (inv.io.stdout as { isTTY?: boolean }).isTTY === true;
}

async function pull(inv: TrustInvocation): Promise<void> {
  const ref = parseImageRef(inv.args[0] as string);
  const output = inv.flags['output'];
  if (typeof output !== 'string' || output === '') throw new Error('vouch pull needs --output: an OCI image layout directory or a docker save archive to write');
  const format = inv.flags['format'];
  if (format !== undefined && format !== 'oci' && format !== 'docker-archive') throw new Error(`invalid --format ${JSON.stringify(format)}: oci or docker-archive`);
  const platformFlag = inv.flags['platform'];
  const platform = typeof platformFlag === 'string' && platformFlag !== '' ? parsePlatform(platformFlag) : hostPlatform();
  const quiet = inv.flags['quiet'] === true;
  const verify = contentTrust(inv, 'verify');
  let tag = ref.tag;
  if (tag === '' && ref.digest === '') {
    tag = 'latest';
    if (!quiet) inv.out(`Using default tag: ${tag}\n`);
  }
  const name = familiarName(ref);
  // content trust turns the tag into a signed digest before the registry is asked anything
  const signed = verify && tag !== '' ? await resolveTrustedTag(inv, ref, tag) : undefined;
  if (signed !== undefined && !quiet) inv.out(`Pull (1 of 1): ${name}:${tag}@${signed.digest}\n`);
  const reference = signed?.digest ?? (ref.digest !== '' ? ref.digest : tag);
  const client = await connectRegistry(inv.session, ref, ['pull']);
  try {
    if (signed !== undefined) {
      const current = await client.resolveTag(tag);
      if (current !== undefined && current !== signed.digest) {
        throw new Error(
          `the registry's tag ${ref.gun}:${tag} points at ${current}, but the trust data signs ${signed.digest}: refusing to pull (pull ${ref.gun}@${signed.digest} to take the signed image)`,
        );
      }
    }
    const resolved = await resolveImage(client, reference, platform, signed === undefined ? undefined : { digest: signed.digest, size: signed.size });
    if (!quiet) inv.out(`${reference}: Pulling from ${ref.path}\n`);
    const sink = await openImageSink(output, format as ImageFormat | undefined);
    const view = new ProgressView(inv.io.stdout, { tty: isTTY(inv), verb: 'pull', quiet });
    const imageName = tag !== '' ? `${ref.gun}:${tag}` : `${ref.gun}@${resolved.root.digest}`;
    try {
      await pullImage(client, { manifest: resolved.manifest, image: resolved.image, imageName, tag, repository: name }, sink, {
        concurrency: transferConcurrency(inv.io.env, 'pull'),
        onEvent: (e) => view.event(e),
      });
    } finally {
      view.finish();
    }
    if (!quiet) {
      inv.out(`Digest: ${resolved.root.digest}\n`);
      inv.out(`Status: Downloaded ${signed !== undefined ? `${name}@${signed.digest}` : tag !== '' ? `${name}:${tag}` : `${name}@${resolved.root.digest}`} to ${sink.description}\n`);
      if (signed !== undefined) inv.out(`Tagging ${name}@${signed.digest} as ${name}:${tag}\n`);
    }
    inv.out(`${tag !== '' ? `${ref.gun}:${tag}` : `${ref.gun}@${resolved.root.digest}`}\n`);
  } finally {
    client.close();
  }
}

export const IMAGE_PULL_COMMAND: TrustCommandSpec = {
  use: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  short: 'Download an image from a registry',
  args: [1, 1],
  flags: [
    { name: 'output', short: 'o', kind: 'string', help: 'Where to write the image: an OCI image layout directory, or a docker save archive (a file, or a name ending in .tar)' },
    { name: 'format', kind: 'string', help: 'Output format: oci or docker-archive (default: from --output)' },
    { name: 'platform', kind: 'string', help: "Platform of a multi-platform image, os/arch[/variant] (default: this machine's)" },
    { name: 'verify', kind: 'bool', help: 'Verify the tag with content trust (as DOCKER_CONTENT_TRUST=1)' },
    { name: 'disable-content-trust', kind: 'bool', help: 'Skip image verification (the default unless DOCKER_CONTENT_TRUST is set)' },
    { name: 'quiet', short: 'q', kind: 'bool', help: 'Suppress verbose output' },
  ],
  run: pull,
};
