export type { MetaStore, MetaUpdate, StoredMeta, Change, KeyRecord, KeyRecordStore } from './types.ts';
