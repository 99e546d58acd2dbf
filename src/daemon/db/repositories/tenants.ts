import type { Queryable } from '../queryable.ts';

export const TENANT_PLANS = ['free', 'pro', 'enterprise'] as const;
export type TenantPlan = (typeof TENANT_PLANS)[number];

export interface Tenant {
  id: string;
  name: string;
  slug: string;
  plan: TenantPlan;
  created_at: Date;
}

/** "Açaí Resellers Ltd." → "acai-resellers-ltd": lower-case ASCII, digits and dashes. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export async function createTenant(
  db: Queryable,
  input: { name: string; slug: string; plan: TenantPlan },
): Promise<Tenant> {
  const { rows } = await db.query<Tenant>(
    'INSERT INTO tenants (name, slug, plan) VALUES ($1, $2, $3) RETURNING id, name, slug, plan, created_at',
    [input.name, input.slug, input.plan],
  );
  return rows[0] as Tenant;
}

export async function findTenantBySlug(db: Queryable, slug: string): Promise<Tenant | null> {
  const { rows } = await db.query<Tenant>(
    'SELECT id, name, slug, plan, created_at FROM tenants WHERE slug = $1',
    [slug],
  );
  return rows[0] ?? null;
}

export interface TenantSummary extends Tenant {
  users: number;
  admins: number;
}

/** Tenants are the one table not filtered by tenant: listing them is an operator's act (CLI only). */
export async function listTenants(db: Queryable): Promise<TenantSummary[]> {
  const { rows } = await db.query<TenantSummary>(
    `SELECT t.id, t.name, t.slug, t.plan, t.created_at,
            count(u.id)::int AS users,
            count(u.id) FILTER (WHERE u.role = 'admin')::int AS admins
       FROM tenants t LEFT JOIN users u ON u.tenant_id = t.id
      GROUP BY t.id ORDER BY t.created_at, t.slug`,
  );
  return rows;
}

/**
 * Moves a tenant to another plan. Returns the prefixes of its live tokens, whose cached
 * lookups carry the old plan (the rate limiter's input) and must be dropped; null when
 * there is no such tenant.
 */
export async function setTenantPlan(
  db: Queryable,
  slug: string,
  plan: TenantPlan,
): Promise<{ previous: TenantPlan; prefixes: string[] } | null> {
  const { rows } = await db.query<{ id: string; previous: TenantPlan }>(
    `UPDATE tenants t SET plan = $2 FROM (SELECT id, plan FROM tenants WHERE slug = $1 FOR UPDATE) old
      WHERE t.id = old.id RETURNING t.id, old.plan AS previous`,
    [slug, plan],
  );
  const tenant = rows[0];
  if (!tenant) return null;
  const tokens = await db.query<{ prefix: string }>(
    'SELECT prefix FROM api_tokens WHERE tenant_id = $1 AND revoked_at IS NULL',
    [tenant.id],
  );
  return { previous: tenant.previous, prefixes: tokens.rows.map((row) => row.prefix) };
}
