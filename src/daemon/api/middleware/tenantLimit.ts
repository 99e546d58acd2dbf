import { createHash } from 'node:crypto';
import type { Response } from 'express';
import type { RateLimitConfig } from '../../config/types.ts';
import type { RateLimitCounters } from '../../ratelimit/store.ts';
import { errorBody } from '../errorCatalogue.ts';
import type { Principal } from './auth.ts';

/**
 * Requests per tenant per window, by the tenant's plan (free 100, pro 500, enterprise
 * 2000 a minute unless configured). The key is the tenant, so every user, token and IP of
 * a tenant shares one budget and no tenant can spend another's. Counted in Redis by the
 * admission round trip (admission/script.ts: rate-limit-redis's fixed window, in the same
 * keys), so the limit is exact across all workers and daemons; a client may burst up to
 * twice its limit across a window edge (docs/SCALING.md).
 *
 * The answers are express-rate-limit's, header for header: `X-RateLimit-*` (the plan's
 * names) and the IETF draft-8 `RateLimit`/`RateLimit-Policy`; a refusal is a 429 with
 * Retry-After.
 */
export class TenantLimit {
  readonly windowMs: number;
  private readonly windowSeconds: number;
  private readonly config: RateLimitConfig;
  private readonly counters: RateLimitCounters;

  constructor(config: RateLimitConfig, counters: RateLimitCounters) {
    this.config = config;
    this.counters = counters;
    this.windowMs = config.windowMs;
    this.windowSeconds = Math.ceil(config.windowMs / 1000);
  }

  /** The counter a tenant's requests go to (rate-limit-redis's prefix and key). */
  keyOf(principal: Principal): string {
    return `wuz:rl:tenant:${principal.tenantId}`;
  }

  /** The headers that say the caller's standing: X-RateLimit-* and draft-8's RateLimit(-Policy). */
  headers(principal: Principal, window: { hits: number; ttlMs: number }): Array<[string, string]> {
    const limit = this.config.perPlan[principal.tenantPlan];
    const remaining = Math.max(limit - window.hits, 0);
    const resetSeconds = Math.max(0, Math.ceil(window.ttlMs / 1000));
    const name = principal.tenantPlan;
    return [
      ['X-RateLimit-Limit', String(limit)],
      ['X-RateLimit-Remaining', String(remaining)],
      ['X-RateLimit-Reset', String(Math.ceil((Date.now() + window.ttlMs) / 1000))],
      ['RateLimit', `"${name}"; r=${remaining}; t=${resetSeconds}`],
      [
        'RateLimit-Policy',
        `"${name}"; q=${limit}; w=${this.windowSeconds}; pk=:${partitionKey(principal.tenantId)}:`,
      ],
    ];
  }

  /** True when this request is within the tenant's limit. */
  allows(principal: Principal, window: { hits: number }): boolean {
    return window.hits <= this.config.perPlan[principal.tenantPlan];
  }

  /**
   * Says the caller's standing in the headers; answers 429 and returns false when this
   * request is over the limit.
   */
  admit(res: Response, principal: Principal, window: { hits: number; ttlMs: number }): boolean {
    for (const [name, value] of this.headers(principal, window)) res.setHeader(name, value);
    if (this.allows(principal, window)) return true;
    const limit = this.config.perPlan[principal.tenantPlan];
    const resetSeconds = Math.max(0, Math.ceil(window.ttlMs / 1000));
    this.counters.rejected(principal.tenantPlan, principal.tenantSlug);
    res.setHeader('Retry-After', String(resetSeconds));
    const { status, body } = errorBody(
      'rate_limited',
      `this tenant's ${principal.tenantPlan} plan allows ${limit} requests per ${this.windowSeconds} s; retry after ${resetSeconds} s`,
    );
    res.status(status).json(body);
    return false;
  }

  /** Redis refused the count: the request goes on (fail open), counted and logged. */
  failed(error: unknown): void {
    this.counters.failed(error);
  }
}

const partitionKeys = new Map<string, string>();

/** draft-8's partition key: who the count belongs to, without naming the tenant (kept per tenant). */
function partitionKey(key: string): string {
  let known = partitionKeys.get(key);
  if (known === undefined) {
    known = Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
    // Bounded: a daemon with more tenants than this just hashes again.
    if (partitionKeys.size >= 10_000) partitionKeys.clear();
    partitionKeys.set(key, known);
  }
  return known;
}
