import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors/index.ts';
import { registryNames, resolveServeConfig } from './config.ts';

function problems(o: Parameters<typeof resolveServeConfig>[0], env: Record<string, string> = {}): string {
  try {
    resolveServeConfig(o, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  return assert.fail('expected a ConfigError');
}

describe('vouch serve settings: the database', () => {
  it('is SQLite in the data dir unless --db or VOUCH_DB_URL names another', () => {
    assert.deepEqual(resolveServeConfig({}, {}).database, { backend: 'sqlite3' });
    assert.deepEqual(resolveServeConfig({}, { VOUCH_DB_URL: '' }).database, { backend: 'sqlite3' });
  });

  it('takes PostgreSQL URLs (postgres://, postgresql://) and lib/pq keywords', () => {
    const url = 'postgres://vouch:s3cret@db.example:6543/vouch?sslmode=verify-full';
    assert.deepEqual(resolveServeConfig({ db: url }, {}).database, { backend: 'postgres', url, label: 'postgres vouch@db.example:6543/vouch' });
    assert.equal(resolveServeConfig({}, { VOUCH_DB_URL: 'postgresql://u@h/d' }).database.backend, 'postgres');
    assert.equal(resolveServeConfig({ db: 'host=h dbname=d sslmode=disable' }, {}).database.backend, 'postgres');
  });

  it('takes notary\'s MySQL DSN as it is and a mysql:// URL as that DSN; the flag wins over the environment', () => {
    const dsn = 'server:pw@tcp(mysql:3306)/notaryserver?parseTime=True';
    assert.deepEqual(resolveServeConfig({ db: dsn }, { VOUCH_DB_URL: 'postgres://x@y/z' }).database, { backend: 'mysql', url: dsn, label: 'mysql server@mysql:3306/notaryserver' });
    assert.deepEqual(resolveServeConfig({ db: 'mysql://vouch:p%40ss@db:3307/vouch?parseTime=true' }, {}).database, {
      backend: 'mysql',
      url: 'vouch:p@ss@tcp(db:3307)/vouch?parseTime=true',
      label: 'mysql vouch@db:3307/vouch',
    });
    assert.equal((resolveServeConfig({ db: 'mysql://root@127.0.0.1/v' }, {}).database as { url: string }).url, 'root@tcp(127.0.0.1:3306)/v');
  });

  it('refuses what it cannot read, naming the flag and never the password', () => {
    assert.match(problems({ db: 'sqlite:///tmp/x.db' }), /--db: expected postgres:\/\/…, postgresql:\/\/…, mysql:\/\/… or a MySQL DSN/);
    assert.match(problems({ db: 'postgres://u:hunter2@h/d?sslmode=prefer' }), /--db: unsupported sslmode "prefer"/);
    assert.doesNotMatch(problems({ db: 'postgres://u:hunter2@h/d?sslmode=prefer' }), /hunter2/);
    assert.match(problems({ db: 'u:hunter2@tcp(h:99999)/d' }), /--db: .*port/);
    assert.match(problems({ db: 'mysql://u:hunter2@h/' }), /--db: the mysql:\/\/ URL must name one database/);
    // every problem together
    const all = problems({ db: 'nonsense', addr: 'x' });
    assert.match(all, /--addr/);
    assert.match(all, /--db/);
  });
});

describe('vouch serve settings: host names', () => {
  it('a host name may carry the port clients use (a load balancer in front); the certificate gets the bare name', () => {
    const cfg = resolveServeConfig({ addr: '127.0.0.1:5000', hostname: ['Registry.Example.com:443', 'lb.local:8443', 'lb.local', '[::1]:7000'] }, {});
    assert.deepEqual(cfg.hostnames, ['registry.example.com', 'lb.local', '::1']);
    assert.deepEqual(registryNames(cfg, 5000), [
      'registry.example.com:443',
      'registry.example.com',
      'lb.local:8443',
      'lb.local:5000',
      '[::1]:7000',
      '127.0.0.1:5000',
      'localhost:5000',
      '[::1]:5000',
    ]);
    assert.match(problems({ hostname: ['bad_name:80'] }), /--hostname: not a DNS name or IP address \(with an optional :port\)/);
    assert.match(problems({ hostname: ['lb.local:0'] }), /--hostname/);
  });
});
