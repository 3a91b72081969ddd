/**
 * Trust pinning for the client (spec §3.3 step 4, §9.5 `trust_pinning`): turning the config
 * (`certs`, `ca`, `disable_tofu`) into the `TrustPinning` that src/tuf's `validateRoot` applies,
 * and describing a root that was just trusted on first contact so the user can pin it.
 *
 * - `resolveTrustPinning` reads the one CA bundle that applies to the GUN (longest prefix), as
 *   notary's NewTrustPinChecker does; a bundle that cannot be read or parsed becomes notary's
 *   `could not load root cert from CA path`. Certs pins win over CA pins, as in notary, so the
 *   file is not read when a certs pin applies.
 * - `pinningRuleFor` says which rule decides for a GUN (`certs`, `ca` or `tofu`).
 * - `describeRootKeys` lists the root keys of a root (TUF key ID = what `trust_pinning.certs`
 *   takes, not the canonical ID `notary key list` shows; certificate SHA-256 fingerprint).
 * - `withCertPin` returns a config with one more key ID pinned for a GUN (what `vouch trust pin
 *   GUN KEYID` writes back).
 *
 * Not here: when pinning applies (only when no valid cached root exists: trusted-set.ts).
 *
 * @example
 *   const pinning = await resolveTrustPinning(config.trust_pinning, gun);
 *   updater.on first contact → describeRootKeys(root) → print, later withCertPin(cfg, gun, id)
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { sha256Hex } from '../canonical/index.ts';
import { firstCertificate, parseCertificateChain } from '../crypto/index.ts';
import type { ParsedCertificate } from '../crypto/index.ts';
import { RootValidationError, type Root, type TrustPinning } from '../tuf/index.ts';
import type { TrustPinConfig } from './types.ts';

export type PinningRule = 'certs' | 'ca' | 'tofu';

/** The `certs` entry for a GUN: exact, else the longest `prefix*` wildcard (notary's wildcardMatch). */
export function pinnedCertIds(config: TrustPinConfig | undefined, gun: string): readonly string[] | undefined {
  const certs = config?.certs ?? {};
  if (Object.hasOwn(certs, gun)) return certs[gun];
  let best: string | undefined;
  for (const pattern of Object.keys(certs)) {
    if (pattern.endsWith('*') && gun.startsWith(pattern.slice(0, -1)) && (best === undefined || pattern.length > best.length)) best = pattern;
  }
  return best === undefined ? undefined : certs[best];
}

/** The CA bundle path for a GUN: the longest `ca` prefix of it. */
export function pinnedCaFile(config: TrustPinConfig | undefined, gun: string): { prefix: string; file: string } | undefined {
  let found: { prefix: string; file: string } | undefined;
  for (const [prefix, file] of Object.entries(config?.ca ?? {})) {
    if (gun.startsWith(prefix) && (found === undefined || prefix.length >= found.prefix.length)) found = { prefix, file };
  }
  return found;
}

/** Which rule decides trust for `gun` under `config`. */
export function pinningRuleFor(config: TrustPinConfig | undefined, gun: string): PinningRule {
  if (pinnedCertIds(config, gun) !== undefined) return 'certs';
  return pinnedCaFile(config, gun) !== undefined ? 'ca' : 'tofu';
}

export interface ResolveOptions {
  /** Reads a CA bundle; default fs.readFile. */
  readonly readFile?: (path: string) => Promise<Uint8Array>;
}

/**
 * The TrustPinning for `gun`: only the rule that applies is filled in.
 * @throws RootValidationError `could not validate the path to a trusted root: could not load root cert from CA path`
 */
export async function resolveTrustPinning(config: TrustPinConfig | undefined, gun: string, o: ResolveOptions = {}): Promise<TrustPinning> {
  const disableTofu = config?.disableTofu === true;
  const ids = pinnedCertIds(config, gun);
  if (ids !== undefined) return { certs: new Map([[gun, [...ids]]]), disableTofu };
  const ca = pinnedCaFile(config, gun);
  if (ca === undefined) return { disableTofu };
  let certs: ParsedCertificate[];
  try {
    const pem = await (o.readFile ?? fsReadFile)(ca.file);
    certs = parseCertificateChain(new TextDecoder().decode(pem));
  } catch (err) {
    throw new RootValidationError('could not load root cert from CA path', { cause: err });
  }
  return { ca: new Map([[ca.prefix, certs]]), disableTofu };
}

/** One root key as a user would pin it. */
export interface TrustedRootKey {
  /** TUF key ID as listed in root.json: the value `trust_pinning.certs` takes. */
  readonly keyId: string;
  /** Lower-case hex SHA-256 of the leaf certificate (DER). */
  readonly certSha256: string;
  readonly commonName: string;
  readonly notAfter: Date;
}

/** What the client trusted when it first met a repository (for the CLI to print). */
export interface FirstContactInfo {
  readonly gun: string;
  readonly rootVersion: number;
  /** `tofu`: nothing was pinned, the server's root was taken on first use. */
  readonly trustedBy: PinningRule;
  readonly keys: readonly TrustedRootKey[];
}

/** The root role's keys with their leaf certificates (keys without a certificate are left out). */
export function describeRootKeys(root: Root): TrustedRootKey[] {
  const out: TrustedRootKey[] = [];
  for (const id of root.roles.get('root')?.keyids ?? []) {
    const key = root.keys.get(id);
    if (key === undefined) continue;
    let cert: ParsedCertificate | null;
    try {
      cert = firstCertificate(key.public);
    } catch {
      cert = null;
    }
    if (cert === null) continue;
    out.push({ keyId: id, certSha256: sha256Hex(cert.der), commonName: cert.commonName, notAfter: cert.notAfter });
  }
  return out.sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
}

/** A copy of `config` with `keyId` added to `certs[gun]` (no duplicate). */
export function withCertPin(config: TrustPinConfig | undefined, gun: string, keyId: string): TrustPinConfig {
  if (!/^[0-9a-f]{64}$/.test(keyId)) throw new TypeError(`not a key ID: ${JSON.stringify(keyId)}`);
  const certs: Record<string, readonly string[]> = { ...(config?.certs ?? {}) };
  const current = Object.hasOwn(certs, gun) ? (certs[gun] ?? []) : [];
  certs[gun] = current.includes(keyId) ? [...current] : [...current, keyId];
  return { ...config, certs };
}
