import { runKeyRecordStoreConformance, runMetaStoreConformance } from './conformance.ts';
import { MemoryKeyRecordStore, MemoryMetaStore } from './memory.ts';

runMetaStoreConformance('memory', () => new MemoryMetaStore());
runKeyRecordStoreConformance('memory', () => new MemoryKeyRecordStore());
