/**
 * Initialising a repository locally (spec §3.1, §4, §11 `init`; notary's `initialize`): root
 * keys become self-signed certificates (CN = GUN, 10 years), a new ECDSA targets key and, unless
 * the server manages it, a snapshot key are created in the key store, the timestamp key (and a
 * server-managed snapshot key) comes from the server, and root v1, targets v1 and snapshot v1 are
 * signed and written to the cache. Nothing is published.
 *
 * @example
 *   const r = await initializeRepo({ gun, now, ring, remote, cache }, { serverManagedRoles: ['snapshot'] });
 *   r.createdRootKey // true when no root key existed
 */
import { canonicalKeyId, certificateToTufKey, certificatesToTufKey, generateRootCertificate, parseCertificateChain, tufKeyId } from '../crypto/index.ts';
import type { PrivateKey, TufKey } from '../crypto/types.ts';
import { KeyNotFoundError, StateError } from '../errors/index.ts';
import { defaultExpiry, goTimeFromDate } from '../tuf/index.ts';
import { MIN_THRESHOLD } from './changelist-changes.ts';
import { InvalidRemoteRoleError } from './repo-errors.ts';
import { EditableRepo, type RoleEntry, type RootDraft } from './repo-state.ts';
import { signRoot, signSnapshot, signTargets } from './sign-roles.ts';
import type { KeyRing } from './sign.ts';
import type { MetadataCache, RemoteStore } from './types.ts';

export interface InitializeOptions {
  /** Canonical IDs of root keys in the key store; default: the first root key held, else a new one. */
  readonly rootKeyIds?: readonly string[];
  /** A root certificate to use instead of generating one (`notary init --rootcert`); its key must be held. */
  readonly rootCertPem?: string;
  /** `snapshot` to let the server sign snapshots; `timestamp` is always server-managed. */
  readonly serverManagedRoles?: readonly string[];
}

export interface InitializeResult {
  /** Canonical IDs of the root keys used. */
  readonly rootKeyIds: readonly string[];
  /** A new root key was generated (no root key was held and none was named). */
  readonly createdRootKey: boolean;
  /** The repository as initialised (root, targets, snapshot signed at version 1). */
  readonly repo: EditableRepo;
}

export interface InitializeContext {
  readonly gun: string;
  readonly now: Date;
  readonly ring: KeyRing;
  readonly remote: RemoteStore;
  readonly cache: MetadataCache;
}

async function privateKeyById(ring: KeyRing, id: string): Promise<PrivateKey> {
  const held = await ring.held(id);
  if (held === null) throw new KeyNotFoundError(`signing key not found: ${id}`);
  return held.key;
}

/** The root keys (certificates) for root.json, and whether a root key was created. */
async function rootKeys(ctx: InitializeContext, o: InitializeOptions): Promise<{ keys: TufKey[]; ids: string[]; created: boolean }> {
  const ids = [...(o.rootKeyIds ?? [])];
  if (o.rootCertPem !== undefined) {
    const cert = parseCertificateChain(o.rootCertPem)[0];
    if (cert === undefined) throw new StateError('no valid certificate found in the root certificate PEM');
    const certKey = certificatesToTufKey([cert]);
    const certId = canonicalKeyId(certKey);
    if (ids.length === 0) {
      if (!(await ctx.ring.idsForRole('root')).includes(certId)) {
        throw new StateError('error initializing repository with certificate: cannot find matching private key id');
      }
      ids.push(certId);
    }
    if (ids.length !== 1) throw new StateError(`require matching number of keyIDs and public keys but got ${ids.length} IDs and 1 public keys`);
    const priv = await privateKeyById(ctx.ring, ids[0] as string).catch((err: unknown) => {
      throw new StateError(`could not obtain public key from IDs: could not get the private key matching id ${ids[0]}: ${(err as Error).message}`, { cause: err });
    });
    if (canonicalKeyId(priv.publicKey) !== certId) {
      throw new StateError('could not obtain public key from IDs: private key is nil or does not match public key');
    }
    return { keys: [certKey], ids, created: false };
  }
  const privs: PrivateKey[] = [];
  for (const id of ids) privs.push(await privateKeyById(ctx.ring, id));
  let created = false;
  if (privs.length === 0) {
    const existing = await ctx.ring.idsForRole('root');
    if (existing.length > 0) {
      privs.push(await privateKeyById(ctx.ring, existing[0] as string));
      ids.push(existing[0] as string);
    } else {
      const key = await ctx.ring.create('root', ctx.gun);
      privs.push(key);
      ids.push(canonicalKeyId(key.publicKey));
      created = true;
    }
  }
  return { keys: privs.map((p) => certificateToTufKey(generateRootCertificate(p, ctx.gun, ctx.now))), ids, created };
}

/**
 * Initialise and write root, targets (and snapshot when local) to the cache.
 * @throws InvalidRemoteRoleError, KeyNotFoundError, StateError (certificate mismatch), the
 *   remote's errors when fetching server keys
 */
export async function initializeRepo(ctx: InitializeContext, o: InitializeOptions = {}): Promise<InitializeResult> {
  let serverSnapshot = false;
  for (const role of o.serverManagedRoles ?? []) {
    if (role === 'timestamp') continue;
    if (role === 'snapshot') serverSnapshot = true;
    else throw new InvalidRemoteRoleError(role);
  }
  const root = await rootKeys(ctx, o);
  const targetsKey = (await ctx.ring.create('targets', ctx.gun)).publicKey;
  const localSnapshot = serverSnapshot ? null : (await ctx.ring.create('snapshot', ctx.gun)).publicKey;
  const timestampKey = await ctx.remote.getKey('timestamp');
  const snapshotKey = localSnapshot ?? (await ctx.remote.getKey('snapshot'));

  const keys = new Map<string, TufKey>();
  const roles = new Map<string, RoleEntry | null>();
  const add = (role: string, list: readonly TufKey[]): void => {
    for (const k of list) keys.set(tufKeyId(k), k);
    roles.set(role, { keyids: list.map(tufKeyId), threshold: MIN_THRESHOLD });
  };
  add('root', root.keys);
  add('timestamp', [timestampKey]);
  add('snapshot', [snapshotKey]);
  add('targets', [targetsKey]);
  const draft: RootDraft = {
    type: 'Root',
    version: 0,
    expires: goTimeFromDate(defaultExpiry('root', ctx.now)),
    consistentSnapshot: false,
    keys,
    roles,
    signatures: [],
    bytes: null,
    dirty: true,
  };
  const repo = new EditableRepo(ctx.gun, ctx.now, draft, null);
  repo.initTargets('targets');

  const rootBytes = await signRoot(repo, ctx.ring);
  await ctx.cache.set('root', rootBytes);
  await ctx.cache.set('targets', await signTargets(repo, ctx.ring, 'targets'));
  if (!serverSnapshot) {
    const snapshot = await signSnapshot(repo, ctx.ring);
    if (snapshot !== null) await ctx.cache.set('snapshot', snapshot);
  }
  return { rootKeyIds: root.ids, createdRootKey: root.created, repo };
}
