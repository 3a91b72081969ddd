/**
 * Test support: a throwaway token issuer that mints the bearer tokens distribution's token
 * server would (spec §7.3), so any test can exercise token auth end to end.
 *
 * It creates a root CA (the `rootcertbundle`), a leaf certificate signed by it (ECDSA P-256) and
 * an RSA leaf, plus a "stranger" CA that is *not* in the bundle. Tokens carry the signing chain
 * in `x5c` by default; `keyRef` selects `kid`, `jwk` or nothing instead.
 *
 * Not for production: keys live in memory, certificates are valid for a day around `now`.
 *
 * Example:
 *   const issuer = await createTestTokenIssuer();
 *   const token = issuer.mint({ access: [{ type: 'repository', name: 'a/b', actions: ['pull'] }] });
 *   await issuer.controller().authorized({ authorization: `Bearer ${token}`, host: undefined }, need);
 */
import { X509Certificate, createPublicKey, generateKeyPairSync, sign as cryptoSign, constants, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { buildCertificate } from './test-certs.ts';
import { TokenAccessController } from './token.ts';
import { libtrustKeyId } from './x509-chain.ts';

export interface MintAccess {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
  readonly class?: string;
}

export interface MintOptions {
  readonly access?: readonly MintAccess[];
  readonly iss?: string;
  /** Any JSON value (an array tests the single-string rule). */
  readonly aud?: unknown;
  readonly sub?: string;
  /** Seconds since epoch; null leaves the claim out. Default now+300. */
  readonly exp?: number | null;
  /** Seconds since epoch; null (default) leaves the claim out. */
  readonly nbf?: number | null;
  /** Which key signs: the EC leaf (default), the RSA leaf, the root itself, or the stranger CA. */
  readonly signer?: 'leaf' | 'rsa-leaf' | 'root' | 'stranger';
  /** How the key is named: full chain in x5c (default), libtrust kid, jwk, jwk with x5c, nothing. */
  readonly keyRef?: 'x5c' | 'kid' | 'jwk' | 'jwk-x5c' | 'none';
  /** Override the header alg (default ES256 for EC, RS256 for RSA). */
  readonly alg?: string;
  /** Replace the signature (base64url) — e.g. '' for an empty one. */
  readonly signature?: string;
}

export interface TestTokenIssuer {
  readonly issuer: string;
  readonly service: string;
  readonly realm: string;
  /** PEM of the root CA: the rootcertbundle content. */
  readonly rootCertPem: string;
  /** Clock (ms) the issuer was built around; tokens default to it. */
  readonly now: number;
  mint(opts?: MintOptions): string;
  writeRootBundle(file: string): Promise<void>;
  /** A controller trusting this issuer's root, with the issuer's clock unless given one. */
  controller(opts?: { now?: () => number; autoRedirect?: boolean }): TokenAccessController;
}

interface KeyedCert {
  readonly cert: X509Certificate;
  readonly key: KeyObject;
  readonly rsa: boolean;
}

export async function createTestTokenIssuer(
  opts: { issuer?: string; service?: string; realm?: string; now?: number } = {},
): Promise<TestTokenIssuer> {
  const now = opts.now ?? Date.now();
  const notBefore = new Date(now - 3600_000);
  const notAfter = new Date(now + 86400_000);
  let serial = 1;
  const ecKeys = (): { publicKey: KeyObject; privateKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: 'P-256' });

  const makeCa = (cn: string): KeyedCert => {
    const keys = ecKeys();
    const cert = buildCertificate({ serial: serial++, subject: cn, issuer: cn, publicKey: keys.publicKey, signingKey: keys.privateKey, notBefore, notAfter, ca: true });
    return { cert, key: keys.privateKey, rsa: false };
  };
  const makeLeaf = (ca: KeyedCert, cn: string, rsa: boolean): KeyedCert => {
    const keys = rsa ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : ecKeys();
    const cert = buildCertificate({
      serial: serial++,
      subject: cn,
      issuer: ca.cert.subject.replace(/^CN=/, ''),
      publicKey: keys.publicKey,
      signingKey: ca.key,
      notBefore,
      notAfter,
      ca: false,
    });
    return { cert, key: keys.privateKey, rsa };
  };

  const root = makeCa('vouch test token root');
  const leaf = makeLeaf(root, 'vouch test token signer', false);
  const rsaLeaf = makeLeaf(root, 'vouch test token signer rsa', true);
  const stranger = makeCa('stranger');

  const issuer = opts.issuer ?? 'vouch-test-issuer';
  const service = opts.service ?? 'vouch-test-service';
  const realm = opts.realm ?? 'https://auth.example.test/token';
  const rootCertPem = root.cert.toString();
  const der = (c: X509Certificate): string => c.raw.toString('base64');

  const mint = (m: MintOptions = {}): string => {
    const who = m.signer ?? 'leaf';
    const signer = who === 'leaf' ? leaf : who === 'rsa-leaf' ? rsaLeaf : who === 'root' ? root : stranger;
    const chain = [der(signer.cert)];
    const pub = createPublicKey(signer.key);
    const header: Record<string, unknown> = { typ: 'JWT', alg: m.alg ?? (signer.rsa ? 'RS256' : 'ES256') };
    switch (m.keyRef ?? 'x5c') {
      case 'x5c':
        header['x5c'] = chain;
        break;
      case 'kid':
        header['kid'] = libtrustKeyId(pub);
        break;
      case 'jwk':
        header['jwk'] = pub.export({ format: 'jwk' });
        break;
      case 'jwk-x5c':
        header['jwk'] = { ...pub.export({ format: 'jwk' }), x5c: chain };
        break;
      case 'none':
        break;
    }
    const nowSec = Math.floor(now / 1000);
    const claims: Record<string, unknown> = {
      iss: m.iss ?? issuer,
      sub: m.sub ?? 'alice',
      aud: m.aud ?? service,
      iat: nowSec,
      jti: `jti-${nowSec}`,
      access: (m.access ?? []).map((a) => ({ type: a.type, ...(a.class === undefined ? {} : { class: a.class }), name: a.name, actions: a.actions })),
    };
    if (m.exp !== null) claims['exp'] = m.exp ?? nowSec + 300;
    if (m.nbf !== undefined && m.nbf !== null) claims['nbf'] = m.nbf;
    const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc(header)}.${enc(claims)}`;
    const sig =
      m.signature ??
      cryptoSign('sha256', Buffer.from(input), signer.rsa ? { key: signer.key, padding: constants.RSA_PKCS1_PADDING } : { key: signer.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return `${input}.${sig}`;
  };

  return {
    issuer,
    service,
    realm,
    rootCertPem,
    now,
    mint,
    writeRootBundle: (file) => writeFile(file, rootCertPem),
    controller: (c = {}) =>
      new TokenAccessController({
        realm,
        service,
        issuer,
        autoRedirect: c.autoRedirect ?? false,
        roots: [new X509Certificate(rootCertPem)],
        now: c.now ?? (() => now),
      }),
  };
}
