import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { RateLimitConfig } from '../../config/types.ts';
import { type RateLimitCounters, ResilientRedisStore } from '../../ratelimit/store.ts';
import { errorBody } from '../errorCatalogue.ts';
import { principalOf } from './auth.ts';

/**
 * Requests per tenant per window, by the tenant's plan (free 100, pro 500, enterprise
 * 2000 a minute unless configured). Runs after authentication: the key is the tenant, so
 * every user, token and IP of a tenant shares one budget and no tenant can spend
 * another's. Counted in Redis, so the limit holds across all workers and daemons.
 *
 * A fixed window (rate-limit-redis): simple and exact, one Redis round trip; a client may
 * burst up to twice its limit across a window edge (docs/SCALING.md).
 */
export function tenantRateLimiter(
  redis: Redis,
  config: RateLimitConfig,
  counters: RateLimitCounters,
): RequestHandler {
  const windowSeconds = Math.round(config.windowMs / 1000);
  return rateLimit({
    windowMs: config.windowMs,
    limit: (req) => config.perPlan[principalOf(req).tenantPlan],
    keyGenerator: (req) => principalOf(req).tenantId,
    identifier: (req) => `${principalOf(req).tenantPlan}`,
    // The plan's names (X-RateLimit-*) and the IETF draft's (RateLimit, RateLimit-Policy).
    legacyHeaders: true,
    standardHeaders: 'draft-8',
    store: new ResilientRedisStore(redis, 'wuz:rl:tenant:', counters),
    passOnStoreError: true,
    // Store errors are counted and logged (once per interval) by the store itself.
    logger: { error: () => {}, warn: () => {} },
    validate: { ip: false, trustProxy: false, xForwardedForHeader: false, keyGeneratorIpFallback: false },
    handler: (req, res) => {
      const { tenantPlan, tenantSlug } = principalOf(req);
      counters.rejected(tenantPlan, tenantSlug);
      const { status, body } = errorBody(
        'rate_limited',
        `this tenant's ${tenantPlan} plan allows ${config.perPlan[tenantPlan]} requests per ${windowSeconds} s; retry after ${res.getHeader('Retry-After')} s`,
      );
      res.status(status).json(body);
    },
  });
}
