/**
 * Certificate policy used by root validation and delegation keys (spec §3.2, §3.3 step 4):
 * notary's `ValidateCertificate`, Go 1.19's `x509.Verify` for CA trust pinning, and turning a
 * certificate chain into an `ecdsa-x509`/`rsa-x509` TUF key.
 *
 * Deliberately not here: which certificates of a root are leaves, CN ↔ GUN matching and the
 * pinning rules themselves (src/tuf's root validation); this module answers single questions.
 */
import { CertificateError } from '../errors/index.ts';
import type { TufKey } from './types.ts';
import { certificateKeyInfo, KeyUsageBit, parseCertificateChain, type ParsedCertificate } from './x509-parse.ts';
import { checkCertSignature, isSha1SignatureAlgorithm } from './signature-algorithms.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const MIN_RSA_BITS = 2048;
/** Go's `maxChainSignatureChecks`. */
const MAX_SIGNATURE_CHECKS = 100;

/**
 * notary's `ValidateCertificate`: NotBefore must not be after NotAfter, no SHA-1 signature
 * algorithm, RSA keys ≥ 2048 bits; when `now` is given also not expired and not valid only
 * from more than one day in the future.
 * @throws CertificateError naming the certificate's CN
 */
export function checkCertificateValidity(cert: ParsedCertificate, opts: { now?: Date }): void {
  const cn = cert.commonName;
  if (cert.notBefore.getTime() > cert.notAfter.getTime()) {
    throw new CertificateError('certificate validity window is invalid');
  }
  if (isSha1SignatureAlgorithm(cert.signatureAlgorithm)) {
    throw new CertificateError(`certificate with CN ${cn} uses invalid SHA1 signature algorithm`);
  }
  if (cert.rsaModulusBits !== null && cert.rsaModulusBits < MIN_RSA_BITS) {
    throw new CertificateError('RSA bit length is too short');
  }
  if (opts.now !== undefined) {
    const now = opts.now.getTime();
    if (now + DAY_MS < cert.notBefore.getTime() || now > cert.notAfter.getTime()) {
      throw new CertificateError(`certificate with CN ${cn} is expired`);
    }
  }
}

/** True when the certificate expires within six months of `now` (notary only warns about it). */
export function isNearExpiry(cert: ParsedCertificate, now: Date): boolean {
  const limit = new Date(now.getTime());
  limit.setUTCMonth(limit.getUTCMonth() + 6);
  return cert.notAfter.getTime() < limit.getTime();
}

/**
 * The TUF key of a PEM certificate chain (leaf first): `ecdsa-x509` or `rsa-x509` by the leaf's
 * key, `public` = the chain re-encoded as Go's `pem.Encode` writes it (identical to well-formed
 * input; headers, CRLF and surrounding text are normalised away).
 * @throws CertificateError when the PEM holds no valid chain or the leaf key is neither ECDSA nor RSA
 */
export function certificateToTufKey(chainPem: string): TufKey {
  return certificatesToTufKey(parseCertificateChain(chainPem));
}

/** As `certificateToTufKey` for already-parsed certificates (notary's `CertBundleToKey`). */
export function certificatesToTufKey(chain: readonly ParsedCertificate[]): TufKey {
  const leaf = chain[0];
  if (leaf === undefined) throw new CertificateError('no valid certificates found');
  const kind = leaf.publicKey.keytype;
  if (kind !== 'ecdsa' && kind !== 'rsa') throw new CertificateError(`unsupported certificate key type ${kind}`);
  const pem = chain.map((c) => c.pem).join('');
  return { keytype: `${kind}-x509`, public: new TextEncoder().encode(pem) };
}

/**
 * Go 1.19 `leaf.Verify({Roots, Intermediates, CurrentTime: now})` with no key usages requested,
 * which means ExtKeyUsage serverAuth: true when some chain leaf → intermediates* → root exists
 * where every link is signed by its parent (a CA, with keyCertSign when KeyUsage is present,
 * not SHA-1/MD5), every certificate is within its validity period at `now`, no certificate has
 * an unhandled critical extension, path length limits hold, and every certificate that has an
 * ExtKeyUsage extension lists serverAuth or anyExtendedKeyUsage. A leaf that is itself one of
 * the roots forms a chain on its own. Name constraints are not evaluated.
 */
export function verifyChainToRoots(
  leaf: ParsedCertificate,
  intermediates: ParsedCertificate[],
  roots: ParsedCertificate[],
  now: Date,
): boolean {
  try {
    if (!isValidAt(leaf, 'leaf', [], now)) return false;
    const candidates = roots.some((r) => equalBytes(r.der, leaf.der))
      ? [[leaf]]
      : buildChains([leaf], { roots, intermediates, now, checks: { n: 0 } });
    return candidates.some((chain) => chainAllowsServerAuth(chain));
  } catch {
    return false;
  }
}

interface BuildContext {
  readonly roots: readonly ParsedCertificate[];
  readonly intermediates: readonly ParsedCertificate[];
  readonly now: Date;
  readonly checks: { n: number };
}

type CertRole = 'leaf' | 'intermediate' | 'root';

function buildChains(chain: ParsedCertificate[], ctx: BuildContext): ParsedCertificate[][] {
  const child = chain[chain.length - 1]!;
  const out: ParsedCertificate[][] = [];
  const consider = (role: 'root' | 'intermediate', candidate: ParsedCertificate): void => {
    if (chain.some((c) => equalBytes(c.der, candidate.der))) return;
    if (++ctx.checks.n > MAX_SIGNATURE_CHECKS) return;
    if (!checkSignatureFrom(child, candidate)) return;
    if (!isValidAt(candidate, role, chain, ctx.now)) return;
    const next = [...chain, candidate];
    if (role === 'root') out.push(next);
    else out.push(...buildChains(next, ctx));
  };
  for (const root of potentialParents(child, ctx.roots)) consider('root', root);
  for (const inter of potentialParents(child, ctx.intermediates)) consider('intermediate', inter);
  return out;
}

/** Go's `findPotentialParents`: subject = child's issuer, key-ID matches first. */
function potentialParents(child: ParsedCertificate, pool: readonly ParsedCertificate[]): ParsedCertificate[] {
  const seen = new Set<string>();
  const byName = pool.filter((c) => {
    const key = Buffer.from(c.der).toString('base64');
    if (seen.has(key) || !equalBytes(c.rawSubject, child.rawIssuer)) return false;
    seen.add(key);
    return true;
  });
  const rank = (c: ParsedCertificate): number => {
    const ski = c.subjectKeyId ?? new Uint8Array(0);
    const aki = child.authorityKeyId ?? new Uint8Array(0);
    if (equalBytes(ski, aki)) return 0;
    if ((ski.length === 0) !== (aki.length === 0)) return 1;
    return 2;
  };
  return byName.map((c, i) => [rank(c), i, c] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
}

/** Go's `CheckSignatureFrom`. */
function checkSignatureFrom(child: ParsedCertificate, parent: ParsedCertificate): boolean {
  if ((parent.version === 3 && !parent.basicConstraintsValid) || (parent.basicConstraintsValid && !parent.isCA)) return false;
  if (parent.keyUsage !== 0 && (parent.keyUsage & KeyUsageBit.CertSign) === 0) return false;
  const info = certificateKeyInfo(parent);
  if (info.kind === 'unknown') return false;
  return checkCertSignature(child.signatureAlgorithm, child.rawTbs, child.signatureValue, info);
}

/** Go's `isValid` without name constraints. `chain` holds the certificates below `cert`. */
function isValidAt(cert: ParsedCertificate, role: CertRole, chain: readonly ParsedCertificate[], now: Date): boolean {
  if (cert.hasUnhandledCriticalExtension) return false;
  const t = now.getTime();
  if (t < cert.notBefore.getTime() || t > cert.notAfter.getTime()) return false;
  if (role === 'intermediate' && (!cert.basicConstraintsValid || !cert.isCA)) return false;
  if (role !== 'leaf' && cert.basicConstraintsValid && cert.maxPathLen >= 0 && chain.length - 1 > cert.maxPathLen) return false;
  return true;
}

/** Go's `checkChainForKeyUsage` for the single requested usage serverAuth. */
function chainAllowsServerAuth(chain: readonly ParsedCertificate[]): boolean {
  return chain.every((c) => c.extKeyUsage === null || c.extKeyUsage.length === 0 || c.extKeyUsage.includes('any') || c.extKeyUsage.includes('serverAuth'));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
