import type pg from 'pg';
import type { Owner } from '../db/repositories/owned.ts';
import { deleteReport, setReportJob } from '../db/repositories/reports.ts';
import { enqueue, type Queues } from './index.ts';

/** A report's job; if Redis refuses it, the report row is removed again. */
export async function enqueueReport(
  pool: pg.Pool,
  queues: Queues,
  owner: Owner,
  reportId: string,
): Promise<string> {
  const jobId = await enqueue(
    pool,
    queues.report,
    { tenantId: owner.tenantId, ownerId: owner.userId, subjectId: reportId },
    { undo: () => deleteReport(pool, owner.tenantId, reportId) },
  );
  await setReportJob(pool, owner.tenantId, reportId, jobId);
  return jobId;
}
