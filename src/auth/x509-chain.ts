/**
 * Certificate handling for token auth (distribution's token controller, spec §7.3):
 * - `loadRootCertBundle`: every CERTIFICATE block of the `rootcertbundle` file;
 * - `verifyChain`: Go's `x509.Certificate.Verify` as the controller calls it (any EKU): the leaf
 *   and every certificate on the path must be within validity at `now`, intermediates must be
 *   CAs, each link must be issued and signed by the next, and the path must end at a root of the
 *   bundle; a leaf that is itself in the bundle is trusted directly;
 * - `libtrustKeyId`: the libtrust fingerprint used as `kid` (SHA-256 of the DER SPKI, first 240
 *   bits, base32 without padding, groups of four joined by `:`).
 *
 * Not done: revocation, name constraints, key-usage bits of issuers (Go ignores those too).
 */
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors/index.ts';

const MAX_CHAIN_DEPTH = 10;

/** Parse every `CERTIFICATE` PEM block; other block types are skipped (as distribution does). */
export function parseCertBundle(pem: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of pem.matchAll(re)) {
    if (m[1] !== 'CERTIFICATE') continue;
    const der = Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64');
    out.push(new X509Certificate(der));
  }
  return out;
}

/**
 * Read the token signing roots.
 * @throws ConfigError when the file is unreadable, a certificate does not parse, or there is none
 */
export async function loadRootCertBundle(file: string): Promise<X509Certificate[]> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`unable to open token auth root certificate bundle file ${JSON.stringify(file)}: ${(err as Error).message}`, { cause: err });
  }
  let certs: X509Certificate[];
  try {
    certs = parseCertBundle(pem);
  } catch (err) {
    throw new ConfigError(`unable to parse token auth root certificate: ${(err as Error).message}`, { cause: err });
  }
  if (certs.length === 0) throw new ConfigError('token auth requires at least one token signing root certificate');
  return certs;
}

function validAt(cert: X509Certificate, now: Date): boolean {
  const from = cert.validFromDate ?? new Date(cert.validFrom);
  const to = cert.validToDate ?? new Date(cert.validTo);
  return now.getTime() >= from.getTime() && now.getTime() <= to.getTime();
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/** True when `leaf` (with `intermediates`) chains to one of `roots` at `now`. */
export function verifyChain(leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date): boolean {
  if (!validAt(leaf, now)) return false;
  if (roots.some((r) => r.raw.equals(leaf.raw))) return true;
  const search = (cert: X509Certificate, depth: number, seen: Set<X509Certificate>): boolean => {
    if (depth > MAX_CHAIN_DEPTH) return false;
    for (const root of roots) {
      if (validAt(root, now) && issuedBy(cert, root)) return true;
    }
    for (const inter of intermediates) {
      if (seen.has(inter) || !inter.ca || !validAt(inter, now) || !issuedBy(cert, inter)) continue;
      seen.add(inter);
      if (search(inter, depth + 1, seen)) return true;
      seen.delete(inter);
    }
    return false;
  };
  return search(leaf, 0, new Set());
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32NoPad(b: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]!;
  return out;
}

/** libtrust's key ID of a public key. */
export function libtrustKeyId(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  const s = base32NoPad(createHash('sha256').update(der).digest().subarray(0, 30));
  const groups: string[] = [];
  for (let i = 0; i < s.length; i += 4) groups.push(s.slice(i, i + 4));
  return groups.join(':');
}
