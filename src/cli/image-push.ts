/**
 * `vouch push -i INPUT NAME[:TAG]`: docker push without an engine. The image comes from an OCI
 * image layout directory or a `docker save` archive (INPUT), chosen in it by `--source-ref`, else
 * by the tag or full name, else the only image there.
 *
 * Docker's output: `The push refers to repository [R]`, one line per layer (a progress bar on a
 * terminal, `Pushed` / `Layer already exists` otherwise), `TAG: digest: sha256:… size: N`.
 *
 * With content trust (`DOCKER_CONTENT_TRUST=1` or `--sign`, unless `--disable-content-trust`),
 * as docker's push did (spec §12.2): the tag is signed with the pushed manifest's digest and size
 * into every delegation role the user holds a key for (direct children of `targets` whose paths
 * cover the tag), or into `targets` when the repository has no delegations; a repository the
 * trust server does not know is initialised first (root key: the first one held, else a new one;
 * snapshot managed by the server), `Finished initializing "R"`. Passphrases come from
 * `DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE` / `…_REPOSITORY_PASSPHRASE` or a prompt. Unlike docker, the
 * manifest is put by digest first and the *tag* moves only after the signature is published, so a
 * push whose signing fails exits 1 and leaves the tag where it was — never silently unsigned.
 *
 * @example
 *   DOCKER_CONTENT_TRUST=1 vouch push -i ./layout 127.0.0.1:5000/app:v1
 */
import { RepositoryNotExistError } from '../client/updater-errors.ts';
import type { NamedTarget, TrustedRepo } from '../client/index.ts';
import { digestHex, openImageSource, pushImage, type ManifestBytes } from '../image/index.ts';
import { connectRegistry, contentTrust, familiarName, transferConcurrency } from './image-registry.ts';
import { ProgressView } from './image-progress.ts';
import type { TrustCommandSpec, TrustInvocation } from './trust-cli.ts';
import { parseImageRef, trustServerFor, type ImageRef } from './trust-ref.ts';
import { messageOf, notaryError } from './trust-session.ts';
import { signableRoles } from './trust-sign.ts';

function isTTY(inv: TrustInvocation): boolean {
  return (inv.io.stdout as { isTTY?: boolean }).isTTY === true;
}

/** The names an image may carry in the input, best first. */
function sourceNames(ref: ImageRef, tag: string, given: string | undefined): string[] {
  if (given !== undefined && given !== '') return [given];
  return [...new Set([tag, `${ref.gun}:${tag}`, `${familiarName(ref)}:${tag}`, ref.original])];
}

/** docker's PushTrustedReference after the push: sign `tag` → root's digest and size, publish. */
export async function signPushedTag(inv: TrustInvocation, ref: ImageRef, tag: string, root: ManifestBytes): Promise<void> {
  inv.out('Signing and pushing trust metadata\n');
  let conn;
  try {
    conn = await inv.session.connect(ref, 'readWrite');
  } catch (err) {
    throw new Error(`error establishing connection to trust repository: ${messageOf(err)}`, { cause: err });
  }
  const repo = await inv.session.repository(conn);
  await repo.changelist.clear();
  const target: NamedTarget = { name: tag, length: root.desc.size, hashes: new Map([['sha256', Buffer.from(digestHex(root.desc.digest), 'hex')]]) };
  try {
    let trusted: TrustedRepo | null = null;
    try {
      trusted = await inv.session.trusted(conn);
    } catch (err) {
      if (!(err instanceof RepositoryNotExistError)) throw notaryError(ref.gun, err);
    }
    let roles: string[];
    if (trusted === null) {
      try {
        await repo.initialize({ serverManagedRoles: ['snapshot'] });
      } catch (err) {
        throw notaryError(ref.gun, err);
      }
      inv.out(`Finished initializing ${JSON.stringify(ref.gun)}\n`);
      roles = ['targets'];
    } else {
      roles = await signableRoles(inv, trusted, tag);
    }
    try {
      await repo.addTarget(target, roles);
      await repo.publish();
    } catch (err) {
      throw notaryError(ref.gun, new Error(`failed to sign ${ref.gun}:${tag}: ${messageOf(err)}`, { cause: err }));
    }
  } finally {
    await repo.changelist.clear();
  }
  inv.out(`Successfully signed ${ref.gun}:${tag}\n`);
}

async function push(inv: TrustInvocation): Promise<void> {
  const ref = parseImageRef(inv.args[0] as string);
  if (ref.digest !== '') throw new Error('cannot push a digest reference');
  const input = inv.flags['input'];
  if (typeof input !== 'string' || input === '') throw new Error('vouch push needs --input: an OCI image layout directory or a docker save archive');
  const quiet = inv.flags['quiet'] === true;
  const sign = contentTrust(inv, 'sign');
  let tag = ref.tag;
  if (tag === '') {
    tag = 'latest';
    if (!quiet) inv.out(`Using default tag: ${tag}\n`);
  }
  // a trust server that cannot be used is found out before anything is uploaded
  if (sign) trustServerFor(ref, inv.io.env);
  const sourceRef = typeof inv.flags['source-ref'] === 'string' ? inv.flags['source-ref'] : undefined;
  const source = await openImageSource(input, sourceNames(ref, tag, sourceRef));
  try {
    const client = await connectRegistry(inv.session, ref, ['pull', 'push']);
    try {
      if (!quiet) inv.out(`The push refers to repository [${ref.gun}]\n`);
      const view = new ProgressView(inv.io.stdout, { tty: isTTY(inv), verb: 'push', quiet });
      let root: ManifestBytes;
      try {
        root = await pushImage(client, source, { concurrency: transferConcurrency(inv.io.env, 'push'), onEvent: (e) => view.event(e) });
      } finally {
        view.finish();
      }
      if (sign) {
        // the content first, by digest; the tag only once it is signed
        await client.putManifest(root.desc.digest, root.bytes, root.desc.mediaType);
        if (!quiet) inv.out(`${tag}: digest: ${root.desc.digest} size: ${root.desc.size}\n`);
        await signPushedTag(inv, ref, tag, root);
        await client.putManifest(tag, root.bytes, root.desc.mediaType);
      } else {
        await client.putManifest(tag, root.bytes, root.desc.mediaType);
        if (!quiet) inv.out(`${tag}: digest: ${root.desc.digest} size: ${root.desc.size}\n`);
      }
      if (quiet) inv.out(`${ref.gun}:${tag}\n`);
    } finally {
      client.close();
    }
  } finally {
    await source.close();
  }
}

export const IMAGE_PUSH_COMMAND: TrustCommandSpec = {
  use: 'push [OPTIONS] NAME[:TAG]',
  short: 'Upload an image to a registry',
  args: [1, 1],
  flags: [
    { name: 'input', short: 'i', kind: 'string', help: 'OCI image layout directory or docker save archive holding the image' },
    { name: 'source-ref', kind: 'string', help: 'Which image of the input to push (a ref name or tag; default: the tag, else the only image)' },
    { name: 'sign', kind: 'bool', help: 'Sign the tag with content trust (as DOCKER_CONTENT_TRUST=1)' },
    { name: 'disable-content-trust', kind: 'bool', help: 'Skip image signing (the default unless DOCKER_CONTENT_TRUST is set)' },
    { name: 'quiet', short: 'q', kind: 'bool', help: 'Suppress verbose output' },
  ],
  run: push,
};
