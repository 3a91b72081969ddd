import { runRegistryStoreConformance } from './conformance.ts';
import { MemoryRegistryStore } from './memory-store.ts';

runRegistryStoreConformance('memory', async () => ({ store: new MemoryRegistryStore(), cleanup: async () => {} }));
