import { MemoryPolicyStore } from './memory-store.ts';
import { describePolicyStoreConformance } from './store-conformance.ts';

describePolicyStoreConformance('memory', () => new MemoryPolicyStore());
