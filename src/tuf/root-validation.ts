/**
 * Root trust decisions (spec §3.3, notary's trustpinning.ValidateRoot), run by the client when it
 * bootstraps or rotates trust and by the server (pure TOFU: empty pinning) for uploaded roots.
 *
 * Steps: structure → root-role leaf certificates (one non-CA leaf first in each chain, CN = GUN
 * or `prefix*`, valid at `now`) → if a previous root exists, signatures from ≥ its root threshold
 * of its leaf certificates (no expiry check) → trust pinning (certs, then CA, then TOFU) → the
 * new root signed by ≥ its own threshold of the surviving leaves. Error texts are notary's.
 *
 * Version and expiry of the new root are checked by the caller (builder.ts).
 *
 * @example
 *   const root = validateRoot(trusted?.signed ?? null, Envelope.parse(bytes, 'root'), gun, {}, now);
 */
import { certificatesToTufKey, checkCertificateValidity, parseCertificateChain, tufKeyId, verifyChainToRoots } from '../crypto/index.ts';
import type { ParsedCertificate } from '../crypto/index.ts';
import type { TufKey } from '../crypto/types.ts';
import type { BaseRole } from './common.ts';
import type { Envelope } from './envelope.ts';
import { RootRotationError, RootValidationError } from './errors.ts';
import { Root } from './root.ts';
import { hasValidSignatures } from './verify.ts';

/** Trust pinning configuration (client `trust_pinning`), with CA bundles already loaded. */
export interface TrustPinning {
  /** GUN (exact) or `prefix*` → allowed TUF (certificate) key IDs. */
  readonly certs?: ReadonlyMap<string, readonly string[]>;
  /** GUN prefix → CA bundle. */
  readonly ca?: ReadonlyMap<string, readonly ParsedCertificate[]>;
  readonly disableTofu?: boolean;
}

interface RootCerts {
  /** By the TUF key ID of the root key the leaf came from. */
  readonly leaves: Map<string, ParsedCertificate>;
  readonly intermediates: Map<string, ParsedCertificate[]>;
}

/** notary's MatchCNToGun: exact, or `prefix*` matching any GUN that starts with the prefix. */
export function matchCommonNameToGun(commonName: string, gun: string): boolean {
  if (commonName.endsWith('*')) return gun.startsWith(commonName.replace(/\*+$/, ''));
  return commonName === gun;
}

function isValidCert(cert: ParsedCertificate, now: Date | undefined): boolean {
  try {
    checkCertificateValidity(cert, now === undefined ? {} : { now });
    return true;
  } catch {
    return false;
  }
}

/** notary's parseAllCerts over the root role's keys. */
function parseRootCerts(root: Root): RootCerts {
  const leaves = new Map<string, ParsedCertificate>();
  const intermediates = new Map<string, ParsedCertificate[]>();
  for (const id of root.roles.get('root')?.keyids ?? []) {
    const key = root.keys.get(id);
    if (key === undefined) continue;
    let chain: ParsedCertificate[];
    try {
      chain = parseCertificateChain(new TextDecoder().decode(key.public));
    } catch {
      continue;
    }
    const leafList = chain.filter((c) => !c.isCA);
    if (leafList.length !== 1 || chain[0]?.isCA !== false) continue;
    const keyId = tufKeyId(key);
    leaves.set(keyId, leafList[0] as ParsedCertificate);
    intermediates.set(keyId, chain.filter((c) => c.isCA));
  }
  return { leaves, intermediates };
}

/** notary's validRootLeafCerts; `now` undefined skips the expiry check. */
function validLeaves(leaves: Map<string, ParsedCertificate>, gun: string, now: Date | undefined): Map<string, ParsedCertificate> {
  const out = new Map<string, ParsedCertificate>();
  for (const [id, cert] of leaves) {
    if (matchCommonNameToGun(cert.commonName, gun) && isValidCert(cert, now)) out.set(id, cert);
  }
  return out;
}

/**
 * notary's CertBundleToKey: an `ecdsa-x509`/`rsa-x509` key whose public part is the PEM chain
 * leaf + intermediates (re-encoded as Go does). Undefined for other leaf key types.
 */
export function certBundleToKey(leaf: ParsedCertificate, intermediates: readonly ParsedCertificate[]): TufKey | undefined {
  try {
    return certificatesToTufKey([leaf, ...intermediates]);
  } catch {
    return undefined;
  }
}

function certsToRole(leaves: Map<string, ParsedCertificate>, ints: Map<string, ParsedCertificate[]>, threshold: number): BaseRole {
  const keys = new Map<string, TufKey>();
  for (const [id, leaf] of leaves) {
    const key = certBundleToKey(leaf, ints.get(id) ?? []);
    if (key !== undefined) keys.set(tufKeyId(key), key);
  }
  return { name: 'root', keys, threshold };
}

type PinCheck = (leaf: ParsedCertificate, ints: readonly ParsedCertificate[]) => boolean;

/** notary's NewTrustPinChecker. Throws a plain Error whose message becomes the reason. */
function trustPinChecker(p: TrustPinning, gun: string, firstBootstrap: boolean, now: Date): PinCheck {
  let pinned = p.certs?.get(gun);
  if (pinned === undefined) {
    let longest = '';
    for (const [pattern, ids] of p.certs ?? []) {
      if (pattern.endsWith('*') && gun.startsWith(pattern.slice(0, -1)) && pattern.length > longest.length) {
        longest = pattern;
        pinned = ids;
      }
    }
  }
  if (pinned !== undefined) {
    const ids = pinned;
    return (leaf, ints) => {
      const key = certBundleToKey(leaf, ints);
      return key !== undefined && ids.includes(tufKeyId(key));
    };
  }
  let bundle: readonly ParsedCertificate[] | undefined;
  let best = '';
  for (const [prefix, certs] of p.ca ?? []) {
    if (gun.startsWith(prefix) && prefix.length >= best.length) {
      best = prefix;
      bundle = certs;
    }
  }
  if (bundle !== undefined) {
    const pool = bundle.filter((c) => isValidCert(c, now));
    if (pool.length === 0) throw new Error('invalid CA certs provided');
    return (leaf, ints) => {
      try {
        return verifyChainToRoots(leaf, [...ints], pool, now);
      } catch {
        return false;
      }
    };
  }
  if (p.disableTofu === true && firstBootstrap) throw new Error('invalid trust pinning specified');
  return () => true;
}

/**
 * Validate a new root against the previously trusted one (or none) and the pinning config.
 * Returns the parsed, structurally valid root.
 * @throws DeserializationError / InvalidMetadataError (structure), InvalidRoleError,
 *   RootValidationError (`could not validate the path to a trusted root: …`),
 *   RootRotationError (`could not rotate trust to a new trusted root: …`)
 */
export function validateRoot(prev: Root | null, next: Envelope, gun: string, pinning: TrustPinning, now: Date): Root {
  const root = Root.fromSigned(next.signed);
  const rootRole = root.baseRole('root');

  const all = parseRootCerts(root);
  const fromRoot = validLeaves(all.leaves, gun, now);
  const validInts = new Map<string, ParsedCertificate[]>();
  for (const [id, ints] of all.intermediates) {
    const ok = ints.filter((c) => isValidCert(c, now));
    if (ok.length > 0) validInts.set(id, ok);
  }
  if (fromRoot.size === 0) throw new RootValidationError('unable to retrieve valid leaf certificates');

  if (prev !== null) {
    const prevCerts = parseRootCerts(prev);
    const trusted = validLeaves(prevCerts.leaves, gun, undefined);
    if (trusted.size === 0) throw new RootValidationError('could not retrieve trusted certs from previous root role data');
    const prevSpec = prev.roles.get('root');
    if (prevSpec === undefined || prevSpec === null) throw new RootValidationError('could not retrieve previous root role data');
    if (!hasValidSignatures(next, certsToRole(trusted, prevCerts.intermediates, prevSpec.threshold))) {
      throw new RootRotationError('failed to validate data with current trusted certificates');
    }
  }

  let check: PinCheck;
  try {
    check = trustPinChecker(pinning, gun, prev === null, now);
  } catch (err) {
    throw new RootValidationError((err as Error).message, { cause: err });
  }
  const pinned = new Map<string, ParsedCertificate>();
  for (const [id, leaf] of fromRoot) {
    if (check(leaf, validInts.get(id) ?? [])) pinned.set(id, leaf);
  }
  if (pinned.size === 0) throw new RootValidationError('unable to match any certificates to trust_pinning config');

  if (!hasValidSignatures(next, certsToRole(pinned, validInts, rootRole.threshold))) {
    throw new RootValidationError('failed to validate integrity of roots');
  }
  return root;
}
