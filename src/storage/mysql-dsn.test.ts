import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors/index.ts';
import { describeMysql, goDurationMs, parseMysqlDsn } from './mysql-dsn.ts';

test("notary's fixture DSN", () => {
  const t = parseMysqlDsn('server@tcp(mysql:3306)/notaryserver?parseTime=True');
  assert.deepEqual(t, {
    user: 'server', password: '', net: 'tcp', host: 'mysql', port: 3306, socketPath: undefined, database: 'notaryserver',
    tls: 'off', connectTimeoutMs: undefined, charset: undefined, systemVars: {},
  });
  assert.equal(describeMysql(t), 'mysql server@mysql:3306/notaryserver');
});

test("go-sql-driver's splitting rules: last '/', last '@', first ':'", () => {
  const t = parseMysqlDsn('us:er:p@ss@word@tcp(db.example:3307)/notary');
  assert.deepEqual([t.user, t.password, t.host, t.port, t.database], ['us', 'er:p@ss@word', 'db.example', 3307, 'notary']);
  assert.ok(!describeMysql(t).includes('word'));
  const slash = parseMysqlDsn('u:pa/ss@tcp(h)/db');
  assert.deepEqual([slash.user, slash.password, slash.host, slash.port, slash.database], ['u', 'pa/ss', 'h', 3306, 'db']);
});

test('defaults: tcp to 127.0.0.1:3306; unix sockets; IPv6', () => {
  const d = parseMysqlDsn('/notary');
  assert.deepEqual([d.user, d.net, d.host, d.port, d.database], ['', 'tcp', '127.0.0.1', 3306, 'notary']);
  const s = parseMysqlDsn('root@unix(/run/mysqld/mysqld.sock)/notary');
  assert.deepEqual([s.net, s.socketPath], ['unix', '/run/mysqld/mysqld.sock']);
  assert.equal(parseMysqlDsn('root@unix/notary').socketPath, '/tmp/mysql.sock');
  const v6 = parseMysqlDsn('root@tcp([::1]:3310)/notary');
  assert.deepEqual([v6.host, v6.port], ['::1', 3310]);
  assert.equal(parseMysqlDsn('root@tcp(::1)/n').host, '::1');
  assert.equal(parseMysqlDsn('root@tcp(:3311)/n').host, '127.0.0.1');
});

test('parameters: Go-only ones accepted, timeout, tls, charset, system variables', () => {
  const t = parseMysqlDsn(
    "u@tcp(h:1)/db?parseTime=true&loc=Local&timeout=1m30s&tls=skip-verify&charset=utf8mb4,utf8&sql_mode=%27ANSI%27&collation=utf8mb4_bin&noval",
  );
  assert.equal(t.connectTimeoutMs, 90_000);
  assert.equal(t.tls, 'skip-verify');
  assert.equal(t.charset, 'utf8mb4');
  assert.deepEqual(t.systemVars, { sql_mode: "'ANSI'" });
  assert.equal(parseMysqlDsn('u@tcp(h)/db?tls=true').tls, 'verify');
  assert.equal(parseMysqlDsn('u@tcp(h)/db%2Fx').database, 'db/x');
});

test('Go durations', () => {
  assert.equal(goDurationMs('500ms'), 500);
  assert.equal(goDurationMs('1.5s'), 1500);
  assert.equal(goDurationMs('2h'), 7_200_000);
  assert.equal(goDurationMs('0'), 0);
  assert.throws(() => goDurationMs('5'), ConfigError);
  assert.throws(() => goDurationMs('5 s'), ConfigError);
});

test('refused: no slash, unterminated address, bad bools, custom TLS configs, unknown networks', () => {
  for (const bad of [
    'server@tcp(mysql:3306)',
    'u@tcp(h:3306/db',
    'u@tcp(h)/db?parseTime=yes',
    'u@tcp(h)/db?tls=custom',
    'u@udp(h)/db',
    'u@tcp(h:0)/db',
    'u@tcp(h)/db?bad-name=1',
  ]) {
    assert.throws(() => parseMysqlDsn(bad), ConfigError, bad);
  }
});
