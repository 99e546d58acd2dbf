import { Router } from 'express';
import type pg from 'pg';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { principalOf } from '../../middleware/auth.ts';
import { plansList, plansPage } from '../admin/plans.ts';

export const userPlansApi = {
  list: defineRoute({
    method: 'get',
    path: '/api/user/plans',
    tag: 'Subscription',
    auth: 'user',
    summary: 'The plans you may subscribe to',
    responses: { 200: { description: 'every plan of your tenant', schema: plansList } },
  }),
};

/**
 * GET /api/user/plans: the plans a user may subscribe to (their tenant's). Admins manage
 * plans under /api/admin/plans; anyone changing their own plan needs to see the choices.
 */
export function userPlanRoutes(pool: pg.Pool): Router {
  const router = Router();
  routesOn(router, '/api/user/plans')(userPlansApi.list, async (req, res) => {
    res.json(await plansPage(pool, principalOf(req).tenantId));
  });
  return router;
}
