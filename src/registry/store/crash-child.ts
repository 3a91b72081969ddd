/**
 * Test helper for fs-store.test.ts: starts an upload in the store at argv[2], appends a first
 * chunk, prints `SESSION <id> <size>` and then keeps appending slowly until it is killed.
 */
import { FsRegistryStore } from './fs-store.ts';

const store = new FsRegistryStore({ root: process.argv[2] as string });
const s = await store.createUpload('crash/app');
const first = Buffer.alloc(100_000, 7);
await store.appendUpload('crash/app', s.id, 0, (async function* () {
  yield first;
})());
process.stdout.write(`SESSION ${s.id} ${first.length}\n`);
await store.appendUpload('crash/app', s.id, first.length, (async function* () {
  for (;;) {
    yield Buffer.alloc(65_536, 9);
    await new Promise((r) => setTimeout(r, 5));
  }
})());
