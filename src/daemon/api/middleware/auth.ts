import type { Request, RequestHandler, Response } from 'express';
import { bearerToken, parseToken } from '../../auth/tokens.ts';
import type { Queryable } from '../../db/queryable.ts';
import type { Owner } from '../../db/repositories/owned.ts';
import type { TenantPlan } from '../../db/repositories/tenants.ts';
import { touchToken } from '../../db/repositories/tokens.ts';
import type { UserRole } from '../../db/repositories/users.ts';
import type { Logger } from '../../logger.ts';
import type { Admission } from '../admission/admission.ts';
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
  log: Logger;
  /** Decides who a token names, counts it and fetches its cached answer (admission.ts). */
  admission: Admission;
  /** Counts failures per client address; null: no limit (rate limits off). */
  failures?: AuthFailureLimiter | null;
  /** The tenant limit; null: limits off. */
  limit?: TenantLimit | null;
}

/**
 * Resolves the Bearer token to a Principal, counts the request against its tenant's
 * limit and fetches the cached answer of the GET it names: one Redis round trip once this
 * worker has seen the token (admission/). A token that verifies always passes
 * authentication: the failure limit only changes how a *failed* attempt is answered (429
 * instead of 401 once the client's address failed too often), so a flood of bad tokens
 * from one address — or from everyone behind one proxy — never locks out a valid user.
 * Only requests that authenticate count against a tenant.
 */
export function authenticate({
  db,
  log,
  admission,
  failures = null,
  limit = null,
}: AuthDeps): RequestHandler {
  const refuse = async (req: Request, res: Response, message: string, invalidToken: boolean) => {
    if (invalidToken) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
    await failures?.fail(req, res);
    throw unauthorized(message);
  };

  return async (req, res, next) => {
    let admitted = req.admission;
    if (admitted === undefined) {
      const header = req.get('authorization');
      if (!header) return refuse(req, res, 'send Authorization: Bearer <token>', false);
      const parsed = tokenOf(header);
      // Malformed tokens never reach Redis or the database.
      if (!parsed) return refuse(req, res, 'malformed bearer token', true);
      admitted = await admission.admit(req, parsed.prefix, parsed.secret);
    }
    if (!admitted) return refuse(req, res, 'invalid or revoked token', true);
    const { owner, principal, window, prefetched } = admitted;
    req.principal = principal;
    if (owner.stale) {
      touchToken(db, owner.token_id).catch((error) => log.warn({ err: error }, 'could not record token use'));
    }
    if (limit && window && !limit.admit(res, principal, window)) return;
    if (prefetched) req.cachePrefetch = prefetched;
    next();
  };
}

/** The prefix and secret of an `Authorization: Bearer wuz_…` header; null when malformed. */
export function tokenOf(header: string): { prefix: string; secret: string } | null {
  const presented = bearerToken(header);
  return presented ? parseToken(presented) : null;
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
