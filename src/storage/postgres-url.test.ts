import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors/index.ts';
import { describePostgres, parsePostgresUrl } from './postgres-url.ts';

const noEnv = {};

test("notary's fixture URL: user, host, port, database and the TLS files", () => {
  const t = parsePostgresUrl(
    'postgres://server@postgresql:5432/notaryserver?sslmode=verify-ca&sslrootcert=/db/ca.pem&sslcert=/db/notary-server.pem&sslkey=/db/notary-server-key.pem',
    noEnv,
  );
  assert.deepEqual(t, {
    host: 'postgresql', port: 5432, user: 'server', password: undefined, database: 'notaryserver', sslmode: 'verify-ca',
    sslrootcert: '/db/ca.pem', sslcert: '/db/notary-server.pem', sslkey: '/db/notary-server-key.pem',
    connectTimeoutSeconds: undefined, applicationName: undefined, runtimeParams: {},
  });
  assert.equal(describePostgres(t), 'postgres server@postgresql:5432/notaryserver');
});

test('password, percent-encoding, postgresql:// scheme, IPv6 host', () => {
  const t = parsePostgresUrl('postgresql://us%40er:p%3Ass@[::1]:6543/my%20db?sslmode=disable', noEnv);
  assert.equal(t.user, 'us@er');
  assert.equal(t.password, 'p:ss');
  assert.equal(t.host, '::1');
  assert.equal(t.port, 6543);
  assert.equal(t.database, 'my db');
  assert.equal(describePostgres(t), 'postgres us@er@[::1]:6543/my db');
  assert.ok(!describePostgres(t).includes('p:ss'));
});

test("lib/pq defaults: sslmode require, localhost:5432; PG* variables fill gaps, the URL wins", () => {
  const t = parsePostgresUrl('postgres:///vouch', noEnv);
  assert.deepEqual([t.host, t.port, t.sslmode, t.user, t.database], ['localhost', 5432, 'require', undefined, 'vouch']);
  const e = parsePostgresUrl('postgres:///vouch?user=me', { PGHOST: 'dbhost', PGPORT: '7000', PGUSER: 'envuser', PGSSLMODE: 'disable', PGPASSWORD: 'pw' });
  assert.deepEqual([e.host, e.port, e.user, e.password, e.sslmode], ['dbhost', 7000, 'me', 'pw', 'disable']);
});

test('keyword/value form with quoting and escapes', () => {
  const t = parsePostgresUrl(String.raw`host=127.0.0.1 port = 5433 user=vouch password='it''s' dbname=notary sslmode=disable`.replace("''", "\\'"), noEnv);
  assert.deepEqual([t.host, t.port, t.user, t.password, t.database, t.sslmode], ['127.0.0.1', 5433, 'vouch', "it's", 'notary', 'disable']);
  const sp = parsePostgresUrl(String.raw`dbname='a b' password=x\ y sslmode=disable`, noEnv);
  assert.deepEqual([sp.database, sp.password], ['a b', 'x y']);
});

test('other parameters: connect_timeout, application_name, run-time parameters', () => {
  const t = parsePostgresUrl('postgres://u@h/d?sslmode=disable&connect_timeout=7&application_name=notary&search_path=tuf,public', noEnv);
  assert.equal(t.connectTimeoutSeconds, 7);
  assert.equal(t.applicationName, 'notary');
  assert.deepEqual(t.runtimeParams, { search_path: 'tuf,public' });
});

test('refused: unsupported sslmode, bad port, bad keyword syntax', () => {
  for (const bad of [
    'postgres://u@h/d?sslmode=prefer',
    'postgres://u@h:99999/d',
    'host=h port=x',
    'host=h dbname',
    "host='h",
    'postgres://u@h/d?connect_timeout=soon',
  ]) {
    assert.throws(() => parsePostgresUrl(bad, noEnv), ConfigError, bad);
  }
});
