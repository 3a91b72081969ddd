/**
 * `vouch trust sign IMAGE:TAG [--local] [--recursive]` and `vouch trust revoke [-y] IMAGE[:TAG]`
 * (spec §12.2), with docker's words.
 *
 * sign: a tag already signed in `targets` or `targets/releases` is signed again with the same
 * digest and size by every *signable* role (direct children of `targets` whose paths match and
 * whose key is held; `targets` itself when there are no delegations) — no registry needed, as
 * with docker. Otherwise (or with `--local`) the manifest is read from the registry
 * (trust-registry.ts) where docker would push the local image first. A repository the server does
 * not know is initialised: with a registry login a signer named after the user is created
 * (`targets/<user>` and `targets/releases`, docker's `trust sign`); without one the tag is signed
 * into `targets` (docker's `push` path). `--recursive` (vouch) signs an image index and each of its
 * platform manifests, as `<tag>-<os>-<arch>[-<variant>]`, in one publish.
 *
 * revoke: removes the tag (or, after confirmation or with `-y`, every released tag) from every
 * signable role and publishes.
 */
import { generatePrivateKey } from '../crypto/index.ts';
import { delegationRoles } from '../client/cli-support.ts';
import { RepositoryNotExistError } from '../client/updater-errors.ts';
import { getTargetByName, listTargets, type NamedTarget, type Repository, type TrustedRepo } from '../client/index.ts';
import { parentRole } from '../tuf/index.ts';
import { isImageIndex, platformManifests, platformTag, type FetchedManifest } from './trust-registry.ts';
import { parseImageRef, type ImageRef } from './trust-ref.ts';
import { messageOf, notaryError } from './trust-session.ts';
import { allTargetsByName, isReleasedRole, releasedSignatures, RELEASES_ROLE } from './trust-inspect.ts';
import { confirm, stageSigner } from './trust-signer.ts';
import { CancelledError, type TrustCommandSpec, type TrustInvocation } from './trust-cli.ts';

/**
 * docker's GetSignableRoles: the direct children of `targets` whose paths cover `name` and one of
 * whose keys is held; `["targets"]` when the repository has no delegations.
 * @throws Error `no valid signing keys for delegation roles`
 */
export async function signableRoles(inv: TrustInvocation, trusted: TrustedRepo | null, name: string): Promise<string[]> {
  const roles = trusted === null ? [] : delegationRoles(trusted);
  if (roles.length === 0) return ['targets'];
  const held = new Set((await (await inv.session.keyStore()).list()).map((k) => k.keyId));
  const out: string[] = [];
  for (const r of roles) {
    if (parentRole(r.name) !== 'targets' || !r.paths.some((p) => name.startsWith(p))) continue;
    if (r.keyIds.some((id) => held.has(id))) out.push(r.name);
  }
  if (out.length === 0) throw new Error('no valid signing keys for delegation roles');
  return out;
}

function targetOf(name: string, digest: string, size: number): NamedTarget {
  return { name, length: size, hashes: new Map([['sha256', Buffer.from(digest.replace(/^sha256:/, ''), 'hex')]]) };
}

/** The targets one sign stages: the tag, and with --recursive each platform manifest. */
async function targetsFromRegistry(inv: TrustInvocation, ref: ImageRef, recursive: boolean): Promise<{ main: FetchedManifest; targets: NamedTarget[]; labels: string[] }> {
  const main = await inv.manifests.getManifest(ref, ref.tag);
  const targets = [targetOf(ref.tag, main.digest, main.size)];
  const labels = [`${ref.tag}\t${main.digest}\t${isImageIndex(main) ? 'index' : 'manifest'}`];
  if (recursive && isImageIndex(main)) {
    for (const p of platformManifests(main)) {
      const m = await inv.manifests.getManifest(ref, p.digest);
      if (m.size !== p.size) throw new Error(`manifest ${p.digest} in ${ref.gun} has ${m.size} bytes, the index says ${p.size}`);
      const name = platformTag(ref.tag, p);
      targets.push(targetOf(name, m.digest, m.size));
      labels.push(`${name}\t${m.digest}\t${p.os}/${p.architecture}${p.variant === '' ? '' : `/${p.variant}`}`);
    }
  }
  return { main, targets, labels };
}

/** The released (targets or targets/releases) hash and size of `tag`, walk order. */
function releasedTarget(trusted: TrustedRepo, tag: string): NamedTarget | null {
  for (const t of allTargetsByName(trusted, tag)) {
    if (isReleasedRole(t.role)) return { name: tag, length: t.meta.length, hashes: t.meta.hashes };
  }
  return null;
}

async function stageEverywhere(inv: TrustInvocation, repo: Repository, trusted: TrustedRepo | null, targets: readonly NamedTarget[]): Promise<void> {
  for (const t of targets) await repo.addTarget(t, await signableRoles(inv, trusted, t.name));
}

/** A new repository: docker's initNotaryRepoWithSigners (a signer named after the registry user). */
async function initializeForSign(inv: TrustInvocation, ref: ImageRef, repo: Repository): Promise<void> {
  const auth = await inv.session.auth(ref);
  const user = auth?.username ?? '';
  try {
    await repo.initialize({ serverManagedRoles: ['snapshot'] });
  } catch (err) {
    throw notaryError(ref.gun, err);
  }
  if (user === '') {
    inv.out(`Finished initializing ${JSON.stringify(ref.gun)}\n`);
    return;
  }
  const store = await inv.session.keyStore();
  const ids = (await store.list()).filter((k) => k.role === user).map((k) => k.keyId).sort();
  let key;
  if (ids.length > 0) {
    key = (await store.get(ids[0] as string)).key.publicKey;
  } else {
    const priv = generatePrivateKey('ecdsa');
    await store.add(priv, { role: user });
    key = priv.publicKey;
  }
  try {
    await stageSigner(repo, user, [key]);
    await repo.publish();
  } catch (err) {
    throw notaryError(ref.gun, err);
  }
  inv.out(`Created signer: ${user}\n`);
  inv.out(`Finished initializing signed repository for ${ref.original}\n`);
}

async function sign(inv: TrustInvocation): Promise<void> {
  const ref = parseImageRef(inv.args[0] as string);
  if (ref.tag === '') {
    if (ref.digest !== '') throw new Error('cannot use a digest reference for IMAGE:TAG');
    throw new Error(`no tag specified for ${ref.original}`);
  }
  const local = inv.flags['local'] === true;
  const recursive = inv.flags['recursive'] === true;
  let conn;
  try {
    conn = await inv.session.connect(ref, 'readWrite');
  } catch (err) {
    throw notaryError(ref.gun, err);
  }
  const repo = await inv.session.repository(conn);
  await repo.changelist.clear();
  try {
    let trusted: TrustedRepo | null;
    try {
      trusted = await inv.session.trusted(conn);
    } catch (err) {
      if (!(err instanceof RepositoryNotExistError)) throw notaryError(ref.gun, err);
      trusted = null;
    }
    if (trusted === null) {
      // the image must exist before anything is created (docker checks the local image)
      await inv.manifests.getManifest(ref, ref.tag);
      await initializeForSign(inv, ref, repo);
      try {
        trusted = await inv.session.trusted(conn);
      } catch {
        trusted = null; // signed into targets directly: published below from the local cache
      }
    }
    const existing = trusted === null ? null : releasedTarget(trusted, ref.tag);
    if (existing !== null && !local && !recursive) {
      await signExisting(inv, ref, repo, trusted as TrustedRepo, existing);
      return;
    }
    const { main, targets, labels } = await targetsFromRegistry(inv, ref, recursive);
    inv.err(`Signing and pushing trust data for ${ref.original} (manifest ${main.digest} in the registry), may overwrite remote trust data\n`);
    inv.out('Signing and pushing trust metadata\n');
    if (labels.length > 1) for (const l of labels) inv.out(`  ${l.replaceAll('\t', '  ')}\n`);
    try {
      await stageEverywhere(inv, repo, trusted, targets);
      await repo.publish();
    } catch (err) {
      throw notaryError(ref.gun, new Error(`failed to sign ${ref.gun}:${ref.tag}: ${messageOf(err)}`, { cause: err }));
    }
    inv.out(`Successfully signed ${ref.gun}:${ref.tag}\n`);
  } finally {
    await repo.changelist.clear();
  }
}

/** docker's signAndPublishToTarget. */
async function signExisting(inv: TrustInvocation, ref: ImageRef, repo: Repository, trusted: TrustedRepo, target: NamedTarget): Promise<void> {
  inv.out(`Signing and pushing trust metadata for ${ref.original}\n`);
  const row = releasedSignatures(allTargetsByName(trusted, ref.tag))[0];
  try {
    await stageEverywhere(inv, repo, trusted, [target]);
    const signers = [...(row?.signers ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    inv.out(`Existing signatures for tag ${row?.tag ?? ''} digest ${row?.digest ?? ''} from:\n${signers.join(', ')}\n`);
    await repo.publish();
  } catch (err) {
    throw new Error(`failed to sign ${ref.gun}:${ref.tag}: ${messageOf(err)}`, { cause: err });
  }
  inv.out(`Successfully signed ${ref.gun}:${ref.tag}\n`);
}

async function revoke(inv: TrustInvocation): Promise<void> {
  const remote = inv.args[0] as string;
  const ref = parseImageRef(remote);
  if (ref.tag === '' && ref.digest !== '') throw new Error('cannot use a digest reference for IMAGE:TAG');
  if (ref.tag === '' && inv.flags['yes'] !== true) {
    if (!(await confirm(inv, `Confirm you would like to delete all signature data for ${remote}?`))) throw new CancelledError('trust revoke has been cancelled');
  }
  const conn = await inv.session.connect(ref, 'readWrite');
  const repo = await inv.session.repository(conn);
  await repo.changelist.clear();
  try {
    const trusted = await inv.session.trusted(conn);
    const names = ref.tag !== '' ? [getTargetByName(trusted, ref.tag, [RELEASES_ROLE, 'targets']).name] : listTargets(trusted, [RELEASES_ROLE, 'targets']).map((t) => t.name);
    if (names.length === 0) throw new Error('no signed tags to remove');
    for (const name of names) await repo.removeTarget(name, await signableRoles(inv, trusted, name));
    await repo.publish();
  } catch (err) {
    throw new Error(`could not remove signature for ${remote}: ${messageOf(err)}`, { cause: err });
  } finally {
    await repo.changelist.clear();
  }
  inv.out(`Successfully deleted signature for ${remote}\n`);
}

export const TRUST_SIGN_COMMANDS: readonly TrustCommandSpec[] = [
  {
    use: 'revoke [OPTIONS] IMAGE[:TAG]',
    short: 'Remove trust for an image',
    args: [1, 1],
    flags: [{ name: 'yes', short: 'y', kind: 'bool', help: 'Do not prompt for confirmation' }],
    run: revoke,
  },
  {
    use: 'sign IMAGE:TAG',
    short: 'Sign an image',
    args: [1, 1],
    flags: [
      { name: 'local', kind: 'bool', help: 'Sign the manifest the registry has for IMAGE:TAG even when the tag is already signed' },
      { name: 'recursive', kind: 'bool', help: 'Also sign each platform manifest of a multi-arch image as TAG-OS-ARCH[-VARIANT]' },
    ],
    run: sign,
  },
];
