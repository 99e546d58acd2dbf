import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore } from 'rate-limit-redis';
import type { Logger } from '../logger.ts';
import { processMetrics } from '../telemetry/metrics.ts';

/** What the limiters count in each API worker; summed over workers in `wuzctl status`. */
export interface RateLimitStats {
  enabled: boolean;
  /** 429s to authenticated callers, by tenant plan. */
  rejected: Record<string, number>;
  /**
   * 429s by tenant slug, for `wuzctl top`'s "most limited" list: in the worker's memory,
   * never a metric label (a label per tenant would grow without bound). At most
   * TENANTS_KEPT per worker; the least limited goes first.
   */
  byTenant: Record<string, number>;
  /** 429s to a client IP after too many failed authentications. */
  rejectedUnauthenticated: number;
  /** Limiter calls Redis refused: each let its request through (fail open). */
  errors: number;
}

/** The daemon-wide view: every API worker's counters added up. */
export function summarizeRateLimit(
  enabled: boolean,
  perWorker: Array<RateLimitStats | null>,
): RateLimitStats {
  const total: RateLimitStats = {
    enabled,
    rejected: {},
    byTenant: {},
    rejectedUnauthenticated: 0,
    errors: 0,
  };
  for (const stats of perWorker) {
    if (!stats) continue;
    for (const [plan, count] of Object.entries(stats.rejected))
      total.rejected[plan] = (total.rejected[plan] ?? 0) + count;
    for (const [tenant, count] of Object.entries(stats.byTenant ?? {}))
      total.byTenant[tenant] = (total.byTenant[tenant] ?? 0) + count;
    total.rejectedUnauthenticated += stats.rejectedUnauthenticated;
    total.errors += stats.errors;
  }
  return total;
}

const TENANTS_KEPT = 200;

export class RateLimitCounters {
  readonly stats: RateLimitStats;
  private lastLog = 0;
  private readonly log: Logger;

  constructor(enabled: boolean, log: Logger) {
    this.stats = { enabled, rejected: {}, byTenant: {}, rejectedUnauthenticated: 0, errors: 0 };
    this.log = log;
  }

  rejected(plan: string, tenant?: string): void {
    this.stats.rejected[plan] = (this.stats.rejected[plan] ?? 0) + 1;
    if (tenant) this.countTenant(tenant);
    processMetrics().rateLimitRejections.inc({ limiter: 'tenant', plan });
  }

  private countTenant(tenant: string): void {
    const byTenant = this.stats.byTenant;
    if (!(tenant in byTenant) && Object.keys(byTenant).length >= TENANTS_KEPT) {
      const least = Object.entries(byTenant).reduce((a, b) => (b[1] < a[1] ? b : a));
      delete byTenant[least[0]];
    }
    byTenant[tenant] = (byTenant[tenant] ?? 0) + 1;
  }

  rejectedUnauthenticated(): void {
    this.stats.rejectedUnauthenticated++;
    processMetrics().rateLimitRejections.inc({ limiter: 'auth_failure', plan: 'none' });
  }

  failed(error: unknown): void {
    this.stats.errors++;
    processMetrics().redisErrors.inc({ component: 'rate_limit' });
    const now = Date.now();
    if (now - this.lastLog > 30_000) {
      this.lastLog = now;
      this.log.warn(
        { err: error },
        'rate limiter unavailable: letting requests through (logged once per 30 s)',
      );
    }
  }
}

/**
 * rate-limit-redis's store (an atomic Lua increment with the window as the key's expiry,
 * shared by every worker and daemon on the Redis), made to survive Redis outages: it loads
 * its scripts once at start-up and keeps a failed load forever, so a worker that started
 * while Redis was away, or a script cache flushed without NOSCRIPT, would never count
 * again. Here a failure is counted and the scripts are reloaded on the next call.
 */
export class ResilientRedisStore implements Store {
  private readonly inner: RedisStore;
  private readonly counters: RateLimitCounters;
  private broken = false;
  prefix: string;

  constructor(redis: Redis, prefix: string, counters: RateLimitCounters) {
    this.inner = new RedisStore({
      sendCommand: (command: string, ...args: string[]) =>
        redis.call(command, ...args) as Promise<number | string | (number | string)[]>,
      prefix,
    });
    this.prefix = prefix;
    this.counters = counters;
  }

  init(options: Options): void {
    this.inner.windowMs = options.windowMs;
    this.reload();
  }

  private reload(): void {
    this.inner.incrementScriptSha = this.inner.loadIncrementScript();
    this.inner.getScriptSha = this.inner.loadGetScript();
    // Failures surface (and are counted) on the call that awaits them.
    this.inner.incrementScriptSha.catch(() => {});
    this.inner.getScriptSha.catch(() => {});
    this.broken = false;
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    if (this.broken) this.reload();
    try {
      return await work();
    } catch (error) {
      this.broken = true;
      this.counters.failed(error);
      throw error;
    }
  }

  increment(key: string): Promise<IncrementResponse> {
    return this.guard(() => this.inner.increment(key));
  }

  get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return this.guard(() => this.inner.get(key));
  }

  decrement(key: string): Promise<void> {
    return this.guard(() => this.inner.decrement(key));
  }

  resetKey(key: string): Promise<void> {
    return this.guard(() => this.inner.resetKey(key));
  }
}
