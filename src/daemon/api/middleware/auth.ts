import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { cacheOwner, readCachedOwner } from '../../auth/authCache.ts';
import { parseToken, secretMatches } from '../../auth/tokens.ts';
import type { Queryable } from '../../db/queryable.ts';
import type { Owner } from '../../db/repositories/owned.ts';
import { findTokenOwner, type TokenOwner, touchToken } from '../../db/repositories/tokens.ts';
import type { UserRole } from '../../db/repositories/users.ts';
import type { Logger } from '../../logger.ts';
import { HttpError } from '../errors.ts';

/** Who is calling: resolved from the Bearer token, carried by every request under /api. */
export interface Principal {
  tenantId: string;
  tenantSlug: string;
  userId: string;
  email: string;
  role: UserRole;
  tokenId: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);

export function authenticate(db: Queryable, redis: Redis, log: Logger): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) throw unauthorized('send Authorization: Bearer <token>');
    const match = /^Bearer +(\S+)$/i.exec(header.trim());
    const parsed = match ? parseToken(match[1] as string) : null;
    if (!parsed) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw unauthorized('malformed bearer token');
    }
    const owner = await lookupOwner(db, redis, log, parsed.prefix);
    // Always compare, even without a row, so a miss and a wrong secret take the same time.
    const matches = secretMatches(parsed.secret, owner?.secret_hash ?? null);
    if (!owner || !matches || owner.revoked) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw unauthorized('invalid or revoked token');
    }
    req.principal = {
      tenantId: owner.tenant_id,
      tenantSlug: owner.tenant_slug,
      userId: owner.user_id,
      email: owner.email,
      role: owner.role,
      tokenId: owner.token_id,
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
): Promise<TokenOwner | null> {
  const cached = await readCachedOwner(redis, prefix).catch(() => null);
  if (cached) return cached;
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
