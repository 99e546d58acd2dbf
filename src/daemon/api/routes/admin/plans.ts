import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { type CacheLayer, invalidate } from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import { createPlan, listPlans } from '../../../db/repositories/plans.ts';
import { listOf, Plan } from '../../contract/resources.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { principalOf } from '../../middleware/auth.ts';
import { currency, name, parseInput } from '../../validate.ts';

const count = z.number().int('must be a whole number').min(0, 'must not be negative').max(1_000_000_000);

const planBody = z.strictObject({
  name,
  price_cents: z
    .number()
    .int('must be a whole number of cents')
    .min(0, 'must not be negative')
    .max(100_000_000),
  currency,
  interval: z.enum(['month', 'year']),
  limits: z.strictObject({ max_agents: count, messages_per_month: count }),
  stripe_price_id: z.string().trim().min(1).max(255).nullable().optional(),
  trial_days: z.number().int('must be a whole number').min(0).max(90).optional(),
});

/** Every plan of the tenant, in the list shape (one page: a tenant has a handful). */
export async function plansPage(pool: pg.Pool, tenantId: string) {
  const plans = await listPlans(pool, tenantId);
  return { data: plans, page: 1, per_page: Math.max(1, plans.length), total: plans.length };
}

/** Every plan of the tenant in one page. */
export const plansList = listOf(Plan);

export const adminPlansApi = {
  list: defineRoute({
    method: 'get',
    path: '/api/admin/plans',
    tag: 'Admin',
    auth: 'admin',
    summary: "The tenant's plans (one page: a tenant has a handful)",
    responses: { 200: { description: 'every plan', schema: plansList } },
  }),
  create: defineRoute({
    method: 'post',
    path: '/api/admin/plans',
    tag: 'Admin',
    auth: 'admin',
    summary: 'Create a plan',
    body: planBody,
    responses: { 201: { description: 'the plan', schema: Plan } },
    errors: ['conflict'],
  }),
};

export function planRoutes(pool: pg.Pool, layer: CacheLayer): Router {
  const router = Router();
  const on = routesOn(router, '/api/admin/plans');

  on(adminPlansApi.list, async (req, res) => {
    res.json(await plansPage(pool, principalOf(req).tenantId));
  });

  on(adminPlansApi.create, async (req, res) => {
    const body = parseInput(adminPlansApi.create.body, req.body, 'body');
    const plan = await createPlan(pool, principalOf(req).tenantId, body);
    // Analytics list every plan (revenue by plan), with or without subscriptions.
    await invalidate(layer, req, tags.plans, tags.analytics);
    res.status(201).json(plan);
  });

  return router;
}
