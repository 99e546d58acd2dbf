import type { CacheStats, RouteCounters } from './responseCache.ts';

export interface RouteSummary extends RouteCounters {
  hitRate: number | null;
}

export interface CacheSummary {
  enabled: boolean;
  hits: number;
  misses: number;
  loads: number;
  errors: number;
  /** hits / (hits + misses) over every cached route; null before any cached read. */
  hitRate: number | null;
  routes: Record<string, RouteSummary>;
}

const rate = (hits: number, misses: number) => (hits + misses > 0 ? hits / (hits + misses) : null);

/** Sums the API workers' counters: the daemon-wide view the cache gate reads. */
export function summarizeCache(enabled: boolean, perWorker: Array<CacheStats | null>): CacheSummary {
  const routes: Record<string, RouteSummary> = {};
  for (const stats of perWorker) {
    for (const [route, counters] of Object.entries(stats?.routes ?? {})) {
      routes[route] ??= { hits: 0, misses: 0, loads: 0, errors: 0, hitRate: null };
      const sum = routes[route];
      sum.hits += counters.hits;
      sum.misses += counters.misses;
      sum.loads += counters.loads;
      sum.errors += counters.errors;
    }
  }
  const total = { hits: 0, misses: 0, loads: 0, errors: 0 };
  for (const [name, sum] of Object.entries(routes)) {
    sum.hitRate = rate(sum.hits, sum.misses);
    // Failed invalidations are counted under a pseudo-route: errors only, not reads.
    if (name === 'invalidate') {
      total.errors += sum.errors;
      continue;
    }
    total.hits += sum.hits;
    total.misses += sum.misses;
    total.loads += sum.loads;
    total.errors += sum.errors;
  }
  return { enabled, ...total, hitRate: rate(total.hits, total.misses), routes };
}
