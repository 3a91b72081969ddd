/**
 * Minting bearer tokens (the docker token spec's "Token Authentication Implementation"): a JWS
 * in compact form, ES256 over P-256 with the raw r‖s signature, header
 * `{"typ":"JWT","alg":"ES256","x5c":[<signing cert>, <intermediates>…]}` and claims
 * `iss, sub, aud, exp, nbf, iat, jti, access`. Verifiers (distribution's token controller,
 * notary-server, src/auth's TokenAccessController) trust it when the `x5c` chain ends at a
 * certificate of their `rootcertbundle`, which is `rootCertBundle` here.
 *
 * Signing material is an ECDSA P-256 key with a certificate issued by a CA: a CA of its own
 * (`createSigningMaterial()` makes one) or a CA the caller already runs. Material is plain PEM
 * so a composition root can keep it in its data dir. Tokens never outlive the signing
 * certificate: `exp` is cut to its `notAfter`. Renewal of the certificate is the caller's.
 *
 * Example:
 *   const material = createSigningMaterial();
 *   const issuer = new TokenIssuer({ issuer: 'vouch', material });
 *   const { token } = issuer.issue({ subject: 'alice', audience: 'vouch-registry', access: [] });
 *   await writeFile('token-root.crt', issuer.rootCertBundle);
 */
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import type { ResourceActions } from '../auth/index.ts';
import { parseCertBundle, verifyChain } from '../auth/index.ts';
import { generatePrivateKey, issueCertificate, privateKeyFromRaw, privateKeyObject } from '../crypto/index.ts';
import { ConfigError, StateError } from '../errors/index.ts';

/** Default token lifetime: five minutes, as distribution's reference token server. */
export const DEFAULT_TOKEN_TTL_SECONDS = 300;
const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 86_400;

export interface SigningMaterial {
  /** The ES256 signing key, PKCS#8 PEM. */
  readonly keyPem: string;
  /** The signing certificate first, then any intermediates, PEM. */
  readonly chainPem: string;
  /** What verifiers trust (the `rootcertbundle`), PEM. */
  readonly rootPem: string;
}

export interface CreateSigningOptions {
  /** Issue from this CA (PEM certificate and ECDSA key) instead of creating a token CA. */
  readonly ca?: { readonly certPem: string; readonly keyPem: string };
  /** Common name of the signing certificate (default `vouch token signer`). */
  readonly commonName?: string;
  readonly now?: Date;
  /** Lifetime of the signing certificate in days (default 365); a created CA gets 10 years. */
  readonly days?: number;
}

/**
 * A fresh P-256 signing key and its certificate.
 * @throws ConfigError when the given CA key is not an ECDSA key
 */
export function createSigningMaterial(opts: CreateSigningOptions = {}): SigningMaterial {
  let ca: { pem: string; key: ReturnType<typeof generatePrivateKey> };
  if (opts.ca === undefined) {
    const key = generatePrivateKey('ecdsa');
    ca = { key, pem: issueCertificate({ commonName: 'vouch token CA', key, ca: true, days: 3650, ...(opts.now === undefined ? {} : { now: opts.now }) }) };
  } else {
    let ko: KeyObject;
    try {
      ko = createPrivateKey(opts.ca.keyPem);
    } catch (err) {
      throw new ConfigError('token CA key does not parse', { cause: err });
    }
    if (ko.asymmetricKeyType !== 'ec') throw new ConfigError('token CA key must be an ECDSA key');
    ca = { pem: opts.ca.certPem, key: privateKeyFromRaw('ecdsa', ko.export({ format: 'der', type: 'sec1' })) };
  }
  const key = generatePrivateKey('ecdsa');
  const cert = issueCertificate({
    commonName: opts.commonName ?? 'vouch token signer',
    key,
    issuer: { pem: ca.pem, key: ca.key },
    days: opts.days ?? 365,
    ...(opts.now === undefined ? {} : { now: opts.now }),
  });
  return { keyPem: privateKeyObject(key).export({ type: 'pkcs8', format: 'pem' }) as string, chainPem: cert, rootPem: ca.pem };
}

export interface TokenIssuerOptions {
  /** The `iss` claim; verifiers are configured with the same string. */
  readonly issuer: string;
  readonly material: SigningMaterial;
  /** Token lifetime in seconds, 60..86400 (default 300). */
  readonly ttlSeconds?: number;
  /** Clock in ms since the epoch; default Date.now. */
  readonly now?: () => number;
}

export interface TokenClaimsInput {
  /** The `sub` claim: the user name, or '' for anonymous. */
  readonly subject: string;
  /** The `aud` claim: the service the token is for. */
  readonly audience: string;
  readonly access: readonly ResourceActions[];
}

export interface IssuedToken {
  readonly token: string;
  /** Seconds from `issuedAt` to `exp`. */
  readonly expiresIn: number;
  readonly issuedAt: Date;
  readonly jti: string;
}

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Signs tokens; stateless apart from its key, safe to share between requests. */
export class TokenIssuer {
  readonly issuer: string;
  readonly ttlSeconds: number;
  /** The PEM to give verifiers as `rootcertbundle`. */
  readonly rootCertBundle: string;
  readonly #key: KeyObject;
  readonly #x5c: readonly string[];
  readonly #leafNotAfter: number;
  readonly #now: () => number;

  /**
   * @throws ConfigError when the key is not P-256, does not belong to the first certificate of
   *   the chain, or the chain does not lead to a certificate of `rootPem`
   * @throws RangeError for a TTL outside 60..86400 seconds
   */
  constructor(opts: TokenIssuerOptions) {
    const ttl = opts.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < MIN_TTL_SECONDS || ttl > MAX_TTL_SECONDS) {
      throw new RangeError(`token TTL must be ${MIN_TTL_SECONDS}..${MAX_TTL_SECONDS} seconds, got ${ttl}`);
    }
    if (opts.issuer === '') throw new ConfigError('token issuer name must not be empty');
    this.issuer = opts.issuer;
    this.ttlSeconds = ttl;
    this.#now = opts.now ?? Date.now;
    let chain: X509Certificate[];
    let roots: X509Certificate[];
    try {
      this.#key = createPrivateKey(opts.material.keyPem);
      chain = parseCertBundle(opts.material.chainPem);
      roots = parseCertBundle(opts.material.rootPem);
    } catch (err) {
      throw new ConfigError('token signing material does not parse', { cause: err });
    }
    const [leaf, ...intermediates] = chain;
    if (this.#key.asymmetricKeyType !== 'ec' || this.#key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new ConfigError('token signing key must be ECDSA P-256 (ES256)');
    }
    if (leaf === undefined || !leaf.checkPrivateKey(this.#key)) throw new ConfigError('token signing key does not match the first certificate of the chain');
    if (roots.length === 0 || !verifyChain(leaf, intermediates, roots, new Date(this.#now()))) {
      throw new ConfigError('token signing certificate does not chain to the root bundle at the current time');
    }
    this.#x5c = chain.map((c) => c.raw.toString('base64'));
    this.#leafNotAfter = (leaf.validToDate ?? new Date(leaf.validTo)).getTime();
    this.rootCertBundle = roots.map((c) => c.toString()).join('');
  }

  /**
   * A signed token for `input`.
   * @throws StateError once the signing certificate has expired
   */
  issue(input: TokenClaimsInput): IssuedToken {
    const nowMs = this.#now();
    const iat = Math.floor(nowMs / 1000);
    const exp = Math.min(iat + this.ttlSeconds, Math.floor(this.#leafNotAfter / 1000));
    if (exp <= iat) throw new StateError('the token signing certificate has expired');
    const jti = randomBytes(16).toString('base64url');
    const header = { typ: 'JWT', alg: 'ES256', x5c: this.#x5c };
    const claims = {
      iss: this.issuer,
      sub: input.subject,
      aud: input.audience,
      exp,
      nbf: iat,
      iat,
      jti,
      access: input.access.map((a) => ({ type: a.type, ...(a.class === '' ? {} : { class: a.class }), name: a.name, actions: [...a.actions] })),
    };
    const signingInput = `${b64url(header)}.${b64url(claims)}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key: this.#key, dsaEncoding: 'ieee-p1363' });
    return { token: `${signingInput}.${signature.toString('base64url')}`, expiresIn: exp - iat, issuedAt: new Date(iat * 1000), jti };
  }
}
