import { Router } from 'express';
import { Me } from '../contract/resources.ts';
import { defineRoute, routesOn } from '../contract/route.ts';
import { principalOf } from '../middleware/auth.ts';

export const meApi = {
  get: defineRoute({
    method: 'get',
    path: '/api/me',
    tag: 'Account',
    auth: 'user',
    summary: "Who the token belongs to: the user and the tenant's plan",
    responses: { 200: { description: 'the caller', schema: Me } },
  }),
};

/** GET /api/me: who the token belongs to — what the web app needs to sign in and scope its cache. */
export function meRoutes(): Router {
  const router = Router();
  routesOn(router, '/api/me')(meApi.get, (req, res) => {
    const principal = principalOf(req);
    res.json({
      user: { id: principal.userId, email: principal.email, role: principal.role },
      tenant: { id: principal.tenantId, slug: principal.tenantSlug, plan: principal.tenantPlan },
    });
  });
  return router;
}
