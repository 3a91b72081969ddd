/**
 * Child process for sqlite.test.ts: publishes batches into a SQLite file forever (until
 * killed), printing each batch number after its commit. Batch n holds version n of root,
 * targets, two delegations, snapshot and timestamp, each large enough that a transaction takes
 * a moment. Without [batches] it resumes after the newest stored timestamp, so it can be
 * killed repeatedly; with it, it writes versions 1..batches and counts version conflicts.
 * Usage: node sqlite-crash-child.ts <db path> <gun> [batches]
 */
import { SqliteMetaStore } from './sqlite.ts';

const [path, gun, limit] = process.argv.slice(2);
if (path === undefined || gun === undefined) throw new TypeError('usage: sqlite-crash-child.ts <db> <gun> [batches]');
const store = new SqliteMetaStore(path);
const max = limit === undefined ? Number.POSITIVE_INFINITY : Number(limit);
const payload = (role: string, n: number): Uint8Array => {
  const data = new Uint8Array(64 * 1024).fill(n & 0xff);
  data.set(new TextEncoder().encode(`${role}:${n}:`));
  return data;
};
const roles = ['root', 'targets', 'targets/a', 'targets/b', 'snapshot', 'timestamp'];
// With a batch count: versions 1..count (racing writers). Without: resume after the newest.
const start = limit === undefined ? ((await store.getChanges(-1, -1, gun))[0]?.version ?? 0) + 1 : 1;
let conflicts = 0;
for (let n = start; n < start + max; n++) {
  try {
    await store.updateMany(gun, roles.map((role) => ({ role, version: n, data: payload(role, n) })));
    process.stdout.write(`${n}\n`);
  } catch (err) {
    if (!(err instanceof Error && err.name === 'VersionConflictError')) throw err;
    conflicts++;
  }
}
await store.close();
process.stdout.write(`done conflicts=${conflicts}\n`);
