import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey, type Keyring } from './keyring.ts';

/**
 * Signs what the daemon caches in Redis where a forged entry would grant something (the
 * token lookup: role, tenant and secret hash). Redis is a cache, not an authority: an
 * entry whose MAC does not verify under the daemon's key is treated as a miss, so writing
 * to Redis is not enough to mint a token. Entries of a node with another key, or from
 * before a key rotation, just miss and are rewritten.
 */
export class CacheSeal {
  private readonly key: Buffer;

  constructor(keyring: Keyring) {
    this.key = deriveKey(keyring.current, 'auth-cache-mac v1');
  }

  /** `<mac>.<value>`: the MAC covers the cache key too, so an entry cannot be moved to another. */
  seal(cacheKey: string, value: string): string {
    return `${this.mac(cacheKey, value).toString('base64url')}.${value}`;
  }

  /** The value when the entry is genuine, null when it is not (forged, moved, another key). */
  open(cacheKey: string, stored: string): string | null {
    const dot = stored.indexOf('.');
    if (dot <= 0) return null;
    const presented = Buffer.from(stored.slice(0, dot), 'base64url');
    const value = stored.slice(dot + 1);
    const expected = this.mac(cacheKey, value);
    return presented.length === expected.length && timingSafeEqual(presented, expected) ? value : null;
  }

  private mac(cacheKey: string, value: string): Buffer {
    return createHmac('sha256', this.key).update(cacheKey).update('\0').update(value).digest();
  }
}
