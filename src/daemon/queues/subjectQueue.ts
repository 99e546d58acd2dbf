import type pg from 'pg';
import { deleteSubject, type SubjectQueue, setSubjectJob } from '../db/repositories/jobSubjects.ts';
import type { Owner } from '../db/repositories/owned.ts';
import { enqueue, type QueueSource } from './index.ts';

/**
 * The job of a stored import or report request; if Redis refuses it, the stored row is
 * removed again, so the client's 503 leaves nothing behind.
 */
export async function enqueueSubject(
  pool: pg.Pool,
  queues: QueueSource,
  queue: SubjectQueue,
  owner: Owner,
  subjectId: string,
): Promise<string> {
  const jobId = await enqueue(
    pool,
    queues,
    queue,
    { tenantId: owner.tenantId, ownerId: owner.userId, subjectId },
    { undo: () => deleteSubject(pool, queue, owner.tenantId, subjectId) },
  );
  await setSubjectJob(pool, queue, owner.tenantId, subjectId, jobId);
  return jobId;
}
