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

const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);

/**
 * Resolves the Bearer token to a Principal. With `failures`, each failed attempt counts
 * against the client's address, and an address over its limit is refused before the
 * database is asked (a cached valid token still passes).
 */
export function authenticate(
  db: Queryable,
  redis: Redis,
  log: Logger,
  failures: AuthFailureLimiter | null = null,
): RequestHandler {
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
    if (!parsed) return refuse(req, res, 'malformed bearer token', true);
    const owner = await lookupOwner(db, redis, log, parsed.prefix, () => failures?.check(req, res));
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

/** Redis first; on a miss (or Redis away) the database, then cached for the next request. */
async function lookupOwner(
  db: Queryable,
  redis: Redis,
  log: Logger,
  prefix: string,
  beforeDatabase: () => Promise<void> | undefined,
): Promise<TokenOwner | null> {
  const cached = await readCachedOwner(redis, prefix).catch(() => null);
  if (cached) return cached;
  await beforeDatabase();
  const owner = await findTokenOwner(db, prefix);
  // Unknown prefixes are not cached: a flood of made-up tokens must not fill Redis.
  if (owner)
    cacheOwner(redis, prefix, owner).catch((error) => log.debug({ err: error }, 'auth cache write failed'));
  return owner;
}

export const requireAdmin: RequestHandler = (req, _res, next) => {
  if (req.principal?.role !== 'admin')
    throw new HttpError(403, 'forbidden', 'this route is for tenant admins');
  next();
};

/** The authenticated caller; routes under /api only run after `authenticate`. */
export function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new HttpError(401, 'unauthorized', 'not authenticated');
  return req.principal;
}

/** The caller's tenant and user: what every owned row and every cache key is scoped by. */
export function ownerOf(req: { principal?: Principal }): Owner {
  const { tenantId, userId } = principalOf(req);
  return { tenantId, userId };
}
