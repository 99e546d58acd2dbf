import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Coding } from '../api/compression/negotiate.ts';
import type { CompressionConfig } from '../config/types.ts';
import type { Logger } from '../logger.ts';
import { processMetrics } from '../telemetry/metrics.ts';
import { codedKey, encode, type Found, type FoundReply, foundOf, readEntryLua } from './encodedBodies.ts';

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

/** A lookup made already (by the request's admission round trip), of the entry `spec` names. */
export interface Prefetched extends Found {
  spec: CacheEntrySpec;
}

/** What getOrLoad serves: the body, in `coding` when it is a compressed copy. */
export interface Served {
  body: Buffer;
  hit: boolean;
  coding: Coding | null;
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

// Reads every tag's generation and the entry they name (or its copy in ARGV[2], a
// coding) in one round trip. KEYS: the tags; ARGV[1]: the entry's base.
const LOOKUP = `
local parts = {}
if #KEYS > 0 then
  for i, gen in ipairs(redis.call('MGET', unpack(KEYS))) do parts[i] = gen or '0' end
end
${readEntryLua("ARGV[1] .. '@' .. table.concat(parts, '.')", 'ARGV[2]')}`;

// After a write: bumps KEYS[1..ARGV[1]] and stores each entry of ARGV (base, ttl ms,
// body, tag count, then per tag: its index in KEYS and the generation it was loaded
// under) whose tags still hold those generations, under the generations after the bump.
const BUMP_FILL = `
local bumps = tonumber(ARGV[1])
local fills, i = {}, 3
while i <= #ARGV do
  local entry = {base = ARGV[i], ttl = ARGV[i + 1], body = ARGV[i + 2], tags = {}}
  local count, current = tonumber(ARGV[i + 3]), true
  i = i + 4
  for t = 1, count do
    local index = tonumber(ARGV[i])
    if (redis.call('GET', KEYS[index]) or '0') ~= ARGV[i + 1] then current = false end
    entry.tags[t] = index
    i = i + 2
  end
  if current then fills[#fills + 1] = entry end
end
for b = 1, bumps do
  redis.call('INCR', KEYS[b])
  redis.call('EXPIRE', KEYS[b], ARGV[2])
end
for _, entry in ipairs(fills) do
  local parts = {}
  for t, index in ipairs(entry.tags) do parts[t] = redis.call('GET', KEYS[index]) or '0' end
  redis.call('SET', entry.base .. '@' .. table.concat(parts, '.'), entry.body, 'PX', entry.ttl)
end
return #fills`;

interface BumpFill {
  wuzCacheBumpFill(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number>;
}

interface Lookup {
  // The Buffer form: a compressed copy is bytes, not text.
  wuzCacheLookupBuffer(tagCount: number, ...keysThenArgs: string[]): Promise<FoundReply>;
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

  private readonly compression: CompressionConfig | undefined;

  /** `compression`: the levels and threshold of the copies kept compressed (none: no copies). */
  constructor(redis: Redis, log: Logger, enabled = true, compression?: CompressionConfig) {
    this.redis = redis;
    this.log = log;
    this.enabled = enabled;
    this.compression = compression;
    redis.defineCommand('wuzCacheLookup', { lua: LOOKUP });
    redis.defineCommand('wuzCacheBumpFill', { lua: BUMP_FILL });
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

  /** False while invalidations wait to be replayed: a lookup made elsewhere could read a stale entry. */
  readyToPrefetch(): boolean {
    return this.enabled && this.pendingTags.size === 0;
  }

  /**
   * Serves the entry from Redis, or runs `load` once for all concurrent askers and stores
   * it; in `wanted` when the client accepts that coding and the body is worth it (a copy
   * kept beside the entry). `known`: the lookup was made already, in the request's
   * admission round trip.
   */
  async getOrLoad(
    spec: CacheEntrySpec,
    load: () => Promise<unknown>,
    wanted: Coding | null = null,
    known?: Found,
  ): Promise<Served> {
    const counters = this.count(spec.route);
    if (!this.enabled) {
      counters.loads++;
      return { body: Buffer.from(JSON.stringify(await load())), hit: false, coding: null };
    }
    let found: Found;
    try {
      found = known ?? (await this.lookup(spec, wanted));
    } catch (error) {
      // Fail open: the database answers, the request never sees the cache's trouble.
      this.redisFailed(counters, error);
      counters.loads++;
      return { body: Buffer.from(JSON.stringify(await load())), hit: false, coding: null };
    }
    if (found.body !== null) {
      counters.hits++;
      processMetrics().cacheHits.inc({ route: spec.route });
      if (found.coding) return { body: found.body, hit: true, coding: found.coding };
      return this.encoded(found.key, found.body, wanted, found.ttlMs, true);
    }
    const key = found.key;
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
    return this.encoded(key, Buffer.from(await flight), wanted, spec.ttlMs, false);
  }

  /**
   * The entry's body in `wanted`, compressed here and its copy stored for the next
   * readers (with the entry's time left); as it is when too small or nothing is wanted.
   */
  private encoded(key: string, body: Buffer, wanted: Coding | null, ttlMs: number, hit: boolean): Served {
    const coded = encode(body, wanted, this.compression);
    if (!coded || !wanted) return { body, hit, coding: null };
    if (ttlMs > 0) {
      this.redis.set(codedKey(key, wanted), coded, 'PX', ttlMs).catch(() => {
        // Only a later hit's saving is lost: it compresses again.
      });
    }
    return { body: coded, hit, coding: wanted };
  }

  private async lookup(spec: CacheEntrySpec, wanted: Coding | null): Promise<Found> {
    await this.flushPending();
    const reply = await (this.redis as unknown as Lookup).wuzCacheLookupBuffer(
      spec.tags.length,
      ...spec.tags,
      spec.base,
      wanted ?? '',
    );
    return foundOf(reply, wanted);
  }

  /**
   * After a write: bumps `bumpTags` and, in the same atomic step, stores each `fills`
   * entry under the generations that step leaves — so readers go from the old entry
   * straight to the new one and none misses in between. A fill is loaded after the write
   * committed, under the generations read just before; it is stored only if none of its
   * tags moved meanwhile (another write bumped them, and its own step or the next reader
   * loads the newer state). Never throws: with Redis away the bump waits (pendingTags)
   * like invalidate()'s, and a fill that fails to load is left to the next reader.
   */
  async bumpAndFill(
    bumpTags: string[],
    fills: Array<{ spec: CacheEntrySpec; load: () => Promise<unknown> }>,
  ) {
    if (!this.enabled || bumpTags.length === 0) return;
    try {
      await this.flushPending();
      const entryTags = [...new Set(fills.flatMap(({ spec }) => spec.tags))];
      const generations = entryTags.length > 0 ? await this.redis.mget(...entryTags) : [];
      const bodies = await Promise.all(
        fills.map(({ spec, load }) => {
          this.count(spec.route).loads++;
          return load().then(
            (value) => JSON.stringify(value),
            () => null,
          );
        }),
      );
      const keys = [...bumpTags, ...entryTags];
      const args: Array<string | number> = [bumpTags.length, TAG_TTL_S];
      fills.forEach(({ spec }, i) => {
        const body = bodies[i];
        if (body === null || body === undefined) return;
        args.push(spec.base, spec.ttlMs, body, spec.tags.length);
        for (const tag of spec.tags) {
          const at = entryTags.indexOf(tag);
          args.push(bumpTags.length + at + 1, generations[at] ?? '0');
        }
      });
      await (this.redis as unknown as BumpFill).wuzCacheBumpFill(keys.length, ...keys, ...args);
    } catch (error) {
      for (const tag of bumpTags) this.pendingTags.add(tag);
      this.redisFailed(this.count('invalidate'), error);
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
