/**
 * The data dir of `vouch serve` (`--data-dir`, `$VOUCH_DATA_DIR`, default `./vouch-data`):
 *
 *   vouch.db               SQLite: trust metadata and changefeed, the server's sealed signing
 *                          keys, users/grants/identity tokens (token_*), policy settings (policy_*);
 *                          absent with `--db` (PostgreSQL or MySQL hold those tables instead)
 *   vouch.db.passphrase    the generated key passphrase, when VOUCH_SERVER_KEY_PASSPHRASE is unset
 *                          (whatever the database: the keys sealed with it are in the database)
 *   registry/              blobs, manifests, tags, upload sessions (all of the registry's state)
 *   tls/ca.crt, ca.key     a private CA made on first start (keys 0600): what clients trust
 *   tls/server.crt, .key   the server certificate: 127.0.0.1, ::1, localhost and every --hostname
 *   tls/token.crt, .key    the token signing certificate, issued by the same CA
 *   audit.log              content-trust decisions, one JSON line each
 *   initial-admin-password the first admin's generated password (0600)
 *
 * Nothing that exists is replaced, except the server certificate when it no longer names every
 * host the server is configured for: a new one is then issued by the same CA, so clients keep
 * trusting it. The tls/ names are those of `vouch server`'s zero-configuration data dir, so the
 * same CA serves both.
 *
 * Several instances may share one data dir (on a shared filesystem, with `--db` on one
 * PostgreSQL or MySQL database): preparing it holds a lock directory (`.prepare.lock`, taken
 * with mkdir, given up after 60 s if its holder died), so instances starting together make one
 * CA, one token key and one passphrase, and every instance reads the same ones.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import { generatePrivateKey, issueCertificate, privateKeyFromRaw, privateKeyObject } from '../crypto/index.ts';
import type { PrivateKey } from '../crypto/types.ts';
import { createSigningMaterial, type SigningMaterial } from '../token/index.ts';

export interface ServeFiles {
  readonly dataDir: string;
  readonly dbFile: string;
  readonly registryDir: string;
  readonly auditFile: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly adminPasswordFile: string;
  /** Where a generated key passphrase is kept (`serveKeyPassphrase`). */
  readonly passphraseFile: string;
  readonly tokenMaterial: SigningMaterial;
}

const LOCAL_NAMES = ['localhost', '127.0.0.1', '::1'];

/** Create whatever is missing in `dataDir`; `hostnames` are extra names (DNS or IP) for the certificate. */
export async function prepareServeDataDir(dataDir: string, hostnames: readonly string[]): Promise<ServeFiles> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withDirLock(join(dir, '.prepare.lock'), () => prepareLocked(dir, hostnames));
}

async function prepareLocked(dir: string, hostnames: readonly string[]): Promise<ServeFiles> {
  const tls = join(dir, 'tls');
  await mkdir(tls, { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'registry'), { recursive: true, mode: 0o700 });
  const f = {
    caCert: join(tls, 'ca.crt'),
    caKey: join(tls, 'ca.key'),
    cert: join(tls, 'server.crt'),
    key: join(tls, 'server.key'),
    tokenCert: join(tls, 'token.crt'),
    tokenKey: join(tls, 'token.key'),
  };
  let ca: { pem: string; key: PrivateKey };
  if (!existsSync(f.caCert) || !existsSync(f.caKey)) {
    const key = generatePrivateKey('ecdsa');
    ca = { key, pem: issueCertificate({ commonName: 'vouch local CA', key, ca: true, days: 3650 }) };
    await writeSecret(f.caKey, pemKey(key));
    await writeFile(f.caCert, ca.pem);
  } else {
    ca = { pem: await readFile(f.caCert, 'utf8'), key: loadEcKey(await readFile(f.caKey, 'utf8')) };
  }

  const names = [...new Set([...LOCAL_NAMES, ...hostnames])];
  if (!existsSync(f.cert) || !existsSync(f.key) || !covers(await readFile(f.cert, 'utf8'), names)) {
    const key = generatePrivateKey('ecdsa');
    const pem = issueCertificate({
      commonName: hostnames[0] ?? 'localhost',
      key,
      issuer: ca,
      dnsNames: names.filter((n) => isIP(n) === 0),
      ipAddresses: names.filter((n) => isIP(n) !== 0),
    });
    await writeSecret(f.key, pemKey(key));
    await writeFile(f.cert, pem);
  }

  let tokenMaterial: SigningMaterial;
  if (!existsSync(f.tokenCert) || !existsSync(f.tokenKey) || expiresWithinDays(await readFile(f.tokenCert, 'utf8'), 30)) {
    tokenMaterial = createSigningMaterial({ ca: { certPem: ca.pem, keyPem: pemKey(ca.key) }, commonName: 'vouch token signer' });
    await writeSecret(f.tokenKey, tokenMaterial.keyPem);
    await writeFile(f.tokenCert, tokenMaterial.chainPem);
  } else {
    tokenMaterial = { keyPem: await readFile(f.tokenKey, 'utf8'), chainPem: await readFile(f.tokenCert, 'utf8'), rootPem: ca.pem };
  }

  return {
    dataDir: dir,
    dbFile: join(dir, 'vouch.db'),
    registryDir: join(dir, 'registry'),
    auditFile: join(dir, 'audit.log'),
    caFile: f.caCert,
    certFile: f.cert,
    keyFile: f.key,
    adminPasswordFile: join(dir, 'initial-admin-password'),
    passphraseFile: join(dir, 'vouch.db.passphrase'),
    tokenMaterial,
  };
}

const LOCK_STALE_MS = 60_000;

/** Runs `fn` holding the lock directory `lock` (mkdir is atomic, also on NFS). */
async function withDirLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const since = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (since > LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, wait));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/**
 * The passphrase sealing the server's signing keys: `given` (VOUCH_SERVER_KEY_PASSPHRASE) when
 * set, else the one kept in the data dir, made on first use. It is written whole under a
 * temporary name and then linked into place, so an instance starting at the same moment either
 * wins or reads the winner's — never a half-written or a second passphrase.
 * @returns the passphrase and whether it was generated now
 */
export async function serveKeyPassphrase(files: ServeFiles, given: string | undefined): Promise<{ passphrase: string; generated: boolean }> {
  if (given !== undefined && given !== '') return { passphrase: given, generated: false };
  const existing = await readPassphrase(files.passphraseFile);
  if (existing !== null) return { passphrase: existing, generated: false };
  const passphrase = randomBytes(32).toString('base64');
  const tmp = `${files.passphraseFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeSecret(tmp, `${passphrase}\n`);
  try {
    await link(tmp, files.passphraseFile);
    return { passphrase, generated: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = await readPassphrase(files.passphraseFile);
    if (theirs === null) throw new ConfigError(`${files.passphraseFile} is empty: remove it, or set VOUCH_SERVER_KEY_PASSPHRASE`, { cause: err });
    return { passphrase: theirs, generated: false };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function readPassphrase(file: string): Promise<string | null> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text === '' ? null : text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** True when the certificate names every host in `names` (DNS or IP SANs). */
function covers(certPem: string, names: readonly string[]): boolean {
  const san = new X509Certificate(certPem).subjectAltName ?? '';
  const have = new Set(san.split(', ').map((e) => e.replace(/^(DNS|IP Address):/, '').toLowerCase()));
  return names.every((n) => have.has(n.toLowerCase()) || (n === '::1' && have.has('0:0:0:0:0:0:0:1')));
}

function expiresWithinDays(certPem: string, days: number): boolean {
  return new Date(new X509Certificate(certPem).validTo).getTime() < Date.now() + days * 86_400_000;
}

function loadEcKey(pem: string): PrivateKey {
  return privateKeyFromRaw('ecdsa', createPrivateKey(pem).export({ format: 'der', type: 'sec1' }));
}

export function pemKey(key: PrivateKey): string {
  return privateKeyObject(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

export async function writeSecret(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}
