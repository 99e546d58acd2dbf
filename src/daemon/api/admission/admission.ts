import type { Redis } from 'ioredis';
import { authKeyOf, cacheOwner, openCachedOwner, readCachedOwner } from '../../auth/authCache.ts';
import { OwnerMemo } from '../../auth/ownerMemo.ts';
import { secretMatches } from '../../auth/tokens.ts';
import type { ReadRequest } from '../../cache/cachedRoute.ts';
import type { CacheEntrySpec, Prefetched } from '../../cache/responseCache.ts';
import type { Queryable } from '../../db/queryable.ts';
import { findTokenOwner, type TokenOwner } from '../../db/repositories/tokens.ts';
import type { Logger } from '../../logger.ts';
import type { CacheSeal } from '../../security/cacheSeal.ts';
import type { Coding } from '../compression/negotiate.ts';
import type { Principal } from '../middleware/auth.ts';
import type { TenantLimit } from '../middleware/tenantLimit.ts';
import { AdmissionScript } from './script.ts';

export interface AdmissionDeps {
  db: Queryable;
  redis: Redis;
  /** Verifies the auth cache's entries: a forged one is a miss. */
  seal: CacheSeal;
  log: Logger;
  /** The tenant limit, counted in the admission round trip; null: limits off. */
  limit?: TenantLimit | null;
  /** The cache entry a request will read, fetched in the same round trip (cachedRoute.ts prefetchFor). */
  prefetch?: (
    req: ReadRequest,
    principal: Principal,
  ) => { spec: CacheEntrySpec; coding: Coding | null } | null;
}

/** Who a token names and how this request may proceed, from its admission round trip. */
export interface Admitted {
  owner: TokenOwner;
  principal: Principal;
  /** The tenant's window with this request; null when not counted (limits off, Redis away). */
  window: { hits: number; ttlMs: number } | null;
  /** The cache entry the round trip read, with its spec; null when it read none. */
  prefetched: Prefetched | null;
}

declare module 'node:http' {
  interface IncomingMessage {
    /** Decided already, by the cached-read fast path: null means the token was refused. */
    admission?: Admitted | null;
  }
}

/**
 * Decides who a token names, counts the request against its tenant's window and fetches
 * the cached answer of the GET it names — in one Redis round trip once this worker has
 * seen the token (script.ts; the first request of a token in a worker takes two: the
 * auth entry is read and verified first).
 */
export class Admission {
  private readonly deps: AdmissionDeps;
  private readonly script: AdmissionScript;
  private readonly memo = new OwnerMemo();

  constructor(deps: AdmissionDeps) {
    this.deps = deps;
    this.script = new AdmissionScript(deps.redis);
  }

  /** The request's owner and round trip, or null when the token does not verify (or is revoked). */
  async admit(req: ReadRequest, prefix: string, secret: string): Promise<Admitted | null> {
    const { db } = this.deps;
    const remembered = this.memo.get(prefix);
    let stored: string | null | undefined;
    if (remembered) {
      if (!secretMatches(secret, remembered.owner.secret_hash)) return null;
      const asked = await this.ask(req, remembered.owner, remembered.sealed, prefix);
      if (asked.current) return asked;
      this.memo.delete(prefix);
      if (asked.entry === undefined) {
        // Redis away: the database decides, never the memo (it cannot see a revocation).
        const owner = await findTokenOwner(db, prefix);
        return verified(owner, secret) ? admittedWithout(owner) : null;
      }
      // Changed in Redis (revoked, another plan, expired): verify what is there now.
      stored = asked.entry;
    }
    const found = await this.resolve(prefix, stored);
    if (!verified(found?.owner, secret) || !found) return null;
    // Remembered as used: this request records the use (touchToken) once, not every later one.
    if (found.sealed)
      this.memo.set(prefix, { sealed: found.sealed, owner: { ...found.owner, stale: false } });
    const asked = await this.ask(req, found.owner, null, prefix);
    return asked.current ? asked : admittedWithout(found.owner);
  }

  /**
   * The admission round trip for this owner: what it admitted, or the auth entry Redis
   * holds when that is not `expectedEntry` (`entry` undefined: Redis refused the call).
   */
  private async ask(
    req: ReadRequest,
    owner: TokenOwner,
    expectedEntry: string | null,
    prefix: string,
  ): Promise<(Admitted & { current: true }) | { current: false; entry: string | null | undefined }> {
    const { limit, prefetch, log } = this.deps;
    const principal = principalFrom(owner);
    const lookup = prefetch?.(req, principal) ?? null;
    const query = {
      authKey: authKeyOf(prefix),
      expectedEntry,
      limit: limit ? { key: limit.keyOf(principal), windowMs: limit.windowMs } : null,
      lookup: lookup && { base: lookup.spec.base, tags: lookup.spec.tags, coding: lookup.coding },
    };
    // Nothing to check, count or fetch: no round trip at all.
    if (!expectedEntry && !query.limit && !lookup) {
      return { current: true, owner, principal, window: null, prefetched: null };
    }
    const answer = await this.script.run(query).catch((error: unknown) => {
      if (limit) limit.failed(error);
      else log.debug({ err: error }, 'admission round trip failed');
      return null;
    });
    if (!answer) return { current: false, entry: undefined };
    if (!answer.current) return { current: false, entry: answer.entry };
    const prefetched = lookup && answer.cache ? { spec: lookup.spec, ...answer.cache } : null;
    return { current: true, owner, principal, window: answer.window, prefetched };
  }

  /** The owner from the cache entry Redis holds (`stored` when already read), else the database. */
  private async resolve(prefix: string, stored?: string | null) {
    const { redis, seal, db, log } = this.deps;
    const cached =
      stored === undefined
        ? await readCachedOwner(redis, seal, prefix).catch(() => null)
        : openCachedOwner(seal, prefix, stored);
    if (cached) return cached;
    const owner = await findTokenOwner(db, prefix);
    // Unknown prefixes are not cached: a flood of made-up tokens must not fill Redis.
    if (!owner) return null;
    const sealed = await cacheOwner(redis, seal, prefix, owner).catch((error) => {
      log.debug({ err: error }, 'auth cache write failed');
      return null;
    });
    return { owner, sealed };
  }
}

function verified(owner: TokenOwner | null | undefined, secret: string): owner is TokenOwner {
  // Always compare, even without a row, so a miss and a wrong secret take the same time.
  const matches = secretMatches(secret, owner?.secret_hash ?? null);
  return Boolean(owner && matches && !owner.revoked);
}

/** Admitted with nothing counted or fetched: Redis could not be asked (fail open). */
function admittedWithout(owner: TokenOwner): Admitted {
  return { owner, principal: principalFrom(owner), window: null, prefetched: null };
}

function principalFrom(owner: TokenOwner): Principal {
  return {
    tenantId: owner.tenant_id,
    tenantSlug: owner.tenant_slug,
    userId: owner.user_id,
    email: owner.email,
    role: owner.role,
    tokenId: owner.token_id,
    tenantPlan: owner.tenant_plan,
  };
}
