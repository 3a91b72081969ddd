import { MemoryTokenStore } from './memory-store.ts';
import { tokenStoreConformance } from './store-conformance.ts';

tokenStoreConformance('memory', async () => ({ store: new MemoryTokenStore({ scryptLogN: 10 }), close: async () => {} }));
