import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import { loadServerConfig, parseServerConfig, parseListenAddress, DEFAULT_MAX_UPLOAD_BYTES } from './server-config.ts';

const NO_ENV = {};
const MIN = { server: { http_addr: '127.0.0.1:4443' } };

function errorsOf(raw: unknown, env: Record<string, string> = {}): string {
  try {
    parseServerConfig(raw, { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

test('defaults: local ed25519, memory, error level, notary cache ages, no auth, 100 MiB uploads', () => {
  const c = parseServerConfig(MIN, { env: NO_ENV });
  assert.equal(c.server.httpAddr, '127.0.0.1:4443');
  assert.equal(c.server.tls, null);
  assert.equal(c.server.maxUploadBytes, DEFAULT_MAX_UPLOAD_BYTES);
  assert.deepEqual(c.trustService, {
    type: 'local', keyAlgorithm: 'ed25519', hostname: null, port: null, tlsCaFile: null, tlsClientCert: null, tlsClientKey: null, keyPassphrase: null,
  });
  assert.deepEqual(c.storage, { backend: 'memory', dbUrl: null });
  assert.equal(c.logging.level, 'error');
  assert.deepEqual(c.caching.maxAge, { currentMetadata: 300, consistentMetadata: 2592000 });
  assert.deepEqual(c.repositories.gunPrefixes, []);
  assert.equal(c.auth, null);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.caching.maxAge) && Object.isFrozen(c.repositories.gunPrefixes));
});

test('the peers.md config and notary fixture shapes load (local ignores key_algorithm, remote needs host/port)', () => {
  const c = parseServerConfig(
    {
      server: { http_addr: '127.0.0.1:4443', tls_key_file: '/k/server.key', tls_cert_file: '/k/server.crt' },
      trust_service: { type: 'local', key_algorithm: 'ecdsa' },
      logging: { level: 'warn' },
      storage: { backend: 'memory' },
    },
    { env: NO_ENV },
  );
  assert.deepEqual(c.server.tls, { certFile: '/k/server.crt', keyFile: '/k/server.key', clientCaFile: null });
  assert.equal(c.trustService.keyAlgorithm, 'ed25519');
  assert.equal(c.logging.level, 'warn');
  const r = parseServerConfig(
    {
      server: { http_addr: ':4443' },
      trust_service: { type: 'remote', hostname: 'notarysigner', port: '7899', key_algorithm: 'ecdsa', tls_ca_file: '/ca.crt' },
      storage: { backend: 'mysql', db_url: 'server@tcp(mysql:3306)/notaryserver?parseTime=True' },
      reporting: { bugsnag: { api_key: 'x', release_stage: 'y' } },
    },
    { env: NO_ENV },
  );
  assert.equal(r.trustService.port, 7899);
  assert.equal(r.trustService.keyAlgorithm, 'ecdsa');
  assert.equal(r.storage.backend, 'mysql');
  assert.match(r.warnings.join('\n'), /bugsnag/);
});

test('keys are case-insensitive as with viper', () => {
  const c = parseServerConfig({ Server: { HTTP_Addr: ':1' }, Logging: { Level: 'DEBUG' } }, { env: NO_ENV });
  assert.equal(c.server.httpAddr, ':1');
  assert.equal(c.logging.level, 'debug');
});

test('env overrides NOTARY_SERVER_<PATH> win over the file; VOUCH_SERVER_KEY_PASSPHRASE sets the passphrase', () => {
  const c = parseServerConfig(
    { ...MIN, storage: { backend: 'sqlite3', db_url: '/a.db' }, trust_service: { key_passphrase: 'file' } },
    {
      env: {
        NOTARY_SERVER_STORAGE_DB_URL: '/b.db',
        NOTARY_SERVER_LOGGING_LEVEL: 'info',
        NOTARY_SERVER_CACHING_MAX_AGE_CURRENT_METADATA: '0',
        NOTARY_SERVER_REPOSITORIES_GUN_PREFIXES: 'docker.io/ quay.io/',
        NOTARY_SERVER_SERVER_HTTP_ADDR: '',
        VOUCH_SERVER_KEY_PASSPHRASE: 'env',
      },
    },
  );
  assert.equal(c.storage.dbUrl, '/b.db');
  assert.equal(c.logging.level, 'info');
  assert.equal(c.caching.maxAge.currentMetadata, 0);
  assert.deepEqual(c.repositories.gunPrefixes, ['docker.io/', 'quay.io/']);
  assert.equal(c.server.httpAddr, '127.0.0.1:4443', 'an empty env var counts as unset');
  assert.equal(c.trustService.keyPassphrase, 'env');
  const p = parseServerConfig({ ...MIN, trust_service: { key_passphrase: 'file' } }, { env: NO_ENV });
  assert.equal(p.trustService.keyPassphrase, 'file');
});

test('env can supply keys absent from the file, including token auth options', () => {
  const c = parseServerConfig(
    {},
    {
      env: {
        NOTARY_SERVER_SERVER_HTTP_ADDR: ':4443',
        NOTARY_SERVER_AUTH_TYPE: 'token',
        NOTARY_SERVER_AUTH_OPTIONS_REALM: 'https://auth/token',
        NOTARY_SERVER_AUTH_OPTIONS_SERVICE: 'notary',
        NOTARY_SERVER_AUTH_OPTIONS_ISSUER: 'iss',
        NOTARY_SERVER_AUTH_OPTIONS_ROOTCERTBUNDLE: '/root.crt',
      },
    },
  );
  assert.deepEqual(c.auth, { type: 'token', realm: 'https://auth/token', service: 'notary', issuer: 'iss', rootCertBundle: '/root.crt', autoRedirect: false });
});

test('relative paths resolve against the config file directory (JSON and YAML)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-config-'));
  try {
    await writeFile(
      join(dir, 'server.json'),
      JSON.stringify({
        server: { http_addr: '127.0.0.1:4443', tls_cert_file: './tls/server.crt', tls_key_file: 'server.key', client_ca_file: '/abs/ca.crt' },
        storage: { backend: 'sqlite3', db_url: 'data/vouch.db' },
        auth: { type: 'token', options: { realm: 'r', service: 's', issuer: 'i', rootcertbundle: 'tok.crt', autoredirect: true } },
      }),
    );
    const c = await loadServerConfig(join(dir, 'server.json'), { env: { NOTARY_SERVER_SERVER_TLS_KEY_FILE: 'env.key' } });
    assert.deepEqual(c.server.tls, { certFile: join(dir, 'tls/server.crt'), keyFile: join(dir, 'env.key'), clientCaFile: '/abs/ca.crt' });
    assert.equal(c.storage.dbUrl, join(dir, 'data/vouch.db'));
    assert.equal(c.auth?.rootCertBundle, join(dir, 'tok.crt'));
    assert.equal(c.auth?.autoRedirect, true);
    assert.equal(c.configFile, join(dir, 'server.json'));

    await writeFile(join(dir, 'server.yaml'), 'server:\n  http_addr: ":4443"\ncaching:\n  max_age:\n    consistent_metadata: 60\nrepositories:\n  gun_prefixes: ["docker.io/"]\n');
    const y = await loadServerConfig(join(dir, 'server.yaml'), { env: NO_ENV });
    assert.equal(y.caching.maxAge.consistentMetadata, 60);
    assert.deepEqual(y.repositories.gunPrefixes, ['docker.io/']);

    await writeFile(join(dir, 'server.toml'), '');
    await assert.rejects(loadServerConfig(join(dir, 'server.toml'), { env: NO_ENV }), /unsupported config type "toml"/);
    await assert.rejects(loadServerConfig(join(dir, 'missing.json'), { env: NO_ENV }), ConfigError);
    await writeFile(join(dir, 'bad.json'), '{');
    await assert.rejects(loadServerConfig(join(dir, 'bad.json'), { env: NO_ENV }), /could not parse config/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every problem is reported at once with the key it concerns', () => {
  const msg = errorsOf({
    server: { tls_cert_file: 'c.crt', colour: 'blue' },
    storage: { backend: 'rethinkdb' },
    logging: { level: 'loud' },
    caching: { max_age: { current_metadata: 31536001, consistent_metadata: 'x' } },
    repositories: { gun_prefixes: ['docker.io', '/abs/', 'a/../b/'] },
    trust_service: { type: 'magic' },
    extra: 1,
  });
  for (const needle of [
    'http listen address required',
    'unknown key server.colour',
    'unknown key extra',
    'either include both a cert and key file',
    'rethinkdb is not supported',
    'not a valid log level: "loud"',
    'caching.max_age.current_metadata: must specify a cache-control max-age between 0 and 31536000',
    'caching.max_age.consistent_metadata must be an integer',
    'invalid GUN prefix docker.io ',
    'invalid GUN prefix /abs/',
    'invalid GUN prefix a/../b/',
    'must specify either a "local" or "remote" type',
  ]) {
    assert.ok(msg.includes(needle), `missing ${JSON.stringify(needle)} in:\n${msg}`);
  }
});

test('storage, remote signer and token auth validation', () => {
  assert.match(errorsOf({ ...MIN, storage: { backend: 'postgres' } }), /must provide a non-empty database source for postgres/);
  assert.match(errorsOf({ ...MIN, storage: { backend: 'redis' } }), /redis is not a supported storage backend/);
  assert.match(errorsOf({ ...MIN, trust_service: { type: 'remote', key_algorithm: 'dsa', hostname: 'h', port: 1 } }), /invalid key algorithm configured: dsa/);
  assert.match(errorsOf({ ...MIN, trust_service: { type: 'remote', key_algorithm: 'rsa' } }), /hostname: required[\s\S]*port: required/);
  assert.match(
    errorsOf({ ...MIN, trust_service: { type: 'remote', key_algorithm: 'rsa', hostname: 'h', port: 7899, tls_client_cert: 'c' } }),
    /either pass both client key and cert, or neither/,
  );
  assert.match(errorsOf({ ...MIN, auth: { type: 'token', options: { realm: 'r' } } }), /requires a valid option string: "service"[\s\S]*"issuer"[\s\S]*"rootcertbundle"/);
  assert.match(errorsOf({ ...MIN, auth: { type: 'token', options: { realm: 'r', service: 's', issuer: 'i', rootcertbundle: 'b', jwks: 'x' } } }), /unknown key auth.options.jwks/);
  assert.match(errorsOf({ ...MIN, auth: { type: 'token', options: { realm: 'r', service: 's', issuer: 'i', rootcertbundle: 'b', autoredirect: 'yes' } } }), /valid option bool/);
  assert.match(errorsOf({ ...MIN, server: { http_addr: 'nohost' } }), /not a host:port address/);
  assert.match(errorsOf({ ...MIN, server: { http_addr: ':1', max_upload_bytes: 0 } }), /max_upload_bytes: must be a positive/);
  assert.match(errorsOf({ ...MIN, repositories: { gun_prefixes: 'x' } }), /invalid GUN prefix x/);
  assert.match(errorsOf({ ...MIN, server: 'x' }), /^invalid config:\n  - server must be a mapping/);
});

test('other auth types are ignored with a warning, as notary-server does', () => {
  const c = parseServerConfig({ ...MIN, auth: { type: 'htpasswd', options: { realm: 'r', path: '/p' } } }, { env: NO_ENV });
  assert.equal(c.auth, null);
  assert.match(c.warnings[0] ?? '', /htpasswd/);
});

test('listen addresses follow Go host:port forms', () => {
  assert.deepEqual(parseListenAddress(':4443'), { host: '', port: 4443 });
  assert.deepEqual(parseListenAddress('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  assert.equal(parseListenAddress('a:b'), null);
  assert.equal(parseListenAddress('a:70000'), null);
});
