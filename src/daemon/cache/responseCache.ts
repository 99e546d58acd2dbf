import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { processMetrics } from '../telemetry/metrics.ts';

/**
 * Cache-aside for JSON responses in Redis, with generation-counter tags (see tags.ts),
 * stampede protection (in-process single flight + a short Redis lock across processes)
 * and fail-open: when Redis is away, requests go to the database and nothing breaks.
 */
export interface CacheEntrySpec {
  route: string;
  /** Key without generations: tenant, user when user-scoped, query variant. */
  base: string;
  /** Generation keys the entry depends on. */
  tags: string[];
  ttlMs: number;
}

export interface RouteCounters {
  hits: number;
  misses: number;
  loads: number;
  errors: number;
}

export interface CacheStats {
  enabled: boolean;
  routes: Record<string, RouteCounters>;
}

// Reads every tag's generation and the entry they name in one round trip.
const LOOKUP = `
local parts = {}
for i, gen in ipairs(redis.call('MGET', unpack(KEYS))) do parts[i] = gen or '0' end
local key = ARGV[1] .. '@' .. table.concat(parts, '.')
return {key, redis.call('GET', key)}`;

interface Lookup {
  wuzCacheLookup(tagCount: number, ...keysThenBase: string[]): Promise<[string, string | null]>;
}

const LOCK_MS = 5000;
const WAIT_FOR_PEER_MS = 3000;
const TAG_TTL_S = 86_400;

export class ResponseCache {
  private readonly redis: Redis;
  private readonly log: Logger;
  private readonly enabled: boolean;
  private readonly counters = new Map<string, RouteCounters>();
  private readonly inflight = new Map<string, Promise<string>>();
  /** Invalidations Redis refused while away: replayed before the cache is read again. */
  private readonly pendingTags = new Set<string>();
  private lastErrorLog = 0;

  constructor(redis: Redis, log: Logger, enabled = true) {
    this.redis = redis;
    this.log = log;
    this.enabled = enabled;
    redis.defineCommand('wuzCacheLookup', { lua: LOOKUP });
  }

  stats(): CacheStats {
    return { enabled: this.enabled, routes: Object.fromEntries(this.counters) };
  }

  private count(route: string): RouteCounters {
    let counters = this.counters.get(route);
    if (!counters) {
      counters = { hits: 0, misses: 0, loads: 0, errors: 0 };
      this.counters.set(route, counters);
    }
    return counters;
  }

  /** Serves the entry from Redis, or runs `load` once for all concurrent askers and stores it. */
  async getOrLoad(
    spec: CacheEntrySpec,
    load: () => Promise<unknown>,
  ): Promise<{ body: string; hit: boolean }> {
    const counters = this.count(spec.route);
    if (!this.enabled) {
      counters.loads++;
      return { body: JSON.stringify(await load()), hit: false };
    }
    let key: string;
    try {
      await this.flushPending();
      const [fullKey, cached] = await (this.redis as unknown as Lookup).wuzCacheLookup(
        spec.tags.length,
        ...spec.tags,
        spec.base,
      );
      if (cached !== null) {
        counters.hits++;
        processMetrics().cacheHits.inc({ route: spec.route });
        return { body: cached, hit: true };
      }
      key = fullKey;
    } catch (error) {
      // Fail open: the database answers, the request never sees the cache's trouble.
      this.redisFailed(counters, error);
      counters.loads++;
      return { body: JSON.stringify(await load()), hit: false };
    }
    counters.misses++;
    processMetrics().cacheMisses.inc({ route: spec.route });
    // Concurrent misses of this process share one load. The flight is keyed by the full
    // key (generations included), so a request that follows an invalidation never joins a
    // flight that began before it.
    let flight = this.inflight.get(key);
    if (!flight) {
      flight = this.loadOnce(key, spec, load, counters).finally(() => this.inflight.delete(key));
      this.inflight.set(key, flight);
    }
    return { body: await flight, hit: false };
  }

  /**
   * Loads the entry unless it is there already, without counting a read: used right after
   * a write, under the generations that write just bumped. Never throws.
   */
  async warm(spec: CacheEntrySpec, load: () => Promise<unknown>): Promise<void> {
    if (!this.enabled) return;
    const counters = this.count(spec.route);
    try {
      await this.flushPending();
      const [key, cached] = await (this.redis as unknown as Lookup).wuzCacheLookup(
        spec.tags.length,
        ...spec.tags,
        spec.base,
      );
      if (cached !== null || this.inflight.has(key)) return;
      const flight = this.loadOnce(key, spec, load, counters).finally(() => this.inflight.delete(key));
      this.inflight.set(key, flight);
      await flight;
    } catch {
      // A loader that refuses (an error it throws) or Redis away: the next read loads.
    }
  }

  /** Across processes: one holds a short lock and loads; the others wait for its value. */
  private async loadOnce(
    key: string,
    spec: CacheEntrySpec,
    load: () => Promise<unknown>,
    counters: RouteCounters,
  ): Promise<string> {
    const lockKey = `${key}:lock`;
    const locked = await this.redis.set(lockKey, '1', 'PX', LOCK_MS, 'NX').catch(() => 'failed');
    if (locked === null) {
      const body = await this.waitForPeer(key);
      if (body !== null) return body;
    }
    try {
      if (locked === 'OK') {
        // A peer may have loaded, stored and unlocked between our lookup and our lock:
        // it stores the entry before it unlocks, so the entry is visible to us now.
        const stored = await this.redis.get(key).catch(() => null);
        if (stored !== null) return stored;
      }
      counters.loads++;
      const body = JSON.stringify(await load());
      await this.redis.set(key, body, 'PX', spec.ttlMs).catch((error) => this.redisFailed(counters, error));
      return body;
    } finally {
      if (locked === 'OK') await this.redis.del(lockKey).catch(() => {});
    }
  }

  private async waitForPeer(key: string): Promise<string | null> {
    const deadline = Date.now() + WAIT_FOR_PEER_MS;
    while (Date.now() < deadline) {
      await sleep(10);
      const body = await this.redis.get(key).catch(() => null);
      if (body !== null) return body;
      if ((await this.redis.exists(`${key}:lock`).catch(() => 0)) === 0)
        return this.redis.get(key).catch(() => null);
    }
    return null;
  }

  /**
   * Bumps the generations of the tags a mutation changed. Awaited before the mutation's
   * response is sent, so the next read — from any worker — cannot see the old entry.
   */
  async invalidate(tagKeys: string[]): Promise<void> {
    if (!this.enabled || tagKeys.length === 0) return;
    for (const tag of tagKeys) this.pendingTags.add(tag);
    await this.flushPending().catch((error) => this.redisFailed(this.count('invalidate'), error));
  }

  private async flushPending(): Promise<void> {
    if (this.pendingTags.size === 0) return;
    const tags = [...this.pendingTags];
    const pipeline = this.redis.multi();
    for (const tag of tags) pipeline.incr(tag).expire(tag, TAG_TTL_S);
    const results = await pipeline.exec();
    if (!results || results.some(([error]) => error)) throw new Error('invalidation failed');
    for (const tag of tags) this.pendingTags.delete(tag);
  }

  private redisFailed(counters: RouteCounters, error: unknown): void {
    counters.errors++;
    processMetrics().redisErrors.inc({ component: 'cache' });
    const now = Date.now();
    if (now - this.lastErrorLog > 30_000) {
      this.lastErrorLog = now;
      this.log.warn({ err: error }, 'cache unavailable: serving from the database (logged once per 30 s)');
    }
  }
}

/** A bounded, order-independent variant of a query string, for cache keys. */
export function queryVariant(query: Record<string, unknown>): string {
  const entries = Object.entries(query)
    .map(([k, v]) => [k, Array.isArray(v) ? v.join('\u0001') : String(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return '_';
  const text = new URLSearchParams(entries as Array<[string, string]>).toString();
  return text.length <= 64 ? text : createHash('sha1').update(text).digest('base64url');
}
