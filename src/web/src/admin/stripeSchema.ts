import { z } from 'zod';
import type { StripeSettings } from '../shared/api.ts';

// The server's rules (src/daemon/api/routes/admin/stripe.ts), checked here first.
const PUBLISHABLE = /^pk_(test|live)_[A-Za-z0-9]{8,}$/;
const SECRET = /^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$/;
const WEBHOOK = /^whsec_[A-Za-z0-9+/=]{8,}$/;

const key = (pattern: RegExp, example: string) =>
  z.string().trim().max(255, 'Must be at most 255 characters').regex(pattern, `Must look like ${example}`);
/** A secret left blank keeps the stored one (the PUT leaves it out); none stored, it is required. */
const secret = (pattern: RegExp, example: string, required: boolean) =>
  z
    .string()
    .trim()
    .refine((v) => !required || v !== '', 'Required the first time settings are saved')
    .refine((v) => v === '' || v.length <= 255, 'Must be at most 255 characters')
    .refine((v) => v === '' || pattern.test(v), `Must look like ${example}`);

export const modeOf = (value: string) => (value.includes('_live_') ? 'live' : 'test');

/**
 * The form's schema, given what is stored: the secrets are required the first time, and a
 * publishable key must be of the same mode (test/live) as the secret key it goes with —
 * the one typed, or the stored one (whose mode is the stored publishable key's: the server
 * never stores a mixed pair). The server checks both again (422).
 */
export function settingsSchema(stored: Pick<StripeSettings, 'configured' | 'publishable_key'>) {
  return z
    .object({
      publishable_key: key(PUBLISHABLE, 'pk_test_… or pk_live_…'),
      secret_key: secret(SECRET, 'sk_test_…, sk_live_… or rk_…', !stored.configured),
      webhook_secret: secret(WEBHOOK, 'whsec_…', !stored.configured),
      currency: z
        .string()
        .trim()
        .regex(/^[A-Za-z]{3}$/, 'Must be a 3-letter ISO currency code')
        .transform((c) => c.toLowerCase()),
    })
    .superRefine((v, ctx) => {
      const secretMode = v.secret_key
        ? modeOf(v.secret_key)
        : stored.publishable_key
          ? modeOf(stored.publishable_key)
          : null;
      if (secretMode && modeOf(v.publishable_key) !== secretMode) {
        ctx.addIssue({
          code: 'custom',
          path: ['secret_key'],
          message: v.secret_key
            ? 'The publishable key and the secret key must both be test keys or both be live keys'
            : `The stored secret key is a ${secretMode} key: enter a ${modeOf(v.publishable_key)} secret key too`,
        });
      }
    });
}
