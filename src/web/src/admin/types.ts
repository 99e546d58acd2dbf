/** The admin API's response shapes (docs/API.md, "Admin (role admin)"). */
import type { Plan, SubscriptionStatus } from '../shared/types.ts';

export interface StripeSettings {
  configured: boolean;
  publishable_key: string | null;
  /** The secrets are write-only: the API only ever returns their last 4 characters. */
  secret_key_last4: string | null;
  webhook_secret_last4: string | null;
  currency: string;
  updated_at: string | null;
}

/** The PUT body: a secret left out keeps the stored one. */
export interface StripeSettingsInput {
  publishable_key: string;
  secret_key?: string;
  webhook_secret?: string;
  currency: string;
}

export interface StripeAnalytics {
  currency: string;
  mrr_cents: number;
  arr_cents: number;
  subscriptions: Record<SubscriptionStatus, number>;
  churn_rate_30d: number;
  revenue_by_plan: Array<{ plan_id: string; plan: string; subscriptions: number; mrr_cents: number }>;
  new_subscriptions_per_day: Array<{ date: string; count: number }>;
}

export type NewPlan = Omit<Plan, 'id' | 'created_at' | 'stripe_price_id' | 'trial_days'> & {
  stripe_price_id?: string;
  trial_days?: number;
};

export interface AdminUser {
  id: string;
  email: string;
  name: string;
  role: 'admin' | 'user';
  created_at: string;
  subscription: { status: SubscriptionStatus | string; plan: string } | null;
}
