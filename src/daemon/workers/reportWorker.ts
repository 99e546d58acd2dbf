import { type Job, UnrecoverableError } from 'bullmq';
import { stringify } from 'csv-stringify/sync';
import type pg from 'pg';
import * as reports from '../db/repositories/reports.ts';
import type { Logger } from '../logger.ts';
import type { JobData } from '../queues/index.ts';

/** One report job: one SQL query, its rows stored as JSON and as CSV. Idempotent. */
export function reportProcessor(deps: { pool: pg.Pool; log: Logger }) {
  return async (job: Job<JobData>): Promise<{ rows: number; kind: string }> => {
    const { tenantId, subjectId: reportId } = job.data;
    const request = await reports.loadReportRequest(deps.pool, tenantId, reportId);
    if (!request) throw new UnrecoverableError('the report no longer exists');
    const rows = await reports.computeReport(deps.pool, tenantId, request.owner_id, request);
    const columns = reports.reportColumns(request.kind);
    const csv = stringify(
      rows.map((row) => columns.map((column) => row[column] ?? '')),
      { header: true, columns },
    );
    await reports.finishReport(deps.pool, tenantId, reportId, { columns, rows, csv });
    await job.updateProgress({ rows: rows.length });
    deps.log.info({ reportId, tenantId, kind: request.kind, rows: rows.length }, 'report completed');
    return { rows: rows.length, kind: request.kind };
  };
}
