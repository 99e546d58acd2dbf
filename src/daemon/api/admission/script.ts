import type { Redis } from 'ioredis';
import { type Found, type FoundReply, foundOf, readEntryLua } from '../../cache/encodedBodies.ts';
import type { Coding } from '../compression/negotiate.ts';

/**
 * One round trip that admits an authenticated API request: it checks that the token's
 * auth-cache entry is still the one this worker verified (a revocation or a plan change
 * deletes it), counts the request against its tenant's window, and reads the cached
 * answer of the GET it names — what were three round trips (auth GET, the limiter's
 * script, the cache lookup). Each part is optional.
 *
 * KEYS: the auth entry; the tenant's window counter when counting; the cache tags.
 * ARGV: [1] the expected auth entry ('' = no check), [2] the window in ms ('' = no
 * count), [3] the cache entry's base ('' = no lookup), [4] the index of the first tag,
 * [5] the coding of the copy to read first ('' = the entry itself, encodedBodies.ts).
 * Returns {0, entry} when the auth entry differs, else {1, hits, ttl ms, found} where
 * found is encodedBodies.ts's reply (false when there was no lookup).
 *
 * The counter is rate-limit-redis's fixed window, key for key and step for step (an
 * expired or TTL-less counter restarts at 1 with the window as its TTL), so workers of
 * an older release, mid-rollout, count in the same windows. The cache key is built as
 * responseCache.ts's LOOKUP builds it: base '@' the tags' generations.
 */
const ADMIT = `
if ARGV[1] ~= '' then
  local entry = redis.call('GET', KEYS[1])
  if entry ~= ARGV[1] then return {0, entry} end
end
local hits, ttl = -1, -1
if ARGV[2] ~= '' then
  local window = tonumber(ARGV[2])
  ttl = redis.call('PTTL', KEYS[2])
  if ttl <= 0 then
    redis.call('SET', KEYS[2], 1, 'PX', window)
    hits, ttl = 1, window
  else
    hits = redis.call('INCR', KEYS[2])
  end
end
local function lookup()
  local first = tonumber(ARGV[4])
  local parts = {}
  if #KEYS >= first then
    for i, gen in ipairs(redis.call('MGET', unpack(KEYS, first))) do parts[i] = gen or '0' end
  end
  ${readEntryLua("ARGV[3] .. '@' .. table.concat(parts, '.')", 'ARGV[5]')}
end
local found = false
if ARGV[3] ~= '' then found = lookup() end
return {1, hits, ttl, found}`;

export interface AdmissionQuery {
  authKey: string;
  /** The sealed entry this worker verified; null: no check (verified on this request). */
  expectedEntry: string | null;
  /** Count the request in this window counter. */
  limit: { key: string; windowMs: number } | null;
  /** Read this cache entry (responseCache.ts's base and tags), or its copy in `coding`. */
  lookup: { base: string; tags: string[]; coding: Coding | null } | null;
}

export type AdmissionAnswer =
  /** The auth entry is not the expected one any more: here is what Redis holds. */
  | { current: false; entry: string | null }
  | {
      current: true;
      /** The window's count including this request, and its time left; null when not counted. */
      window: { hits: number; ttlMs: number } | null;
      /** What the cache lookup found; null when there was none. */
      cache: Found | null;
    };

type Reply = [0, Buffer | null] | [1, number, number, FoundReply | null];

interface AdmitCommand {
  // The Buffer form: a compressed copy is bytes, not text.
  wuzAdmitBuffer(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<Reply>;
}

export class AdmissionScript {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
    // ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT (a flushed or restarted Redis).
    redis.defineCommand('wuzAdmit', { lua: ADMIT });
  }

  async run(query: AdmissionQuery): Promise<AdmissionAnswer> {
    const keys = [query.authKey];
    if (query.limit) keys.push(query.limit.key);
    const firstTag = keys.length + 1;
    if (query.lookup) keys.push(...query.lookup.tags);
    const reply = await (this.redis as unknown as AdmitCommand).wuzAdmitBuffer(
      keys.length,
      ...keys,
      query.expectedEntry ?? '',
      query.limit ? query.limit.windowMs : '',
      query.lookup ? query.lookup.base : '',
      firstTag,
      query.lookup?.coding ?? '',
    );
    if (reply[0] === 0) return { current: false, entry: reply[1]?.toString() ?? null };
    const [, hits, ttlMs, found] = reply;
    return {
      current: true,
      window: query.limit ? { hits, ttlMs } : null,
      cache: query.lookup && found ? foundOf(found, query.lookup.coding) : null,
    };
  }
}
