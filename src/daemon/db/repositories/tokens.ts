import { generateToken } from '../../auth/tokens.ts';
import type { Queryable } from '../queryable.ts';
import type { TenantPlan } from './tenants.ts';
import type { UserRole } from './users.ts';

export interface CreatedToken {
  id: string;
  token: string;
  name: string;
  created_at: Date;
}

export async function createToken(
  db: Queryable,
  input: { tenantId: string; userId: string; name: string },
): Promise<CreatedToken> {
  const { token, prefix, secretHash } = generateToken();
  const { rows } = await db.query<{ id: string; name: string; created_at: Date }>(
    `INSERT INTO api_tokens (tenant_id, user_id, name, prefix, secret_hash)
     VALUES ($1, $2, $3, $4, $5) RETURNING id, name, created_at`,
    [input.tenantId, input.userId, input.name, prefix, secretHash],
  );
  const row = rows[0] as { id: string; name: string; created_at: Date };
  return { ...row, token };
}

/** Revokes a token by id; null when there is no such live token. The prefix is for the auth cache. */
export async function revokeToken(
  db: Queryable,
  id: string,
): Promise<{ id: string; email: string; prefix: string } | null> {
  const { rows } = await db.query<{ id: string; email: string; prefix: string }>(
    `UPDATE api_tokens t SET revoked_at = now()
       FROM users u
      WHERE t.id = $1 AND t.revoked_at IS NULL AND u.tenant_id = t.tenant_id AND u.id = t.user_id
     RETURNING t.id, u.email, t.prefix`,
    [id],
  );
  return rows[0] ?? null;
}

/** Revokes every live token of these users with this name (the demo seed rotates its own). */
export async function revokeNamedTokens(
  db: Queryable,
  tenantId: string,
  userIds: string[],
  name: string,
): Promise<string[]> {
  const { rows } = await db.query<{ prefix: string }>(
    `UPDATE api_tokens SET revoked_at = now()
      WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND name = $3 AND revoked_at IS NULL
     RETURNING prefix`,
    [tenantId, userIds, name],
  );
  return rows.map((row) => row.prefix);
}

/** What a Bearer token resolves to: the caller, their tenant and role. */
export interface TokenOwner {
  token_id: string;
  secret_hash: Buffer;
  revoked: boolean;
  stale: boolean;
  user_id: string;
  email: string;
  role: UserRole;
  tenant_id: string;
  tenant_slug: string;
  /** The tenant's plan: the rate limiter's input, cached with the token (60 s, dropped on a plan change). */
  tenant_plan: TenantPlan;
}

export async function findTokenOwner(db: Queryable, prefix: string): Promise<TokenOwner | null> {
  const { rows } = await db.query<TokenOwner>(
    `SELECT t.id AS token_id, t.secret_hash, t.revoked_at IS NOT NULL AS revoked,
            (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS stale,
            u.id AS user_id, u.email, u.role, u.tenant_id, tn.slug AS tenant_slug, tn.plan AS tenant_plan
       FROM api_tokens t
       JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
       JOIN tenants tn ON tn.id = t.tenant_id
      WHERE t.prefix = $1`,
    [prefix],
  );
  return rows[0] ?? null;
}

/** Records use at most once a minute per token, so reads do not become writes. */
export async function touchToken(db: Queryable, tokenId: string): Promise<void> {
  await db.query(
    `UPDATE api_tokens SET last_used_at = now()
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [tokenId],
  );
}

/** A token as an operator may see it: never its secret or hash (the prefix is public). */
export interface TokenListItem {
  id: string;
  prefix: string;
  name: string;
  tenant: string;
  email: string;
  role: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** Tokens, newest first, of one tenant and/or one user email; revoked ones only when asked. */
export async function listTokens(
  db: Queryable,
  filter: { tenantSlug?: string; email?: string; includeRevoked: boolean },
): Promise<TokenListItem[]> {
  const { rows } = await db.query<TokenListItem>(
    `SELECT t.id, t.prefix, t.name, tn.slug AS tenant, u.email, u.role, t.created_at, t.last_used_at, t.revoked_at
       FROM api_tokens t
       JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
       JOIN tenants tn ON tn.id = t.tenant_id
      WHERE ($1::text IS NULL OR tn.slug = $1)
        AND ($2::text IS NULL OR lower(u.email) = lower($2))
        AND ($3 OR t.revoked_at IS NULL)
      ORDER BY t.created_at DESC, t.id
      LIMIT 10000`,
    [filter.tenantSlug ?? null, filter.email ?? null, filter.includeRevoked],
  );
  return rows;
}
