import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { RateLimitConfig } from '../../config/types.ts';
import { type RateLimitCounters, ResilientRedisStore } from '../../ratelimit/store.ts';
import { HttpError } from '../errors.ts';

/**
 * Failed authentications per client address per window. Only failures count, and only
 * failures are refused: once an address is over the limit its next failed attempts are
 * answered 429 (with Retry-After) instead of 401, which slows guessing down, while any
 * token that verifies still passes — a valid user behind the same address (an office, a
 * reverse proxy without --trust-proxy) is never locked out by someone else's flood.
 * The address is `req.ip`: the socket's peer, or the client a trusted proxy names.
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

  /** Counts a failure; from the one that goes over the limit on, failures are 429s. */
  async fail(req: Request, res: Response): Promise<void> {
    const info = await this.store.increment(this.keyOf(req)).catch(() => undefined); // fail open
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
      'rate_limited',
      `too many failed authentications from this address; retry after ${seconds} s`,
    );
  }
}
