export type { MetaStore, MetaUpdate, StoredMeta, Change, KeyRecord, KeyRecordStore } from './types.ts';
export { MemoryMetaStore, MemoryKeyRecordStore } from './memory.ts';
export type { MemoryStoreOptions } from './memory.ts';
export { SqliteMetaStore, SqliteKeyRecordStore } from './sqlite.ts';
export type { SqliteStoreOptions } from './sqlite.ts';
export type { SqliteOptions } from './sqlite-db.ts';
