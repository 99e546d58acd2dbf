import type { Queryable } from '../queryable.ts';

export type UserRole = 'admin' | 'user';

export interface User {
  id: string;
  tenant_id: string;
  email: string;
  name: string;
  role: UserRole;
  created_at: Date;
}

export async function createUser(
  db: Queryable,
  input: { tenantId: string; email: string; name: string; role: UserRole },
): Promise<User> {
  const { rows } = await db.query<User>(
    `INSERT INTO users (tenant_id, email, name, role) VALUES ($1, $2, $3, $4)
     RETURNING id, tenant_id, email, name, role, created_at`,
    [input.tenantId, input.email, input.name, input.role],
  );
  return rows[0] as User;
}

export async function findUserByEmail(db: Queryable, tenantId: string, email: string): Promise<User | null> {
  const { rows } = await db.query<User>(
    `SELECT id, tenant_id, email, name, role, created_at FROM users
      WHERE tenant_id = $1 AND lower(email) = lower($2)`,
    [tenantId, email],
  );
  return rows[0] ?? null;
}

/** Every tenant's user with this email, with its tenant slug (the CLI asks for --tenant when several). */
export async function findUsersByEmailAnyTenant(
  db: Queryable,
  email: string,
): Promise<Array<User & { tenant_slug: string }>> {
  const { rows } = await db.query(
    `SELECT u.id, u.tenant_id, u.email, u.name, u.role, u.created_at, t.slug AS tenant_slug
       FROM users u JOIN tenants t ON t.id = u.tenant_id
      WHERE lower(u.email) = lower($1) ORDER BY t.slug`,
    [email],
  );
  return rows;
}

export interface UserListItem {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  created_at: Date;
  subscription: { status: string; plan: string } | null;
}

export async function listUsers(
  db: Queryable,
  tenantId: string,
  filter: { role?: UserRole; q?: string; limit: number; offset: number },
): Promise<{ rows: UserListItem[]; total: number }> {
  const where = `u.tenant_id = $1
    AND ($2::text IS NULL OR u.role = $2)
    AND ($3::text IS NULL OR strpos(lower(u.email), lower($3)) > 0 OR strpos(lower(u.name), lower($3)) > 0)`;
  const params = [tenantId, filter.role ?? null, filter.q ?? null];
  const [list, count] = await Promise.all([
    db.query<UserListItem>(
      `SELECT u.id, u.email, u.name, u.role, u.created_at,
              CASE WHEN s.id IS NULL THEN NULL
                   ELSE json_build_object('status', s.status, 'plan', p.name) END AS subscription
         FROM users u
         LEFT JOIN subscriptions s ON s.tenant_id = u.tenant_id AND s.user_id = u.id AND s.status <> 'canceled'
         LEFT JOIN plans p ON p.tenant_id = s.tenant_id AND p.id = s.plan_id
        WHERE ${where}
        ORDER BY u.created_at, u.email
        LIMIT $4 OFFSET $5`,
      [...params, filter.limit, filter.offset],
    ),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM users u WHERE ${where}`, params),
  ]);
  return { rows: list.rows, total: count.rows[0]?.total ?? 0 };
}

/** A user as the CLI lists them, across tenants: with the count of live tokens. */
export interface UserOverview {
  id: string;
  tenant: string;
  email: string;
  name: string;
  role: UserRole;
  created_at: Date;
  live_tokens: number;
}

export async function listUsersOverview(db: Queryable, tenantSlug?: string): Promise<UserOverview[]> {
  const { rows } = await db.query<UserOverview>(
    `SELECT u.id, tn.slug AS tenant, u.email, u.name, u.role, u.created_at,
            (SELECT count(*)::int FROM api_tokens t
              WHERE t.tenant_id = u.tenant_id AND t.user_id = u.id AND t.revoked_at IS NULL) AS live_tokens
       FROM users u JOIN tenants tn ON tn.id = u.tenant_id
      WHERE ($1::text IS NULL OR tn.slug = $1)
      ORDER BY tn.slug, u.role, u.email
      LIMIT 10000`,
    [tenantSlug ?? null],
  );
  return rows;
}
