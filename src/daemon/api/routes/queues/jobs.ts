import { Router } from 'express';
import type pg from 'pg';
import type { QueueSource } from '../../../queues/index.ts';
import { jobStatus } from '../../../queues/jobStatus.ts';
import { JobStatus } from '../../contract/resources.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { notFoundError } from '../../errors.ts';
import { principalOf } from '../../middleware/auth.ts';
import { idParam, parseId } from '../../validate.ts';

export const jobsApi = {
  status: defineRoute({
    method: 'get',
    path: '/api/jobs/{id}/status',
    tag: 'Jobs',
    auth: 'user',
    summary: "A job's state, progress and result (yours; an admin's: the tenant's)",
    params: idParam('job'),
    responses: { 200: { description: 'the job', schema: JobStatus } },
  }),
};

/** `GET /api/jobs/:id/status`: the caller's own jobs (an admin: the tenant's); others are 404. */
export function jobRoutes(pool: pg.Pool, queues: QueueSource): Router {
  const router = Router();
  routesOn(router, '/api/jobs')(jobsApi.status, async (req, res) => {
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
