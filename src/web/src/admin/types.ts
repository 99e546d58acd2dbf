/**
 * The admin API's request bodies (docs/API.md, "Admin (role admin)"): what its forms send.
 * What it answers is the contract's (shared/api.ts).
 */
import type { Plan } from '../shared/api.ts';

/** The PUT body: a secret left out keeps the stored one. */
export interface StripeSettingsInput {
  publishable_key: string;
  secret_key?: string;
  webhook_secret?: string;
  currency: string;
}

export type NewPlan = Omit<Plan, 'id' | 'created_at' | 'stripe_price_id' | 'trial_days'> & {
  stripe_price_id?: string;
  trial_days?: number;
};
