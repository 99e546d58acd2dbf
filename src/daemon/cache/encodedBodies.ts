import type { Coding } from '../api/compression/negotiate.ts';
import { compressBody, ONE_SHOT_MAX_BYTES } from '../api/compression/oneShot.ts';
import type { CompressionConfig } from '../config/types.ts';

/**
 * Cached answers kept compressed as well: an entry's br or gzip copy sits beside it
 * (`<key>|br`), made the first time a client that accepts that coding reads the entry and
 * stored with the entry's remaining TTL, so every later hit sends stored bytes instead
 * of compressing the same body again. A copy shares its entry's key, generations
 * included, so the same invalidation that retires the entry retires its copies.
 */
export const codedKey = (key: string, coding: Coding) => `${key}|${coding}`;

/**
 * Lua that reads an entry and, when the request names a coding, its copy in that coding
 * first: `key` (the entry's full key) and `coding` ('' for identity) are Lua expressions.
 * Returns {key, body, 1} for a copy, {key, body|false, 0, ttl} otherwise, ttl being the
 * entry's time left when a copy was wanted and is missing (-1 else).
 */
export const readEntryLua = (key: string, coding: string) => `
local key, coding = ${key}, ${coding}
if coding ~= '' then
  local copy = redis.call('GET', key .. '|' .. coding)
  if copy then return {key, copy, 1} end
end
local body = redis.call('GET', key)
local ttl = -1
if body and coding ~= '' then ttl = redis.call('PTTL', key) end
return {key, body, 0, ttl}`;

/** What a lookup found: the entry's full key, its body (in `coding` when a copy was found). */
export interface Found {
  key: string;
  body: Buffer | null;
  /** The body's coding: null for the entry itself (JSON). */
  coding: Coding | null;
  /** The entry's time left, when a copy was wanted and missing. */
  ttlMs: number;
}

export type FoundReply = [Buffer, Buffer | null, number, number?];

export function foundOf(reply: FoundReply, wanted: Coding | null): Found {
  const [key, body, isCopy, ttlMs] = reply;
  return { key: key.toString(), body, coding: isCopy === 1 ? wanted : null, ttlMs: ttlMs ?? -1 };
}

/** The body in `coding`, or null when it stays as it is (too small, or no coding wanted). */
export function encode(
  body: Buffer,
  coding: Coding | null,
  config: CompressionConfig | undefined,
): Buffer | null {
  if (!coding || !config?.enabled) return null;
  if (body.length < config.thresholdBytes || body.length > ONE_SHOT_MAX_BYTES) return null;
  return compressBody(body, coding, config);
}
