import type { Queryable } from '../queryable.ts';

export interface StripeAnalytics {
  currency: string;
  mrr_cents: number;
  arr_cents: number;
  subscriptions: { active: number; trialing: number; past_due: number; canceled: number };
  churn_rate_30d: number;
  revenue_by_plan: Array<{ plan_id: string; plan: string; subscriptions: number; mrr_cents: number }>;
  new_subscriptions_per_day: Array<{ date: string; count: number }>;
}

// A subscription's monthly value: yearly plans count a twelfth, rounded to the cent.
const MONTHLY = `CASE WHEN p.interval = 'year' THEN round(p.price_cents / 12.0) ELSE p.price_cents END`;
const LIVE = `s.status IN ('active', 'past_due')`;

/**
 * The tenant's subscription analytics, all in SQL (definitions in docs/API.md), in one
 * round trip per figure group — they run concurrently on the pool.
 */
export async function stripeAnalytics(db: Queryable, tenantId: string): Promise<StripeAnalytics> {
  const [totals, byPlan, perDay, currency] = await Promise.all([
    db.query(
      `SELECT coalesce(sum(${MONTHLY}) FILTER (WHERE ${LIVE}), 0)::bigint AS mrr,
              count(*) FILTER (WHERE s.status = 'active')::int AS active,
              count(*) FILTER (WHERE s.status = 'trialing')::int AS trialing,
              count(*) FILTER (WHERE s.status = 'past_due')::int AS past_due,
              count(*) FILTER (WHERE s.status = 'canceled')::int AS canceled,
              count(*) FILTER (WHERE s.status = 'canceled'
                                 AND s.canceled_at > now() - interval '30 days')::int AS churned,
              count(*) FILTER (WHERE s.created_at <= now() - interval '30 days'
                                 AND s.status <> 'trialing'
                                 AND (s.canceled_at IS NULL OR s.canceled_at > now() - interval '30 days'))::int
                AS live_30d_ago
         FROM subscriptions s JOIN plans p ON p.tenant_id = s.tenant_id AND p.id = s.plan_id
        WHERE s.tenant_id = $1`,
      [tenantId],
    ),
    db.query(
      `SELECT p.id AS plan_id, p.name AS plan, count(s.id)::int AS subscriptions,
              coalesce(sum(${MONTHLY}) FILTER (WHERE s.id IS NOT NULL), 0)::bigint AS mrr_cents
         FROM plans p
         LEFT JOIN subscriptions s ON s.tenant_id = p.tenant_id AND s.plan_id = p.id AND ${LIVE}
        WHERE p.tenant_id = $1
        GROUP BY p.id, p.name
        ORDER BY mrr_cents DESC, p.name`,
      [tenantId],
    ),
    db.query(
      `WITH days AS (
         SELECT generate_series((now() AT TIME ZONE 'UTC')::date - 29, (now() AT TIME ZONE 'UTC')::date,
                                interval '1 day')::date AS day)
       SELECT to_char(d.day, 'YYYY-MM-DD') AS date, count(s.id)::int AS count
         FROM days d
         LEFT JOIN subscriptions s
           ON s.tenant_id = $1 AND (s.created_at AT TIME ZONE 'UTC')::date = d.day
        GROUP BY d.day ORDER BY d.day`,
      [tenantId],
    ),
    db.query(
      `SELECT coalesce(
         (SELECT currency FROM stripe_settings WHERE tenant_id = $1),
         (SELECT currency FROM plans WHERE tenant_id = $1 GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1),
         'usd') AS currency`,
      [tenantId],
    ),
  ]);
  const t = totals.rows[0];
  const mrr = Number(t.mrr);
  return {
    currency: currency.rows[0].currency,
    mrr_cents: mrr,
    arr_cents: mrr * 12,
    subscriptions: { active: t.active, trialing: t.trialing, past_due: t.past_due, canceled: t.canceled },
    churn_rate_30d: t.live_30d_ago > 0 ? Math.round((t.churned / t.live_30d_ago) * 10_000) / 10_000 : 0,
    revenue_by_plan: byPlan.rows.map((row) => ({ ...row, mrr_cents: Number(row.mrr_cents) })),
    new_subscriptions_per_day: perDay.rows,
  };
}
