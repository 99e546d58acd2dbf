import type pg from 'pg';
import type { Owner } from '../db/repositories/owned.ts';
import { enqueue, type QueueSource } from './index.ts';

/**
 * A campaign's job. Its id is also written on the campaign (`job_id`): the worker sends
 * only while the campaign still names it, so a resume (a new job) retires the old one.
 */
export async function enqueueCampaign(
  pool: pg.Pool,
  queues: QueueSource,
  owner: Owner,
  campaignId: string,
  jobId: string,
  scheduledAt: Date | null,
  undo: () => Promise<unknown>,
): Promise<string> {
  const delayMs = scheduledAt ? Math.max(0, scheduledAt.getTime() - Date.now()) : 0;
  return enqueue(
    pool,
    queues,
    'campaign',
    { tenantId: owner.tenantId, ownerId: owner.userId, subjectId: campaignId },
    { jobId, delayMs, undo },
  );
}
