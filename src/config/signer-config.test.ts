import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors/index.ts';
import { aliasPassphraseEnvName, loadSignerConfig, parseSignerConfig } from './signer-config.ts';

const NOTARY_FIXTURES = '/usr/share/gocode/src/github.com/theupdateframework/notary/fixtures';

const base = {
  server: { grpc_addr: '127.0.0.1:7899', tls_cert_file: '/tls/signer.crt', tls_key_file: '/tls/signer.key', client_ca_file: '/tls/ca.crt' },
  storage: { backend: 'sqlite3', db_url: '/data/keys.db', default_alias: 'alias1' },
};

function rejects(raw: unknown, re: RegExp, env: Record<string, string> = {}): void {
  assert.throws(() => parseSignerConfig(raw, { env }), (e: unknown) => e instanceof ConfigError && re.test(e.message));
}

describe('signer config (notary-signer)', () => {
  it("reads notary's own signer-config.json fixture (memory, mutual TLS, paths relative to the file)", async () => {
    const c = await loadSignerConfig(join(NOTARY_FIXTURES, 'signer-config-local.json'), { env: {} });
    assert.equal(c.server.grpcAddr, ':7899');
    assert.equal(c.server.host, '');
    assert.equal(c.server.port, 7899);
    assert.equal(c.server.tls.certFile, join(NOTARY_FIXTURES, 'notary-signer.crt'));
    assert.equal(c.server.tls.keyFile, join(NOTARY_FIXTURES, 'notary-signer.key'));
    assert.equal(c.server.tls.clientCaFile, join(NOTARY_FIXTURES, 'notary-server.crt'));
    assert.equal(c.storage.backend, 'memory');
    assert.equal(c.logging.level, 'debug');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.server.tls));
  });

  it("notary's mysql fixture needs a default alias, as notary-signer does", async () => {
    await assert.rejects(loadSignerConfig(join(NOTARY_FIXTURES, 'signer-config.json'), { env: {} }), /must provide a default alias for the key DB/);
    const c = await loadSignerConfig(join(NOTARY_FIXTURES, 'signer-config.json'), { env: { NOTARY_SIGNER_DEFAULT_ALIAS: 'timestamp_1' } });
    assert.equal(c.storage.backend, 'mysql');
    assert.equal(c.storage.defaultAlias, 'timestamp_1');
    assert.equal(c.storage.dbUrl, 'signer@tcp(mysql:3306)/notarysigner?parseTime=True');
  });

  it('storage.default_alias wins over NOTARY_SIGNER_DEFAULT_ALIAS; NOTARY_SIGNER_STORAGE_DEFAULT_ALIAS overrides it', () => {
    assert.equal(parseSignerConfig(base, { env: { NOTARY_SIGNER_DEFAULT_ALIAS: 'other' } }).storage.defaultAlias, 'alias1');
    assert.equal(parseSignerConfig(base, { env: { NOTARY_SIGNER_STORAGE_DEFAULT_ALIAS: 'rotated' } }).storage.defaultAlias, 'rotated');
    const { default_alias: _, ...storage } = base.storage;
    assert.equal(parseSignerConfig({ ...base, storage }, { env: { NOTARY_SIGNER_DEFAULT_ALIAS: 'from-env' } }).storage.defaultAlias, 'from-env');
    assert.equal(parseSignerConfig({ ...base, storage, default_alias: 'top-level' }, { env: {} }).storage.defaultAlias, 'top-level');
  });

  it('NOTARY_SIGNER_<PATH> overrides leaves; keys are case-insensitive', () => {
    const c = parseSignerConfig(
      { Server: { GRPC_ADDR: ':1', tls_cert_file: 'a.crt', tls_key_file: 'a.key' }, storage: { backend: 'memory' } },
      { env: { NOTARY_SIGNER_SERVER_GRPC_ADDR: '127.0.0.1:9000', NOTARY_SIGNER_LOGGING_LEVEL: 'info' }, configFile: '/etc/notary/signer.json' },
    );
    assert.equal(c.server.host, '127.0.0.1');
    assert.equal(c.server.port, 9000);
    assert.equal(c.server.tls.certFile, '/etc/notary/a.crt');
    assert.equal(c.server.tls.clientCaFile, null);
    assert.equal(c.logging.level, 'info');
  });

  it('a relative sqlite3 db_url resolves against the config file', () => {
    const c = parseSignerConfig({ ...base, storage: { backend: 'sqlite3', db_url: 'keys.db', default_alias: 'a' } }, { env: {}, configFile: '/srv/signer/config.json' });
    assert.equal(c.storage.dbUrl, '/srv/signer/keys.db');
  });

  it('refuses what notary-signer refuses, listing every problem', () => {
    rejects({ ...base, server: { tls_cert_file: 'a', tls_key_file: 'b' } }, /grpc listen address required for server/);
    rejects({ ...base, server: { grpc_addr: ':7899' } }, /unable to set up TLS/);
    rejects({ ...base, server: { ...base.server, grpc_addr: 'nonsense' } }, /not a host:port address/);
    rejects({ ...base, storage: { backend: 'postgres', default_alias: 'a' } }, /must provide a non-empty database source for postgres/);
    rejects({ ...base, storage: { backend: 'rethinkdb', db_url: 'x' } }, /rethinkdb is not supported/);
    rejects({ ...base, storage: { backend: 'leveldb' } }, /leveldb is not an allowed backend/);
    rejects({ ...base, logging: { level: 'loud' } }, /not a valid log level/);
    rejects({ ...base, server: { ...base.server, tls_cert_file: 7 }, extra: 1 }, /unknown key extra[\s\S]*/);
    rejects({ server: {}, storage: { backend: 'mysql' } }, /grpc listen address[\s\S]*unable to set up TLS[\s\S]*database source[\s\S]*default alias/);
  });

  it('accepts the keys of older and rethinkdb configs, with warnings for ignored ones', () => {
    const c = parseSignerConfig({ ...base, server: { ...base.server, http_addr: ':4444' }, reporting: { bugsnag: { api_key: 'k' } } }, { env: {} });
    assert.equal(c.warnings.length, 2);
  });

  it('reads YAML too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'signer-config-'));
    try {
      const file = join(dir, 'signer.yml');
      await writeFile(file, 'server:\n  grpc_addr: "127.0.0.1:0"\n  tls_cert_file: s.crt\n  tls_key_file: s.key\nstorage:\n  backend: memory\n');
      const c = await loadSignerConfig(file, { env: {} });
      assert.equal(c.server.port, 0);
      assert.equal(c.server.tls.keyFile, join(dir, 's.key'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("alias passphrases live in NOTARY_SIGNER_<ALIAS>, upper-cased, '.' as '_' (viper)", () => {
    assert.equal(aliasPassphraseEnvName('alias1'), 'NOTARY_SIGNER_ALIAS1');
    assert.equal(aliasPassphraseEnvName('timestamp_1'), 'NOTARY_SIGNER_TIMESTAMP_1');
    assert.equal(aliasPassphraseEnvName('prod.keys'), 'NOTARY_SIGNER_PROD_KEYS');
  });
});
