import { z } from 'zod';
import type { NewPlan } from './types.ts';

// The server's rules (src/daemon/api/routes/admin/plans.ts), checked here first. The form
// holds text (what the inputs hold); the schema turns it into the POST body's numbers.
const MAX_COUNT = 1_000_000_000;
const MAX_PRICE_CENTS = 100_000_000;

const wholeNumber = (max: number, tooBig: string) =>
  z
    .string()
    .trim()
    .min(1, 'Required')
    .regex(/^\d+$/, 'Must be a whole number, not negative')
    .transform(Number)
    .refine((n) => n <= max, tooBig);

export const planSchema = z.object({
  name: z.string().trim().min(1, 'Required').max(100, 'Must be at most 100 characters'),
  /** In currency units ("99.90"), sent as integer cents. */
  price: z
    .string()
    .trim()
    .min(1, 'Required')
    .regex(/^\d+([.,]\d{1,2})?$/, 'Must be an amount like 99 or 99.90, not negative')
    .transform((v) => Math.round(Number(v.replace(',', '.')) * 100))
    .refine((cents) => cents <= MAX_PRICE_CENTS, 'Must be at most 1,000,000.00'),
  currency: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{3}$/, 'Must be a 3-letter ISO currency code')
    .transform((c) => c.toLowerCase()),
  interval: z.enum(['month', 'year'], 'Choose monthly or yearly'),
  max_agents: wholeNumber(MAX_COUNT, 'Must be at most 1,000,000,000'),
  messages_per_month: wholeNumber(MAX_COUNT, 'Must be at most 1,000,000,000'),
  stripe_price_id: z.string().trim().max(255, 'Must be at most 255 characters'),
  trial_days: wholeNumber(90, 'Must be between 0 and 90 days'),
});

export type PlanFormValues = z.input<typeof planSchema>;

/** The POST body: an empty Stripe price id is left out. */
export function toNewPlan(values: z.output<typeof planSchema>): NewPlan {
  const body: NewPlan = {
    name: values.name,
    price_cents: values.price,
    currency: values.currency,
    interval: values.interval,
    limits: { max_agents: values.max_agents, messages_per_month: values.messages_per_month },
    trial_days: values.trial_days,
  };
  if (values.stripe_price_id) body.stripe_price_id = values.stripe_price_id;
  return body;
}

/** Where the server's 400 details go in the form. */
export const PLAN_FIELDS: Record<string, keyof PlanFormValues> = {
  'body.name': 'name',
  'body.price_cents': 'price',
  'body.currency': 'currency',
  'body.interval': 'interval',
  'body.limits.max_agents': 'max_agents',
  'body.limits.messages_per_month': 'messages_per_month',
  'body.stripe_price_id': 'stripe_price_id',
  'body.trial_days': 'trial_days',
};
