import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { cacheOwner, readCachedOwner } from '../../auth/authCache.ts';
import { bearerToken, parseToken, secretMatches } from '../../auth/tokens.ts';
import type { Queryable } from '../../db/queryable.ts';
import type { Owner } from '../../db/repositories/owned.ts';
import type { TenantPlan } from '../../db/repositories/tenants.ts';
import { findTokenOwner, type TokenOwner, touchToken } from '../../db/repositories/tokens.ts';
import type { UserRole } from '../../db/repositories/users.ts';
import type { Logger } from '../../logger.ts';
import type { CacheSeal } from '../../security/cacheSeal.ts';
import { HttpError } from '../errors.ts';
import type { AuthFailureLimiter } from './authFailureLimiter.ts';

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
}

/**
 * Resolves the Bearer token to a Principal. A token that verifies always passes: the
 * failure limit only changes how a *failed* attempt is answered (429 instead of 401 once
 * the client's address failed too often), so a flood of bad tokens from one address —
 * or from everyone behind one proxy — never locks out a valid user.
 */
export function authenticate({ db, redis, seal, log, failures = null }: AuthDeps): RequestHandler {
  const refuse = async (req: Request, res: Response, message: string, invalidToken: boolean) => {
    if (invalidToken) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
    await failures?.fail(req, res);
    throw unauthorized(message);
  };
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) return refuse(req, res, 'send Authorization: Bearer <token>', false);
    const presented = bearerToken(header);
    const parsed = presented ? parseToken(presented) : null;
    // Malformed tokens never reach Redis or the database.
    if (!parsed) return refuse(req, res, 'malformed bearer token', true);
    const owner = await lookupOwner(db, redis, seal, log, parsed.prefix);
    // Always compare, even without a row, so a miss and a wrong secret take the same time.
    const matches = secretMatches(parsed.secret, owner?.secret_hash ?? null);
    if (!owner || !matches || owner.revoked) return refuse(req, res, 'invalid or revoked token', true);
    req.principal = {
      tenantId: owner.tenant_id,
      tenantSlug: owner.tenant_slug,
      userId: owner.user_id,
      email: owner.email,
      role: owner.role,
      tokenId: owner.token_id,
      tenantPlan: owner.tenant_plan,
    };
    if (owner.stale) {
      touchToken(db, owner.token_id).catch((error) => log.warn({ err: error }, 'could not record token use'));
    }
    next();
  };
}

/** Redis first; on a miss (or Redis away, or an entry that fails its seal) the database. */
async function lookupOwner(
  db: Queryable,
  redis: Redis,
  seal: CacheSeal,
  log: Logger,
  prefix: string,
): Promise<TokenOwner | null> {
  const cached = await readCachedOwner(redis, seal, prefix).catch(() => null);
  if (cached) return cached;
  const owner = await findTokenOwner(db, prefix);
  // Unknown prefixes are not cached: a flood of made-up tokens must not fill Redis.
  if (owner)
    cacheOwner(redis, seal, prefix, owner).catch((error) =>
      log.debug({ err: error }, 'auth cache write failed'),
    );
  return owner;
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
