import { Router } from 'express';
import type pg from 'pg';
import { principalOf } from '../../middleware/auth.ts';
import { plansPage } from '../admin/plans.ts';

/**
 * GET /api/user/plans: the plans a user may subscribe to (their tenant's). Admins manage
 * plans under /api/admin/plans; anyone changing their own plan needs to see the choices.
 */
export function userPlanRoutes(pool: pg.Pool): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.json(await plansPage(pool, principalOf(req).tenantId));
  });
  return router;
}
