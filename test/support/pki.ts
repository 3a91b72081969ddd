/**
 * Throwaway X.509 material for end-to-end tests, made with the `openssl` binary (peers.md).
 *
 * - `makePki(dir)`: a CA and a TLS server certificate for 127.0.0.1 and localhost.
 * - `makeDelegationKey(dir, name)`: an ECDSA P-256 key with a `PUBLIC KEY` PEM and a self-signed
 *   certificate, the two forms `notary delegation add` accepts.
 *
 * Nothing here is meant to be secure: keys are unencrypted and live in a temp dir per test.
 *
 * Example:
 *   const pki = await makePki(await tempDir('pki'));
 *   // pki.caFile → --tlscacert, pki.certFile/keyFile → server.tls_cert_file/tls_key_file
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  readonly dir: string;
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface DelegationKey {
  /** SEC1 `EC PRIVATE KEY` PEM, unencrypted (what `notary key import` takes). */
  readonly keyFile: string;
  /** `PUBLIC KEY` PEM (SPKI). */
  readonly pubFile: string;
  /** Self-signed certificate over the same key. */
  readonly certFile: string;
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd, timeout: 30_000 });
}

/** A fresh directory under the system temp dir; remove it with `removeDir`. */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `vouch-e2e-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A CA plus a server certificate valid for IP 127.0.0.1 and DNS localhost. */
export async function makePki(dir: string): Promise<Pki> {
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  await openssl(dir, 'req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '30', '-subj', '/CN=vouch-e2e-ca', '-out', 'ca.crt');
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
  await openssl(dir, 'req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr');
  await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-sha256', '-extfile', 'ext.cnf', '-out', 'server.crt');
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    caKeyFile: join(dir, 'ca.key'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
  };
}

/** An ECDSA delegation key `<name>.key`, its `<name>.pub` and a self-signed `<name>.crt` (CN=name). */
export async function makeDelegationKey(dir: string, name: string): Promise<DelegationKey> {
  const keyFile = join(dir, `${name}.key`);
  const pubFile = join(dir, `${name}.pub`);
  const certFile = join(dir, `${name}.crt`);
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile);
  await openssl(dir, 'ec', '-in', keyFile, '-pubout', '-out', pubFile);
  await openssl(dir, 'req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', '365', '-subj', `/CN=${name}`, '-out', certFile);
  return { keyFile, pubFile, certFile };
}

/**
 * A root key and certificate the way notary makes them (spec §3.1): self-signed, CN = GUN,
 * CA:FALSE, digitalSignature + keyEncipherment, codeSigning. Returns `<name>.key` / `<name>.crt`.
 */
export async function makeRootCert(dir: string, name: string, gun: string): Promise<{ keyFile: string; certFile: string }> {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const cnf = join(dir, `${name}.cnf`);
  await writeFile(
    cnf,
    '[req]\ndistinguished_name=dn\nx509_extensions=ext\nprompt=no\n[dn]\nCN=' +
      gun +
      '\n[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=codeSigning\n',
  );
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile);
  await openssl(dir, 'req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', '3650', '-config', cnf, '-out', certFile);
  return { keyFile, certFile };
}
