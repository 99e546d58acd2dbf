import type { Redis } from 'ioredis';
import type { TokenOwner } from '../db/repositories/tokens.ts';
import type { CacheSeal } from '../security/cacheSeal.ts';

/**
 * Token lookups cached in Redis for a minute, so an authenticated request costs one Redis
 * GET instead of a database query. Only the secret's hash is cached, never the token.
 * A revocation deletes the entry (see forgetTokens); the short TTL bounds how long a
 * revocation made where no Redis is reachable can lag.
 *
 * An entry says who a token belongs to, so it is sealed (CacheSeal: a MAC under the
 * daemon's secret key): one forged by whoever can write to Redis reads as a miss.
 */
export const AUTH_CACHE_TTL_S = 60;
export const AUTH_KEY_PATTERN = 'wuz:auth:*';

export const authKeyOf = (prefix: string) => `wuz:auth:${prefix}`;

type Cached = Omit<TokenOwner, 'secret_hash' | 'stale'> & { secret_hash: string };

/** An owner read from the cache, with the sealed entry it came from. */
export interface CachedOwner {
  owner: TokenOwner;
  sealed: string;
}

export async function readCachedOwner(
  redis: Redis,
  seal: CacheSeal,
  prefix: string,
): Promise<CachedOwner | null> {
  return openCachedOwner(seal, prefix, await redis.get(authKeyOf(prefix)));
}

/** The owner a stored entry names, when its seal verifies; null for none or a forged one. */
export function openCachedOwner(seal: CacheSeal, prefix: string, stored: string | null): CachedOwner | null {
  const text = stored === null ? null : seal.open(authKeyOf(prefix), stored);
  if (!text || stored === null) return null;
  const cached = JSON.parse(text) as Cached;
  return {
    owner: { ...cached, secret_hash: Buffer.from(cached.secret_hash, 'base64'), stale: false },
    sealed: stored,
  };
}

/** Stores the owner's sealed entry; returns it, as stored. */
export async function cacheOwner(
  redis: Redis,
  seal: CacheSeal,
  prefix: string,
  owner: TokenOwner,
): Promise<string> {
  const { stale: _stale, ...rest } = owner;
  const value: Cached = { ...rest, secret_hash: owner.secret_hash.toString('base64') };
  const key = authKeyOf(prefix);
  const sealed = seal.seal(key, JSON.stringify(value));
  await redis.set(key, sealed, 'EX', AUTH_CACHE_TTL_S);
  return sealed;
}

export async function forgetTokens(redis: Redis, prefixes: string[]): Promise<void> {
  if (prefixes.length > 0) await redis.del(...prefixes.map(authKeyOf));
}

/** Drops every cached token (at daemon start: revocations made while it was down). */
export async function forgetAllTokens(redis: Redis): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', AUTH_KEY_PATTERN, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) removed += await redis.del(...keys);
  } while (cursor !== '0');
  return removed;
}
