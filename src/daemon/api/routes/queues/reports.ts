import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import * as reports from '../../../db/repositories/reports.ts';
import type { Queues } from '../../../queues/index.ts';
import { enqueueReport } from '../../../queues/reportQueue.ts';
import { HttpError, notFoundError } from '../../errors.ts';
import { ownerOf, principalOf } from '../../middleware/auth.ts';
import { listBody, pageOf, pageQuery, parseId, parseInput } from '../../validate.ts';

const DAY_MS = 86_400_000;
const dateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

const createBody = z
  .strictObject({
    kind: z.enum(reports.REPORT_KINDS),
    from: dateTime.optional(),
    to: dateTime.optional(),
    scope: z.enum(['tenant', 'owner']).optional(),
  })
  .transform((body) => {
    const to = body.to ? new Date(body.to) : new Date();
    const from = body.from ? new Date(body.from) : new Date(to.getTime() - 30 * DAY_MS);
    return { ...body, from, to };
  })
  .refine((body) => body.to > body.from, { message: 'must be after from', path: ['to'] })
  .refine((body) => body.to.getTime() - body.from.getTime() <= 366 * DAY_MS, {
    message: 'the period can be at most 366 days',
    path: ['to'],
  });

const listQuery = z.object({ ...pageQuery });
const getQuery = z.object({ format: z.enum(['json', 'csv']).optional() });

/**
 * Reports: `POST` enqueues the computation (202 with the job id); `GET /:id` returns the
 * report with its rows once done, or its CSV with `?format=csv` (or Accept: text/csv).
 * An admin's reports cover the tenant by default; a user's cover their own rows, and the
 * subscriptions report is for admins.
 */
export function reportRoutes(pool: pg.Pool, queues: Queues): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    const { rows, total } = await reports.listReports(pool, ownerOf(req), pageOf(query));
    res.json(listBody(rows, total, query));
  });

  router.post('/', async (req, res) => {
    const body = parseInput(createBody, req.body, 'body');
    const principal = principalOf(req);
    const admin = principal.role === 'admin';
    const scope = body.scope ?? (admin ? 'tenant' : 'owner');
    if (!admin && (scope === 'tenant' || body.kind === 'subscriptions')) {
      throw new HttpError('forbidden', 'tenant-wide and subscription reports are for tenant admins');
    }
    const owner = ownerOf(req);
    const created = await reports.insertReport(pool, owner, {
      kind: body.kind,
      scope,
      from: body.from,
      to: body.to,
    });
    const jobId = await enqueueReport(pool, queues, owner, created.id);
    res.status(202).json({ id: created.id, job_id: jobId, status: 'queued' });
  });

  router.get('/:id', async (req, res) => {
    const query = parseInput(getQuery, req.query, 'query');
    const wantsCsv =
      query.format === 'csv' ||
      (!query.format && req.accepts(['application/json', 'text/csv']) === 'text/csv');
    const admin = principalOf(req).role === 'admin';
    const report = await reports.findReport(
      pool,
      ownerOf(req),
      admin,
      parseId(req.params.id, 'report'),
      true,
    );
    if (!report) throw notFoundError('report');
    const { csv, ...rest } = report;
    if (!wantsCsv) {
      res.json(rest);
      return;
    }
    if (report.status !== 'completed') {
      throw new HttpError('conflict', `the report is ${report.status}; its CSV exists once it is completed`);
    }
    const day = (value: Date) => value.toISOString().slice(0, 10);
    res
      .type('text/csv; charset=utf-8')
      .attachment(`${report.kind}-${day(report.period_from)}-${day(report.period_to)}.csv`)
      .send(csv);
  });

  return router;
}
