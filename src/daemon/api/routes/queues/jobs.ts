import { Router } from 'express';
import type pg from 'pg';
import type { Queues } from '../../../queues/index.ts';
import { jobStatus } from '../../../queues/jobStatus.ts';
import { notFoundError } from '../../errors.ts';
import { principalOf } from '../../middleware/auth.ts';
import { parseId } from '../../validate.ts';

/** `GET /api/jobs/:id/status`: the caller's own jobs (an admin: the tenant's); others are 404. */
export function jobRoutes(pool: pg.Pool, queues: Queues): Router {
  const router = Router();
  router.get('/:id/status', async (req, res) => {
    const principal = principalOf(req);
    const status = await jobStatus(
      pool,
      queues,
      parseId(req.params.id, 'job'),
      principal.tenantId,
      principal.role === 'admin' ? null : principal.userId,
    );
    if (!status) throw notFoundError('job');
    const { tenant_id: _tenant, ...visible } = status;
    res.json(visible);
  });
  return router;
}
