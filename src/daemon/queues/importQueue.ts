import type pg from 'pg';
import { deleteImport, setImportJob } from '../db/repositories/imports.ts';
import type { Owner } from '../db/repositories/owned.ts';
import { enqueue, type Queues } from './index.ts';

/** An import's job; if Redis refuses it, the stored upload is removed again. */
export async function enqueueImport(
  pool: pg.Pool,
  queues: Queues,
  owner: Owner,
  importId: string,
): Promise<string> {
  const jobId = await enqueue(
    pool,
    queues.import,
    { tenantId: owner.tenantId, ownerId: owner.userId, subjectId: importId },
    { undo: () => deleteImport(pool, owner.tenantId, importId) },
  );
  await setImportJob(pool, owner.tenantId, importId, jobId);
  return jobId;
}
