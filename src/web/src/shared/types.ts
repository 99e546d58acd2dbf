/**
 * Response shapes both areas read (docs/API.md). The server's own types use Date and
 * pull in its database modules, so the browser build keeps these JSON twins.
 */

export type SubscriptionStatus = 'active' | 'trialing' | 'past_due' | 'canceled';

/** A plan as GET /api/admin/plans, GET /api/user/plans and a subscription's `plan` return it. */
export interface Plan {
  id: string;
  name: string;
  price_cents: number;
  currency: string;
  interval: 'month' | 'year';
  limits: { max_agents: number; messages_per_month: number };
  stripe_price_id: string | null;
  trial_days: number;
  created_at: string;
}
