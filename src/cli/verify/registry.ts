import type { Gate } from './gate.ts';
import { cacheGate } from './gates/cache.ts';

/** Every gate `wuzctl verify` knows, in the order it runs them. */
export const GATES: Gate[] = [cacheGate as unknown as Gate];
