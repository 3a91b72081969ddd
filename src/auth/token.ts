/**
 * Bearer-token access control for `auth.type: token` (distribution 2.x's token controller as
 * Debian's notary-server links it; spec §7.2–7.3).
 *
 * A request is refused with a challenge when:
 * - there is no `Authorization: Bearer <token>` header (exactly two space-separated parts,
 *   scheme case-insensitive) → no `error=` parameter;
 * - the token is malformed or does not verify → `error="invalid_token"`. Checks, in
 *   distribution's order: `iss` equals the issuer, `aud` (a single JSON string) equals the
 *   service, `exp` and `nbf` with 60 s leeway (a missing `exp` is 0, i.e. expired), a non-empty
 *   signature, a trusted signing key (`x5c` chaining to the root bundle, a `jwk` that is a
 *   bundle key or carries its own chain, or a `kid` naming a bundle key), and the signature
 *   (ES256/384/512 on the matching curve with raw r‖s, RS256/384/512 PKCS#1 v1.5);
 * - a valid token lacks a required action (a `*` action grants any) → `error="insufficient_scope"`.
 *
 * The challenge is `Bearer realm="…",service="…",scope="…"[,error="…"]` (Go `%q` quoting);
 * with `autoredirect` the realm becomes `https://<Host>/auth/token`.
 *
 * Example:
 *   const ac = await TokenAccessController.create(config.auth);
 *   await ac.authorized({ authorization, host }, repositoryAccess(gun, ['pull']));
 */
import { createPublicKey, verify as cryptoVerify, X509Certificate, constants, type JsonWebKey, type KeyObject } from 'node:crypto';
import { goQuote } from '../http/index.ts';
import { AuthChallengeError, grantsCover, scopeParam, type Access, type AccessController, type AuthRequest, type ChallengeReason, type Grant, type ResourceActions } from './access.ts';
import { libtrustKeyId, loadRootCertBundle, verifyChain } from './x509-chain.ts';

/** Clock skew tolerated on `exp`/`nbf` (distribution's Leeway). */
export const TOKEN_LEEWAY_SECONDS = 60;

/** The `auth.options` of a token config (structurally the config module's TokenAuthConfig). */
export interface TokenAuthSettings {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly rootCertBundle: string;
  readonly autoRedirect: boolean;
}

export interface TokenControllerOptions {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly autoRedirect?: boolean;
  readonly roots: readonly X509Certificate[];
  /** Injected clock (ms since epoch); default Date.now. */
  readonly now?: () => number;
}

interface TokenHeader {
  readonly alg: string;
  readonly kid: string;
  readonly x5c: readonly string[];
  readonly jwk: Record<string, unknown> | undefined;
}

interface TokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly exp: number;
  readonly nbf: number;
  readonly access: readonly ResourceActions[];
}

class TokenRejected extends Error {}

export class TokenAccessController implements AccessController {
  readonly #opts: TokenControllerOptions;
  readonly #trustedKeys: Map<string, KeyObject>;

  constructor(opts: TokenControllerOptions) {
    this.#opts = opts;
    this.#trustedKeys = new Map(opts.roots.map((c) => [libtrustKeyId(c.publicKey), c.publicKey]));
  }

  /**
   * Build from the server config, reading the root certificate bundle.
   * @throws ConfigError when the bundle is unreadable or holds no certificate
   */
  static async create(config: TokenAuthSettings, now?: () => number): Promise<TokenAccessController> {
    const roots = await loadRootCertBundle(config.rootCertBundle);
    return new TokenAccessController({
      realm: config.realm,
      service: config.service,
      issuer: config.issuer,
      autoRedirect: config.autoRedirect,
      roots,
      ...(now === undefined ? {} : { now }),
    });
  }

  async authorized(req: AuthRequest, access: readonly Access[]): Promise<Grant> {
    const parts = (req.authorization ?? '').split(' ');
    if (parts.length !== 2 || parts[0]!.toLowerCase() !== 'bearer') {
      throw this.#challenge('token_required', access, req, 'authentication required');
    }
    let claims: TokenClaims;
    try {
      claims = this.#verify(parts[1]!);
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      throw this.#challenge('invalid_token', access, req, `invalid token: ${err.message}`);
    }
    for (const need of access) {
      if (!grantsCover(claims.access, need)) {
        throw this.#challenge('insufficient_scope', access, req, `insufficient scope: ${need.type}:${need.name}:${need.action}`);
      }
    }
    return { subject: claims.sub, access: claims.access };
  }

  #challenge(reason: ChallengeReason, access: readonly Access[], req: AuthRequest, message: string): AuthChallengeError {
    const realm = this.#opts.autoRedirect === true ? `https://${req.host ?? ''}/auth/token` : this.#opts.realm;
    let header = `Bearer realm=${goQuote(realm)},service=${goQuote(this.#opts.service)}`;
    const scope = scopeParam(access);
    if (scope !== '') header += `,scope=${goQuote(scope)}`;
    if (reason !== 'token_required') header += `,error=${goQuote(reason)}`;
    return new AuthChallengeError(reason, access, header, message);
  }

  #verify(raw: string): TokenClaims {
    const parts = raw.split('.');
    if (parts.length !== 3) throw new TokenRejected('malformed token');
    const header = parseHeader(decodeJson(parts[0]!, 'header'));
    const claims = parseClaims(decodeJson(parts[1]!, 'claims'));
    const signature = joseBase64UrlDecode(parts[2]!, 'signature');

    if (claims.iss !== this.#opts.issuer) throw new TokenRejected(`untrusted issuer ${JSON.stringify(claims.iss)}`);
    if (claims.aud !== this.#opts.service) throw new TokenRejected(`audience ${JSON.stringify(claims.aud)} not accepted`);
    const nowSec = (this.#opts.now ?? Date.now)() / 1000;
    if (nowSec > claims.exp + TOKEN_LEEWAY_SECONDS) throw new TokenRejected('token expired');
    if (nowSec < claims.nbf - TOKEN_LEEWAY_SECONDS) throw new TokenRejected('token not yet valid');
    if (signature.length === 0) throw new TokenRejected('empty signature');
    const key = this.#signingKey(header, new Date(nowSec * 1000));
    if (!verifySignature(key, header.alg, Buffer.from(`${parts[0]}.${parts[1]}`), signature)) {
      throw new TokenRejected('bad signature');
    }
    return claims;
  }

  #signingKey(header: TokenHeader, now: Date): KeyObject {
    if (header.x5c.length > 0) return this.#chainKey(header.x5c, now);
    if (header.jwk !== undefined) {
      let key: KeyObject;
      try {
        key = createPublicKey({ key: header.jwk as JsonWebKey, format: 'jwk' });
      } catch {
        throw new TokenRejected('unparsable jwk');
      }
      const id = libtrustKeyId(key);
      if (typeof header.jwk['kid'] === 'string' && header.jwk['kid'] !== id) throw new TokenRejected('jwk kid does not match its key');
      const x5c = header.jwk['x5c'];
      if (!Array.isArray(x5c)) {
        if (!this.#trustedKeys.has(id)) throw new TokenRejected('untrusted JWK with no certificate chain');
        return key;
      }
      if (!x5c.every((c) => typeof c === 'string')) throw new TokenRejected('jwk x5c is not a list of strings');
      const leafKey = this.#chainKey(x5c as string[], now);
      if (libtrustKeyId(leafKey) !== id) throw new TokenRejected('leaf certificate public key ID does not match JWK key ID');
      return key;
    }
    if (header.kid !== '') {
      const key = this.#trustedKeys.get(header.kid);
      if (key === undefined) throw new TokenRejected(`token signed by untrusted key with ID: ${JSON.stringify(header.kid)}`);
      return key;
    }
    throw new TokenRejected('unable to get token signing key');
  }

  #chainKey(x5c: readonly string[], now: Date): KeyObject {
    let certs: X509Certificate[];
    try {
      certs = x5c.map((b64) => new X509Certificate(stdBase64Decode(b64)));
    } catch {
      throw new TokenRejected('unparsable x5c certificate');
    }
    const [leaf, ...intermediates] = certs;
    if (leaf === undefined || !verifyChain(leaf, intermediates, this.#opts.roots, now)) {
      throw new TokenRejected('unable to verify certificate chain');
    }
    return leaf.publicKey;
  }
}

/** Go's joseBase64UrlDecode: re-pad, then strict base64url. */
function joseBase64UrlDecode(s: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new TokenRejected(`unable to decode ${what}`);
  return Buffer.from(s, 'base64url');
}

function stdBase64Decode(s: string): Buffer {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) throw new TokenRejected('bad base64 in x5c');
  return Buffer.from(s, 'base64');
}

function decodeJson(s: string, what: string): unknown {
  try {
    return JSON.parse(joseBase64UrlDecode(s, what).toString('utf8'));
  } catch (err) {
    if (err instanceof TokenRejected) throw err;
    throw new TokenRejected(`unable to unmarshal ${what}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go struct decoding: absent/null fields are zero values, wrong JSON types fail. */
function field<T>(o: Record<string, unknown>, key: string, check: (v: unknown) => v is T, zero: T, what: string): T {
  const v = o[key];
  if (v === undefined || v === null) return zero;
  if (!check(v)) throw new TokenRejected(`${what}.${key} has the wrong type`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

function parseHeader(v: unknown): TokenHeader {
  if (v === null) return { alg: '', kid: '', x5c: [], jwk: undefined };
  if (!isObject(v)) throw new TokenRejected('header is not an object');
  field(v, 'typ', isString, '', 'header');
  const jwk = v['jwk'];
  if (jwk !== undefined && jwk !== null && !isObject(jwk)) throw new TokenRejected('header.jwk is not an object');
  return {
    alg: field(v, 'alg', isString, '', 'header'),
    kid: field(v, 'kid', isString, '', 'header'),
    x5c: field(v, 'x5c', isStringList, [] as string[], 'header'),
    jwk: jwk === undefined || jwk === null ? undefined : (jwk as Record<string, unknown>),
  };
}

function parseClaims(v: unknown): TokenClaims {
  if (v === null) return { iss: '', sub: '', aud: '', exp: 0, nbf: 0, access: [] };
  if (!isObject(v)) throw new TokenRejected('claims are not an object');
  field(v, 'iat', isInt, 0, 'claims');
  field(v, 'jti', isString, '', 'claims');
  const rawAccess = field(v, 'access', Array.isArray, [] as unknown[], 'claims');
  const access: ResourceActions[] = [];
  for (const a of rawAccess) {
    if (a === null) continue;
    if (!isObject(a)) throw new TokenRejected('claims.access entry is not an object');
    access.push({
      type: field(a, 'type', isString, '', 'access'),
      class: field(a, 'class', isString, '', 'access'),
      name: field(a, 'name', isString, '', 'access'),
      actions: field(a, 'actions', isStringList, [] as string[], 'access'),
    });
  }
  return {
    iss: field(v, 'iss', isString, '', 'claims'),
    sub: field(v, 'sub', isString, '', 'claims'),
    aud: field(v, 'aud', isString, '', 'claims'),
    exp: field(v, 'exp', isInt, 0, 'claims'),
    nbf: field(v, 'nbf', isInt, 0, 'claims'),
    access,
  };
}

const EC_ALGS: Readonly<Record<string, { curve: string; hash: string; size: number }>> = {
  ES256: { curve: 'prime256v1', hash: 'sha256', size: 64 },
  ES384: { curve: 'secp384r1', hash: 'sha384', size: 96 },
  ES512: { curve: 'secp521r1', hash: 'sha512', size: 132 },
};
const RSA_ALGS: Readonly<Record<string, string>> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

/** libtrust's Verify: the algorithm must fit the key (curve-bound for EC). */
function verifySignature(key: KeyObject, alg: string, data: Buffer, sig: Buffer): boolean {
  try {
    if (key.asymmetricKeyType === 'ec') {
      const ec = EC_ALGS[alg];
      if (ec === undefined || key.asymmetricKeyDetails?.namedCurve !== ec.curve || sig.length !== ec.size) return false;
      return cryptoVerify(ec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
    }
    if (key.asymmetricKeyType === 'rsa') {
      const hash = RSA_ALGS[alg];
      if (hash === undefined) return false;
      return cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
    }
  } catch {
    return false;
  }
  return false;
}
