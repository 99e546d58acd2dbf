import type { Gate } from './gate.ts';
import { cacheGate } from './gates/cache.ts';
import { metricsGate } from './gates/metrics.ts';
import { queueGate } from './gates/queue.ts';
import { rateLimitGate } from './gates/ratelimit.ts';

/** Every gate `wuzctl verify` knows, in the order it runs them. */
export const GATES: Gate[] = [
  cacheGate as unknown as Gate,
  rateLimitGate as unknown as Gate,
  queueGate as unknown as Gate,
  metricsGate as unknown as Gate,
];
