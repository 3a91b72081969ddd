/**
 * `vouch server` with no `--config`: the first five minutes. Everything lives in one data dir
 * (`$VOUCH_DATA_DIR`, default `./vouch-data`):
 *
 *   notary-server.json   an ordinary notary-server config file, written once, editable
 *   trust.db             SQLite: metadata, changefeed and the server's sealed signing keys
 *   tls/ca.crt, ca.key   a private CA made on first start (keys 0600)
 *   tls/server.crt, .key the server certificate for 127.0.0.1 and localhost, signed by that CA
 *
 * Nothing is overwritten on later starts, so the CA that clients were told to trust stays.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generatePrivateKey, issueCertificate, privateKeyObject } from '../crypto/index.ts';
import type { PrivateKey } from '../crypto/types.ts';

export const DEFAULT_ADDR = '127.0.0.1:4443';

export interface DefaultServerFiles {
  readonly dataDir: string;
  readonly configFile: string;
  readonly caFile: string;
}

/** Create whatever is missing in `dataDir` and return where the config and the CA are. */
export async function prepareDefaultServer(dataDir: string): Promise<DefaultServerFiles> {
  const dir = resolve(dataDir);
  const tls = join(dir, 'tls');
  await mkdir(tls, { recursive: true, mode: 0o700 });
  const files = {
    caCert: join(tls, 'ca.crt'),
    caKey: join(tls, 'ca.key'),
    cert: join(tls, 'server.crt'),
    key: join(tls, 'server.key'),
  };
  if (!existsSync(files.caCert) || !existsSync(files.cert)) {
    const caKey = generatePrivateKey('ecdsa');
    const caPem = issueCertificate({ commonName: 'vouch local CA', key: caKey, ca: true, days: 3650 });
    const key = generatePrivateKey('ecdsa');
    const pem = issueCertificate({
      commonName: 'localhost',
      key,
      issuer: { pem: caPem, key: caKey },
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
    });
    await writeSecret(files.caKey, pemKey(caKey));
    await writeSecret(files.key, pemKey(key));
    await writeFile(files.caCert, caPem);
    await writeFile(files.cert, pem);
  }
  const configFile = join(dir, 'notary-server.json');
  if (!existsSync(configFile)) {
    const config = {
      server: { http_addr: DEFAULT_ADDR, tls_cert_file: 'tls/server.crt', tls_key_file: 'tls/server.key' },
      trust_service: { type: 'local', key_algorithm: 'ed25519' },
      storage: { backend: 'sqlite3', db_url: 'trust.db' },
      logging: { level: 'info' },
    };
    await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  }
  return { dataDir: dir, configFile, caFile: files.caCert };
}

/** What to tell a person who just started the default server. */
export function defaultServerHints(files: DefaultServerFiles, url: string): string[] {
  const hostPort = url.replace(/^https?:\/\//, '');
  return [
    `data dir: ${files.dataDir} (config: ${files.configFile})`,
    `CA certificate clients must trust: ${files.caFile}`,
    `  notary:  notary -s ${url} --tlscacert ${files.caFile} init -p <gun>`,
    `  docker:  mkdir -p ~/.docker/tls/${hostPort} && cp ${files.caFile} ~/.docker/tls/${hostPort}/ca.crt`,
    `           export DOCKER_CONTENT_TRUST_SERVER=${url}`,
  ];
}

function pemKey(key: PrivateKey): string {
  return privateKeyObject(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

async function writeSecret(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}
