import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { RateLimitConfig } from '../../config.ts';
import { type RateLimitCounters, ResilientRedisStore } from '../../ratelimit/store.ts';
import { HttpError } from '../errors.ts';

/**
 * Failed authentications per client IP per window. Only failures count, so a busy office
 * behind one address is never limited for its valid tokens; an address over the limit
 * gets 429 for anything that is not already a cached valid token, before the database is
 * asked: a flood of made-up tokens cannot starve the auth path.
 */
export class AuthFailureLimiter {
  private readonly store: ResilientRedisStore;
  private readonly config: RateLimitConfig;
  private readonly counters: RateLimitCounters;

  constructor(redis: Redis, config: RateLimitConfig, counters: RateLimitCounters) {
    this.config = config;
    this.counters = counters;
    this.store = new ResilientRedisStore(redis, 'wuz:rl:authfail:', counters);
    this.store.init({ windowMs: config.windowMs } as never);
  }

  /** Throws 429 when the caller's address has failed too often this window. */
  async check(req: Request, res: Response): Promise<void> {
    const info = await this.store.get(this.keyOf(req)).catch(() => undefined); // fail open
    if (info && info.totalHits >= this.config.unauthenticated) this.reject(res, info.resetTime);
  }

  /** Counts a failure; the one that goes over the limit is already a 429. */
  async fail(req: Request, res: Response): Promise<void> {
    const info = await this.store.increment(this.keyOf(req)).catch(() => undefined);
    if (info && info.totalHits > this.config.unauthenticated) this.reject(res, info.resetTime);
  }

  private keyOf(req: Request): string {
    return req.ip ?? req.socket.remoteAddress ?? 'unknown';
  }

  private reject(res: Response, resetTime: Date | undefined): never {
    this.counters.rejectedUnauthenticated();
    const seconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now()) - Date.now()) / 1000));
    res.setHeader('Retry-After', String(seconds));
    throw new HttpError(
      429,
      'rate_limited',
      `too many failed authentications from this address; retry after ${seconds} s`,
    );
  }
}
