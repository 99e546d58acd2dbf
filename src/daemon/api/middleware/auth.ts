import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { authKeyOf, cacheOwner, openCachedOwner, readCachedOwner } from '../../auth/authCache.ts';
import { OwnerMemo } from '../../auth/ownerMemo.ts';
import { bearerToken, parseToken, secretMatches } from '../../auth/tokens.ts';
import type { Queryable } from '../../db/queryable.ts';
import type { Owner } from '../../db/repositories/owned.ts';
import type { TenantPlan } from '../../db/repositories/tenants.ts';
import { findTokenOwner, type TokenOwner, touchToken } from '../../db/repositories/tokens.ts';
import type { UserRole } from '../../db/repositories/users.ts';
import type { Logger } from '../../logger.ts';
import type { CacheSeal } from '../../security/cacheSeal.ts';
import { type AdmissionAnswer, type AdmissionQuery, AdmissionScript } from '../admission/script.ts';
import { HttpError } from '../errors.ts';
import type { AuthFailureLimiter } from './authFailureLimiter.ts';
import type { TenantLimit } from './tenantLimit.ts';

/** Who is calling: resolved from the Bearer token, carried by every request under /api. */
export interface Principal {
  tenantId: string;
  tenantSlug: string;
  userId: string;
  email: string;
  role: UserRole;
  tokenId: string;
  tenantPlan: TenantPlan;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const unauthorized = (message: string) => new HttpError('unauthorized', message);

export interface AuthDeps {
  db: Queryable;
  redis: Redis;
  /** Verifies the auth cache's entries: a forged one is a miss. */
  seal: CacheSeal;
  log: Logger;
  /** Counts failures per client address; null: no limit (rate limits off). */
  failures?: AuthFailureLimiter | null;
  /** The tenant limit, counted in the admission round trip; null: limits off. */
  limit?: TenantLimit | null;
  /** The cache entry a request will read, fetched in the same round trip (cachedRoute.ts prefetchFor). */
  prefetch?: (req: Request, principal: Principal) => AdmissionQuery['lookup'];
}

/** Who a token names and how this request may proceed, from its admission round trip. */
interface Admitted {
  owner: TokenOwner;
  /** Null when Redis could not be asked: the limit fails open and the cache looks up on its own. */
  answer: Extract<AdmissionAnswer, { current: true }> | null;
  /** The base of the cache entry the round trip read, if it read one. */
  lookupBase: string | null;
}

/**
 * Resolves the Bearer token to a Principal, counts the request against its tenant's
 * limit and fetches the cached answer of the GET it names — in one Redis round trip once
 * this worker has seen the token (admission/script.ts; the first request of a token in a
 * worker takes two). A token that verifies always passes authentication: the failure
 * limit only changes how a *failed* attempt is answered (429 instead of 401 once the
 * client's address failed too often), so a flood of bad tokens from one address — or
 * from everyone behind one proxy — never locks out a valid user. Only requests that
 * authenticate count against a tenant.
 */
export function authenticate({
  db,
  redis,
  seal,
  log,
  failures = null,
  limit = null,
  prefetch,
}: AuthDeps): RequestHandler {
  const script = new AdmissionScript(redis);
  const memo = new OwnerMemo();

  const refuse = async (req: Request, res: Response, message: string, invalidToken: boolean) => {
    if (invalidToken) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
    await failures?.fail(req, res);
    throw unauthorized(message);
  };

  /** The admission round trip for this owner; `answer` null when Redis refused it. */
  const ask = async (req: Request, owner: TokenOwner, expectedEntry: string | null, prefix: string) => {
    const principal = principalFrom(owner);
    const lookup = prefetch?.(req, principal) ?? null;
    const query = {
      authKey: authKeyOf(prefix),
      expectedEntry,
      limit: limit ? { key: limit.keyOf(principal), windowMs: limit.windowMs } : null,
      lookup,
    };
    // Nothing to check, count or fetch: no round trip at all.
    if (!expectedEntry && !query.limit && !lookup) {
      return { answer: { current: true, window: null, cache: null } as AdmissionAnswer, lookupBase: null };
    }
    const answer = await script.run(query).catch((error: unknown) => {
      if (limit) limit.failed(error);
      else log.debug({ err: error }, 'admission round trip failed');
      return null;
    });
    return { answer, lookupBase: lookup?.base ?? null };
  };

  /** The owner from the cache entry Redis holds (`stored` when already read), else the database. */
  const resolve = async (prefix: string, stored?: string | null) => {
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
  };

  const verified = (owner: TokenOwner | null | undefined, secret: string): owner is TokenOwner => {
    // Always compare, even without a row, so a miss and a wrong secret take the same time.
    const matches = secretMatches(secret, owner?.secret_hash ?? null);
    return Boolean(owner && matches && !owner.revoked);
  };

  const admit = async (req: Request, prefix: string, secret: string): Promise<Admitted | null> => {
    const remembered = memo.get(prefix);
    let stored: string | null | undefined;
    if (remembered) {
      if (!secretMatches(secret, remembered.owner.secret_hash)) return null;
      const { answer, lookupBase } = await ask(req, remembered.owner, remembered.sealed, prefix);
      if (answer?.current) return { owner: remembered.owner, answer, lookupBase };
      memo.delete(prefix);
      if (!answer) {
        // Redis away: the database decides, never the memo (it cannot see a revocation).
        const owner = await findTokenOwner(db, prefix);
        return verified(owner, secret) ? { owner, answer: null, lookupBase: null } : null;
      }
      // Changed in Redis (revoked, another plan, expired): verify what is there now.
      stored = answer.entry;
    }
    const found = await resolve(prefix, stored);
    if (!verified(found?.owner, secret) || !found) return null;
    // Remembered as used: this request records the use (touchToken) once, not every later one.
    if (found.sealed) memo.set(prefix, { sealed: found.sealed, owner: { ...found.owner, stale: false } });
    const { answer, lookupBase } = await ask(req, found.owner, null, prefix);
    return { owner: found.owner, answer: answer?.current ? answer : null, lookupBase };
  };

  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) return refuse(req, res, 'send Authorization: Bearer <token>', false);
    const presented = bearerToken(header);
    const parsed = presented ? parseToken(presented) : null;
    // Malformed tokens never reach Redis or the database.
    if (!parsed) return refuse(req, res, 'malformed bearer token', true);
    const admitted = await admit(req, parsed.prefix, parsed.secret);
    if (!admitted) return refuse(req, res, 'invalid or revoked token', true);
    const { owner, answer, lookupBase } = admitted;
    const principal = principalFrom(owner);
    req.principal = principal;
    if (owner.stale) {
      touchToken(db, owner.token_id).catch((error) => log.warn({ err: error }, 'could not record token use'));
    }
    if (limit && answer?.window && !limit.admit(res, principal, answer.window)) return;
    if (answer?.cache && lookupBase) req.cachePrefetch = { base: lookupBase, ...answer.cache };
    next();
  };
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

export const requireAdmin: RequestHandler = (req, _res, next) => {
  if (req.principal?.role !== 'admin') throw new HttpError('forbidden', 'this route is for tenant admins');
  next();
};

/** The authenticated caller; routes under /api only run after `authenticate`. */
export function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new HttpError('unauthorized', 'not authenticated');
  return req.principal;
}

/** The caller's tenant and user: what every owned row and every cache key is scoped by. */
export function ownerOf(req: { principal?: Principal }): Owner {
  const { tenantId, userId } = principalOf(req);
  return { tenantId, userId };
}
