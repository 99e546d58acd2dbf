import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import {
  type CachedRoute,
  type CacheLayer,
  cachedJson,
  invalidateAndRefresh,
} from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import { withTransaction } from '../../../db/queryable.ts';
import { findPlan } from '../../../db/repositories/plans.ts';
import {
  cancelAtPeriodEnd,
  changeSubscriptionPlan,
  countAgents,
  createSubscription,
  findLiveSubscription,
} from '../../../db/repositories/subscriptions.ts';
import { Subscription } from '../../contract/resources.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { conflictError, notFoundError, unprocessable } from '../../errors.ts';
import { principalOf } from '../../middleware/auth.ts';
import { isUuid, parseInput } from '../../validate.ts';

const base = { tag: 'Subscription', auth: 'user', path: '/api/user/subscription' } as const;

export const subscriptionApi = {
  get: defineRoute({
    ...base,
    method: 'get',
    summary: 'Your live subscription (cached), or `null` when you have none',
    responses: { 200: { description: 'the subscription, or null', schema: Subscription.nullable() } },
  }),
  change: defineRoute({
    ...base,
    method: 'post',
    summary: 'Subscribe to a plan, or change plan',
    body: z.strictObject({ plan_id: z.string().trim().min(1).max(64) }),
    responses: {
      200: { description: 'the plan was changed', schema: Subscription },
      201: { description: 'subscribed', schema: Subscription },
    },
    errors: ['conflict', 'unprocessable'],
  }),
  cancel: defineRoute({
    ...base,
    method: 'delete',
    summary: 'Cancel at the end of the current period',
    responses: { 200: { description: 'the subscription, set to cancel', schema: Subscription } },
    errors: ['not_found', 'conflict'],
  }),
};

/** What a plan change changes that its caller may read next: their subscription, the tenant's analytics. */
const SUBSCRIPTION_READS: CachedRoute[] = ['/api/user/subscription', '/api/admin/stripe/analytics'];

export function subscriptionRoutes(pool: pg.Pool, layer: CacheLayer): Router {
  const router = Router();
  const on = routesOn(router, '/api/user/subscription');

  // No subscription is an answer, not an error: 200 with `null`. It is cached like any
  // other answer; POST and DELETE below bump tags.subscription before they reply, so a
  // subscribe right after a cached `null` is seen by the very next read.
  on(
    subscriptionApi.get,
    cachedJson(layer, '/api/user/subscription', async (req) => {
      const { tenantId, userId } = principalOf(req);
      return (await findLiveSubscription(pool, tenantId, userId)) ?? null;
    }),
  );

  // Subscribe, or change plan. The live row is locked so two changes cannot interleave.
  on(subscriptionApi.change, async (req, res) => {
    const { tenantId, userId } = principalOf(req);
    const { plan_id } = parseInput(subscriptionApi.change.body, req.body, 'body');
    const { created, subscription } = await withTransaction(pool, async (db) => {
      const plan = isUuid(plan_id) ? await findPlan(db, tenantId, plan_id.toLowerCase()) : null;
      if (!plan) throw unprocessable('plan_id does not name a plan of this tenant');
      const current = await findLiveSubscription(db, tenantId, userId, { forUpdate: true });
      if (current?.plan.id === plan.id) throw conflictError(`you are already on the ${plan.name} plan`);
      const agents = await countAgents(db, tenantId, userId);
      if (agents > plan.limits.max_agents) {
        throw unprocessable(
          `the ${plan.name} plan allows ${plan.limits.max_agents} agents and you have ${agents}: remove some first`,
          { agents, max_agents: plan.limits.max_agents },
        );
      }
      if (current) await changeSubscriptionPlan(db, tenantId, current.id, plan.id);
      else await createSubscription(db, { tenantId, userId, plan });
      return { created: !current, subscription: await findLiveSubscription(db, tenantId, userId) };
    });
    await invalidateAndRefresh(layer, req, SUBSCRIPTION_READS, tags.subscription, tags.analytics);
    res.status(created ? 201 : 200).json(subscription);
  });

  on(subscriptionApi.cancel, async (req, res) => {
    const { tenantId, userId } = principalOf(req);
    const subscription = await withTransaction(pool, async (db) => {
      const current = await findLiveSubscription(db, tenantId, userId, { forUpdate: true });
      if (!current) throw notFoundError('subscription');
      if (current.cancel_at_period_end)
        throw conflictError('the subscription is already set to cancel at period end');
      await cancelAtPeriodEnd(db, tenantId, current.id);
      return findLiveSubscription(db, tenantId, userId);
    });
    await invalidateAndRefresh(layer, req, SUBSCRIPTION_READS, tags.subscription, tags.analytics);
    res.json(subscription);
  });

  return router;
}
