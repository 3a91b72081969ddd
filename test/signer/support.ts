/**
 * Signers for the signer tests: `vouch signer` (the system under test) and the real
 * `notary-signer` 0.7 (the reference), each on 127.0.0.1 with a port picked here, mutual TLS
 * with a throwaway CA, killed when the test process exits even if a test forgot to.
 *
 * - `makeSignerPki(dir)`: the CA and server certificate of test/support/pki.ts plus a client
 *   certificate (clientAuth) for the trust server, and a second CA that signed nothing we trust.
 * - `startSigner(kind, opts)`: write notary-signer's config, start, wait until both gRPC health
 *   services answer SERVING.
 *
 * Example:
 *   const pki = await makeSignerPki(dir);
 *   const signer = await startSigner('vouch', { dir, pki, backend: 'sqlite3' });
 *   try { … signer.port … } finally { await signer.stop(); }
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makePki, type Pki } from '../support/pki.ts';
import { freePort, VOUCH_BIN } from '../support/servers.ts';
import { Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import { RemoteCryptoService } from '../../src/signer/index.ts';
import { toBuffer, type UnaryMethod } from '../../src/signer/services.ts';

const run = promisify(execFile);

export interface SignerPki extends Pki {
  /** Client certificate (clientAuth) and key signed by the CA: what the trust server presents. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A client certificate from another CA: the signer must refuse it. */
  readonly strangerCertFile: string;
  readonly strangerKeyFile: string;
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd, timeout: 30_000 });
}

async function clientCert(dir: string, name: string, caCrt: string, caKey: string): Promise<void> {
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  await openssl(dir, 'req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
  await writeFile(join(dir, `${name}.cnf`), 'extendedKeyUsage=clientAuth\n');
  await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', caCrt, '-CAkey', caKey, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', `${name}.cnf`, '-out', `${name}.crt`);
}

export async function makeSignerPki(dir: string): Promise<SignerPki> {
  const pki = await makePki(dir);
  await clientCert(dir, 'trust-server', 'ca.crt', 'ca.key');
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'other-ca.key');
  await openssl(dir, 'req', '-x509', '-new', '-key', 'other-ca.key', '-sha256', '-days', '30', '-subj', '/CN=other-ca', '-out', 'other-ca.crt');
  await clientCert(dir, 'stranger', 'other-ca.crt', 'other-ca.key');
  return {
    ...pki,
    clientCertFile: join(dir, 'trust-server.crt'),
    clientKeyFile: join(dir, 'trust-server.key'),
    strangerCertFile: join(dir, 'stranger.crt'),
    strangerKeyFile: join(dir, 'stranger.key'),
  };
}

/** A RemoteCryptoService on a signer, authenticated with the trust server's client certificate. */
export function remoteFor(pki: SignerPki, port: number, opts: { callTimeoutMs?: number } = {}): RemoteCryptoService {
  return new RemoteCryptoService({
    hostname: '127.0.0.1',
    port,
    caCert: readFileSync(pki.caFile),
    clientCert: readFileSync(pki.clientCertFile),
    clientKey: readFileSync(pki.clientKeyFile),
    callTimeoutMs: opts.callTimeoutMs ?? 10_000,
    maxReconnectBackoffMs: 500,
  });
}

export type SignerKind = 'vouch' | 'notary';

export interface SignerOptions {
  readonly dir: string;
  readonly pki: SignerPki;
  /** Default memory. */
  readonly backend?: 'memory' | 'sqlite3' | 'postgres' | 'mysql';
  /** sqlite3 file; default `<dir>/signer.db`. */
  readonly dbFile?: string;
  /** db_url of a postgres or mysql backend. */
  readonly dbUrl?: string;
  /** storage.default_alias (SQL backends); default "alias1"; null: not in the config. */
  readonly defaultAlias?: string | null;
  /** Extra environment (e.g. NOTARY_SIGNER_ALIAS1). Default: NOTARY_SIGNER_ALIAS1 set. */
  readonly env?: Record<string, string>;
  readonly logLevel?: string;
  readonly port?: number;
  /** Name of the config file (to run several signers in one dir). */
  readonly name?: string;
}

export interface SignerHandle {
  readonly kind: SignerKind;
  readonly port: number;
  readonly configFile: string;
  readonly dbFile: string | undefined;
  output(): string;
  stop(): Promise<void>;
  /** Send a signal and wait for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Send a signal without waiting (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  /** Start again with the same config, port, database and environment. */
  restart(): Promise<void>;
}

export const ALIAS_PASSPHRASE = 'signer-alias-passphrase-1';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
});

/** Until both health services answer SERVING, or the deadline. */
async function waitHealthy(pki: SignerPki, port: number, deadline: number, exited: () => string | undefined, out: () => string): Promise<void> {
  const client = remoteFor(pki, port, { callTimeoutMs: 2000 });
  try {
    for (;;) {
      const why = exited();
      if (why !== undefined) throw new Error(`signer ${why} before becoming healthy\n--- output ---\n${out()}`);
      try {
        await client.checkHealth(2000);
        return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`signer on port ${port} did not become healthy\n--- output ---\n${out()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}

export async function startSigner(kind: SignerKind, opts: SignerOptions): Promise<SignerHandle> {
  const port = opts.port ?? (await freePort());
  const backend = opts.backend ?? 'memory';
  const dbFile = backend === 'sqlite3' ? (opts.dbFile ?? join(opts.dir, 'signer.db')) : undefined;
  const storage: Record<string, unknown> = { backend };
  const dbUrl = dbFile ?? opts.dbUrl;
  if (backend !== 'memory') {
    if (dbUrl === undefined) throw new Error(`startSigner: ${backend} needs dbUrl`);
    storage['db_url'] = dbUrl;
    if (opts.defaultAlias !== null) storage['default_alias'] = opts.defaultAlias ?? 'alias1';
  }
  const config = {
    server: {
      grpc_addr: `127.0.0.1:${port}`,
      tls_cert_file: opts.pki.certFile,
      tls_key_file: opts.pki.keyFile,
      client_ca_file: opts.pki.caFile,
    },
    logging: { level: opts.logLevel ?? 'info' },
    storage,
  };
  const configFile = join(opts.dir, `${opts.name ?? `${kind}-signer`}.json`);
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const [cmd, args] =
    kind === 'notary'
      ? ['notary-signer', ['-config', configFile, '-logf', 'logfmt']]
      : [process.execPath, ['--disable-warning=ExperimentalWarning', VOUCH_BIN, 'signer', '--config', configFile]];
  const env = { ...process.env, TZ: 'UTC', ...(opts.env ?? { NOTARY_SIGNER_ALIAS1: ALIAS_PASSPHRASE }) };

  let out = '';
  let child: ChildProcess | undefined;
  let exitInfo: string | undefined;
  let exited: Promise<void> = Promise.resolve();
  const launch = async (): Promise<void> => {
    exitInfo = undefined;
    const c = spawn(cmd, args, { cwd: opts.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    live.add(c);
    const append = (b: Buffer): void => {
      out = (out + b.toString('utf8')).slice(-200_000);
    };
    c.stdout?.on('data', append);
    c.stderr?.on('data', append);
    exited = new Promise((resolve) => {
      c.on('exit', (code, signal) => {
        exitInfo = `exited with code ${code} signal ${signal}`;
        live.delete(c);
        resolve();
      });
      c.on('error', (err) => {
        exitInfo = `failed to start: ${err.message}`;
        live.delete(c);
        resolve();
      });
    });
    try {
      await waitHealthy(opts.pki, port, Date.now() + 20_000, () => exitInfo, () => out);
    } catch (err) {
      c.kill('SIGKILL');
      await exited;
      throw err;
    }
  };
  await launch();
  return {
    kind,
    port,
    configFile,
    dbFile,
    output: () => out,
    async stop() {
      if (child === undefined || exitInfo !== undefined) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    async kill(signal) {
      if (child === undefined || exitInfo !== undefined) return;
      child.kill(signal);
      await exited;
    },
    signal(signal) {
      if (child !== undefined && exitInfo === undefined) child.kill(signal);
    },
    async restart() {
      if (exitInfo === undefined) throw new Error('restart: signer still running');
      await launch();
    },
  };
}

/** The `trust_service` section pointing a trust server at a signer. */
export function remoteTrustService(pki: SignerPki, port: number, keyAlgorithm = 'ecdsa'): Record<string, unknown> {
  return {
    type: 'remote',
    hostname: '127.0.0.1',
    port: String(port),
    key_algorithm: keyAlgorithm,
    tls_ca_file: pki.caFile,
    tls_client_cert: pki.clientCertFile,
    tls_client_key: pki.clientKeyFile,
  };
}

// ---------------------------------------------------------------- raw gRPC calls

export type Outcome<Res> = { ok: true; res: Res } | { ok: false; code: number; details: string };

export function call<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, req: Req): Promise<Outcome<Res>> {
  return new Promise((resolve) => {
    client.makeUnaryRequest<Req, Res>(
      method.path,
      (v) => toBuffer(method.encodeRequest(v)),
      (b) => method.decodeResponse(b),
      req,
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      (err: ServiceError | null, res?: Res) => {
        if (err !== null) resolve({ ok: false, code: err.code, details: err.details });
        else resolve({ ok: true, res: res as Res });
      },
    );
  });
}

/** A call whose request body is the given raw bytes. */
export function rawCall(client: Client, path: string, body: Uint8Array): Promise<Outcome<Buffer>> {
  return new Promise((resolve) => {
    client.makeUnaryRequest<Uint8Array, Buffer>(path, (v) => toBuffer(v), (b) => b, body, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
      if (err !== null) resolve({ ok: false, code: err.code, details: err.details });
      else resolve({ ok: true, res: res as Buffer });
    });
  });
}

export function expectOk<Res>(o: Outcome<Res>): Res {
  if (!o.ok) assert.fail(`expected OK, got code ${o.code}: ${o.details}`);
  return o.res;
}

export function expectStatus<Res>(o: Outcome<Res>, code: number, details?: string): void {
  assert.equal(o.ok, false, 'expected an error status');
  if (o.ok) return;
  assert.equal(o.code, code, `status code (details: ${o.details})`);
  if (details !== undefined) assert.equal(o.details, details);
}
