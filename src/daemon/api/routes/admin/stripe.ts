import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { type CacheLayer, cachedJson, invalidateAndRefresh } from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import { withTransaction } from '../../../db/queryable.ts';
import { stripeAnalytics } from '../../../db/repositories/analytics.ts';
import {
  readStripeSettings,
  readStripeView,
  saveStripeSettings,
} from '../../../db/repositories/stripeSettings.ts';
import type { SecretBox } from '../../../security/secretBox.ts';
import { StripeAnalytics, StripeSettings } from '../../contract/resources.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { unprocessable } from '../../errors.ts';
import { principalOf } from '../../middleware/auth.ts';
import { currency, parseInput } from '../../validate.ts';

const key = (pattern: RegExp, example: string) =>
  z.string().trim().max(255, 'must be at most 255 characters').regex(pattern, `must look like ${example}`);

const settingsBody = z.strictObject({
  publishable_key: key(/^pk_(test|live)_[A-Za-z0-9]{8,}$/, 'pk_test_… or pk_live_…'),
  secret_key: key(/^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$/, 'sk_test_…, sk_live_… or rk_…').optional(),
  webhook_secret: key(/^whsec_[A-Za-z0-9+/=]{8,}$/, 'whsec_…').optional(),
  currency,
});

const modeOf = (key: string) => (key.includes('_live_') ? 'live' : 'test');

const base = { tag: 'Admin', auth: 'admin' } as const;

export const stripeApi = {
  settings: defineRoute({
    ...base,
    method: 'get',
    path: '/api/admin/stripe/settings',
    summary: "The tenant's Stripe settings (cached); secrets as their last 4 characters",
    responses: { 200: { description: 'the settings, or `configured: false`', schema: StripeSettings } },
  }),
  save: defineRoute({
    ...base,
    method: 'put',
    path: '/api/admin/stripe/settings',
    summary: 'Save the Stripe settings; a secret left out keeps its stored value',
    body: settingsBody,
    responses: { 200: { description: 'the saved settings', schema: StripeSettings } },
    errors: ['unprocessable'],
  }),
  analytics: defineRoute({
    ...base,
    method: 'get',
    path: '/api/admin/stripe/analytics',
    summary: 'MRR, ARR, subscriptions by status, churn and revenue by plan (cached)',
    responses: { 200: { description: 'the figures', schema: StripeAnalytics } },
  }),
};

export function stripeRoutes(pool: pg.Pool, layer: CacheLayer, box: SecretBox): Router {
  const router = Router();
  const on = routesOn(router, '/api/admin/stripe');

  on(
    stripeApi.settings,
    cachedJson(layer, '/api/admin/stripe/settings', async (req) =>
      readStripeView(pool, principalOf(req).tenantId),
    ),
  );

  on(stripeApi.save, async (req, res) => {
    const { tenantId } = principalOf(req);
    const body = parseInput(stripeApi.save.body, req.body, 'body');
    const saved = await withTransaction(pool, async (db) => {
      const stored = await readStripeSettings(db, box, tenantId, { forUpdate: true });
      const secretKey = body.secret_key ?? stored?.secret_key;
      const webhookSecret = body.webhook_secret ?? stored?.webhook_secret;
      if (!secretKey || !webhookSecret) {
        throw unprocessable('secret_key and webhook_secret are required the first time settings are saved');
      }
      if (modeOf(body.publishable_key) !== modeOf(secretKey)) {
        throw unprocessable('publishable_key and secret_key must both be test keys or both be live keys');
      }
      return saveStripeSettings(db, box, tenantId, {
        publishable_key: body.publishable_key,
        secret_key: secretKey,
        webhook_secret: webhookSecret,
        currency: body.currency,
      });
    });
    // The currency shows in analytics too.
    await invalidateAndRefresh(
      layer,
      req,
      ['/api/admin/stripe/settings', '/api/admin/stripe/analytics'],
      tags.stripe,
      tags.analytics,
    );
    res.json(saved);
  });

  on(
    stripeApi.analytics,
    cachedJson(layer, '/api/admin/stripe/analytics', (req) =>
      stripeAnalytics(pool, principalOf(req).tenantId),
    ),
  );

  return router;
}
