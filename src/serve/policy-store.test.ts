import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { describePolicyStoreConformance } from '../policy/store-conformance.ts';
import { parseNamespacePolicy } from '../policy/index.ts';
import { SqliteTokenStore } from '../token/index.ts';
import { SqlitePolicyStore } from './policy-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'vouch-policy-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describePolicyStoreConformance('sqlite', () => new SqlitePolicyStore(join(dir, `conformance-${++n}.db`)));

describe('SqlitePolicyStore', () => {
  it('shares one database file with the token store and keeps settings across reopening', async () => {
    const file = join(dir, 'shared.db');
    const tokens = new SqliteTokenStore(file, { scryptLogN: 10 });
    const store = new SqlitePolicyStore(file);
    await tokens.addUser('alice', 'secret-secret');
    await store.set(parseNamespacePolicy('team', { enforce: true, required_signers: ['alice'] }));
    store.close();
    tokens.close();
    const again = new SqlitePolicyStore(file);
    assert.deepEqual(await again.get('team'), { namespace: 'team', enforce: true, pinnedRootKey: null, requiredSigners: ['alice'] });
    again.close();
    const tokensAgain = new SqliteTokenStore(file, { scryptLogN: 10 });
    assert.equal((await tokensAgain.getUser('alice'))?.name, 'alice');
    tokensAgain.close();
  });
});
