import { type Response, Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import * as reports from '../../../db/repositories/reports.ts';
import type { QueueSource } from '../../../queues/index.ts';
import { enqueueSubject } from '../../../queues/subjectQueue.ts';
import { Accepted, Report, ReportSummary } from '../../contract/resources.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { listRoute } from '../../contract/shapes.ts';
import { HttpError, notFoundError } from '../../errors.ts';
import { ownerOf, principalOf } from '../../middleware/auth.ts';
import { idParam, pageHandler, parseId, parseInput } from '../../validate.ts';

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

const base = { tag: 'Reports', auth: 'user' } as const;
/** Characters of CSV read and written at a time: memory per download stays this small. */
const CSV_PIECE = 256 * 1024;

export const reportsApi = {
  list: listRoute({
    ...base,
    path: '/api/reports',
    summary: 'List your reports (newest first)',
    what: 'report',
    item: ReportSummary,
  }),
  create: defineRoute({
    ...base,
    method: 'post',
    path: '/api/reports',
    summary: 'Compute a report over a period (default: the last 30 days)',
    description:
      "A user's reports cover their own rows; tenant-wide and subscription reports are for admins (403).",
    body: createBody,
    responses: { 202: { description: 'enqueued: poll the job', schema: Accepted } },
    errors: ['forbidden', 'queue_unavailable'],
  }),
  get: defineRoute({
    ...base,
    method: 'get',
    path: '/api/reports/{id}',
    summary: 'One report with its rows, or its CSV (`?format=csv` or `Accept: text/csv`) once completed',
    params: idParam('report'),
    query: z.object({ format: z.enum(['json', 'csv']).optional() }),
    responses: {
      200: {
        description: 'the report; or its CSV, as an attachment, once it is completed',
        schema: Report,
        alternative: { contentType: 'text/csv', schema: z.string() },
      },
    },
    errors: ['conflict'],
  }),
};

/**
 * Reports: `POST` enqueues the computation (202 with the job id); `GET /:id` returns the
 * report with its rows once done, or its CSV with `?format=csv` (or Accept: text/csv).
 * An admin's reports cover the tenant by default; a user's cover their own rows, and the
 * subscriptions report is for admins.
 */
export function reportRoutes(pool: pg.Pool, queues: QueueSource): Router {
  const router = Router();
  const on = routesOn(router, '/api/reports');

  on(
    reportsApi.list,
    pageHandler(reportsApi.list.query, (req, _query, page) => reports.listReports(pool, ownerOf(req), page)),
  );

  on(reportsApi.create, async (req, res) => {
    const body = parseInput(reportsApi.create.body, req.body, 'body');
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
    const jobId = await enqueueSubject(pool, queues, 'report', owner, created.id);
    res.status(202).json({ id: created.id, job_id: jobId, status: 'queued' });
  });

  on(reportsApi.get, async (req, res) => {
    const query = parseInput(reportsApi.get.query, req.query, 'query');
    const wantsCsv =
      query.format === 'csv' ||
      (!query.format && req.accepts(['application/json', 'text/csv']) === 'text/csv');
    const admin = principalOf(req).role === 'admin';
    const report = await reports.findReport(
      pool,
      ownerOf(req),
      admin,
      parseId(req.params.id, 'report'),
      !wantsCsv,
    );
    if (!report) throw notFoundError('report');
    if (!wantsCsv) {
      res.json(report);
      return;
    }
    if (report.status !== 'completed') {
      throw new HttpError('conflict', `the report is ${report.status}; its CSV exists once it is completed`);
    }
    const day = (value: Date) => value.toISOString().slice(0, 10);
    res
      .type('text/csv; charset=utf-8')
      .attachment(`${report.kind}-${day(report.period_from)}-${day(report.period_to)}.csv`);
    // HEAD: the headers say what a GET would send; nothing needs reading.
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await streamCsv(res, (offset) =>
      reports.readReportCsv(pool, ownerOf(req).tenantId, report.id, offset, CSV_PIECE),
    );
  });

  return router;
}

/**
 * Writes a CSV piece by piece (compressed as it goes when the client accepts it), waiting
 * for the client to drain each; a client that disconnects stops the reading at once.
 */
async function streamCsv(res: Response, read: (offset: number) => Promise<string>): Promise<void> {
  let gone = false;
  res.once('close', () => {
    gone = true;
  });
  for (let offset = 0; !gone; offset += CSV_PIECE) {
    const piece = await read(offset);
    if (piece === '' || gone) break;
    if (!res.write(piece)) {
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
  }
  if (!gone) res.end();
}
