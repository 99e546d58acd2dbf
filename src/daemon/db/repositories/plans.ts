import type { Queryable } from '../queryable.ts';

export interface Plan {
  id: string;
  name: string;
  price_cents: number;
  currency: string;
  interval: 'month' | 'year';
  limits: { max_agents: number; messages_per_month: number };
  stripe_price_id: string | null;
  trial_days: number;
  created_at: Date;
}

export interface NewPlan {
  name: string;
  price_cents: number;
  currency: string;
  interval: 'month' | 'year';
  limits: { max_agents: number; messages_per_month: number };
  stripe_price_id?: string | null;
  trial_days?: number;
}

/** The API's shape of a plan row: limits grouped, as clients read them. */
export const PLAN_COLUMNS = `p.id, p.name, p.price_cents, p.currency, p.interval,
  json_build_object('max_agents', p.max_agents, 'messages_per_month', p.messages_per_month) AS limits,
  p.stripe_price_id, p.trial_days, p.created_at`;

export async function createPlan(db: Queryable, tenantId: string, plan: NewPlan): Promise<Plan> {
  const { rows } = await db.query<Plan>(
    `WITH p AS (
       INSERT INTO plans (tenant_id, name, price_cents, currency, interval, max_agents,
                          messages_per_month, stripe_price_id, trial_days)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *)
     SELECT ${PLAN_COLUMNS} FROM p`,
    [
      tenantId,
      plan.name,
      plan.price_cents,
      plan.currency,
      plan.interval,
      plan.limits.max_agents,
      plan.limits.messages_per_month,
      plan.stripe_price_id ?? null,
      plan.trial_days ?? 0,
    ],
  );
  return rows[0] as Plan;
}

export async function listPlans(db: Queryable, tenantId: string): Promise<Plan[]> {
  const { rows } = await db.query<Plan>(
    `SELECT ${PLAN_COLUMNS} FROM plans p WHERE p.tenant_id = $1 ORDER BY p.price_cents, p.name`,
    [tenantId],
  );
  return rows;
}

export async function findPlan(db: Queryable, tenantId: string, id: string): Promise<Plan | null> {
  const { rows } = await db.query<Plan>(
    `SELECT ${PLAN_COLUMNS} FROM plans p WHERE p.tenant_id = $1 AND p.id = $2`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}
