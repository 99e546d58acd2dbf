import type { Gate } from './gate.ts';
import { bundleGate } from './gates/bundle.ts';
import { cacheGate } from './gates/cache.ts';
import { metricsGate } from './gates/metrics.ts';
import { pwaGate } from './gates/pwa.ts';
import { queueGate } from './gates/queue.ts';
import { rateLimitGate } from './gates/ratelimit.ts';

/** Every gate `wuzctl verify` knows, in the order it runs them. */
export const GATES: Gate[] = [
  cacheGate as unknown as Gate,
  rateLimitGate as unknown as Gate,
  queueGate as unknown as Gate,
  metricsGate as unknown as Gate,
  bundleGate as unknown as Gate,
  pwaGate as unknown as Gate,
];
