import { defineGate, type Gate } from './gate.ts';
import { alertsGate } from './gates/alerts.ts';
import { bundleGate } from './gates/bundle.ts';
import { cacheGate } from './gates/cache.ts';
import { cdnGate } from './gates/cdn.ts';
import { compressionGate } from './gates/compression.ts';
import { latencyGate } from './gates/latency.ts';
import { metricsGate } from './gates/metrics.ts';
import { pwaGate } from './gates/pwa.ts';
import { queueGate } from './gates/queue.ts';
import { rateLimitGate } from './gates/ratelimit.ts';
import { reloadGate } from './gates/reload.ts';
import { tracingGate } from './gates/tracing.ts';

/** Every gate `wuzctl verify` knows, in the order it runs them. */
export const GATES: Gate[] = [
  defineGate(cacheGate),
  defineGate(rateLimitGate),
  defineGate(queueGate),
  defineGate(metricsGate),
  defineGate(bundleGate),
  defineGate(pwaGate),
  defineGate(compressionGate),
  defineGate(cdnGate),
  defineGate(tracingGate),
  defineGate(alertsGate),
  defineGate(reloadGate),
  defineGate(latencyGate),
];
