import { Router } from 'express';
import { principalOf } from '../middleware/auth.ts';

/** GET /api/me: who the token belongs to — what the web app needs to sign in and scope its cache. */
export function meRoutes(): Router {
  const router = Router();
  router.get('/', (req, res) => {
    const principal = principalOf(req);
    res.json({
      user: { id: principal.userId, email: principal.email, role: principal.role },
      tenant: { id: principal.tenantId, slug: principal.tenantSlug, plan: principal.tenantPlan },
    });
  });
  return router;
}
