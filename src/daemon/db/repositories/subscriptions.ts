import type { Queryable } from '../queryable.ts';
import { PLAN_COLUMNS, type Plan } from './plans.ts';

export type SubscriptionStatus = 'trialing' | 'active' | 'past_due' | 'canceled';

export interface Subscription {
  id: string;
  status: SubscriptionStatus;
  cancel_at_period_end: boolean;
  current_period_start: Date;
  current_period_end: Date;
  canceled_at: Date | null;
  created_at: Date;
  plan: Plan;
  usage: { agents: number; messages_this_month: number };
}

/** The caller's live (not canceled) subscription with its plan and usage, or null. */
export async function findLiveSubscription(
  db: Queryable,
  tenantId: string,
  userId: string,
  { forUpdate = false } = {},
): Promise<Subscription | null> {
  const { rows } = await db.query<Subscription>(
    `SELECT s.id, s.status, s.cancel_at_period_end, s.current_period_start, s.current_period_end,
            s.canceled_at, s.created_at,
            (SELECT row_to_json(x) FROM (SELECT ${PLAN_COLUMNS} FROM plans p
               WHERE p.tenant_id = s.tenant_id AND p.id = s.plan_id) x) AS plan,
            json_build_object(
              'agents', (SELECT count(*)::int FROM agents a WHERE a.tenant_id = s.tenant_id AND a.owner_id = s.user_id),
              -- Messages are sent by campaigns (the queues issue); none exist before them.
              'messages_this_month', 0) AS usage
       FROM subscriptions s
      WHERE s.tenant_id = $1 AND s.user_id = $2 AND s.status <> 'canceled'
      ${forUpdate ? 'FOR UPDATE OF s' : ''}`,
    [tenantId, userId],
  );
  const row = rows[0];
  if (!row) return null;
  // row_to_json renders timestamps as "…+00:00": make the plan's match every other date (ISO, Z).
  row.plan.created_at = new Date(row.plan.created_at);
  return row;
}

export async function createSubscription(
  db: Queryable,
  input: { tenantId: string; userId: string; plan: Plan },
): Promise<void> {
  const trial = input.plan.trial_days > 0;
  await db.query(
    `INSERT INTO subscriptions (tenant_id, user_id, plan_id, status, current_period_start, current_period_end)
     VALUES ($1, $2, $3, $4, now(), now() + $5::interval)`,
    [
      input.tenantId,
      input.userId,
      input.plan.id,
      trial ? 'trialing' : 'active',
      trial ? `${input.plan.trial_days} days` : `1 ${input.plan.interval}`,
    ],
  );
}

/** Moves a live subscription to another plan; a pending cancellation is withdrawn. */
export async function changeSubscriptionPlan(db: Queryable, tenantId: string, id: string, planId: string) {
  await db.query(
    `UPDATE subscriptions SET plan_id = $3, cancel_at_period_end = false, updated_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, planId],
  );
}

export async function cancelAtPeriodEnd(db: Queryable, tenantId: string, id: string): Promise<void> {
  await db.query(
    `UPDATE subscriptions SET cancel_at_period_end = true, updated_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
}

export async function countAgents(db: Queryable, tenantId: string, ownerId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM agents WHERE tenant_id = $1 AND owner_id = $2',
    [tenantId, ownerId],
  );
  return rows[0]?.n ?? 0;
}
