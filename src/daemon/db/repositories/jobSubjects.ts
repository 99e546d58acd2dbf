import type { Queryable } from '../queryable.ts';

/**
 * The rows an import or report job works on: one row each in `imports` or `reports`,
 * which record their job's id and are removed again when Redis refuses the job.
 */
export const SUBJECT_TABLES = { import: 'imports', report: 'reports' } as const;
export type SubjectQueue = keyof typeof SUBJECT_TABLES;

export async function setSubjectJob(
  db: Queryable,
  queue: SubjectQueue,
  tenantId: string,
  id: string,
  jobId: string,
): Promise<void> {
  await db.query(`UPDATE ${SUBJECT_TABLES[queue]} SET job_id = $3 WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    id,
    jobId,
  ]);
}

export async function deleteSubject(db: Queryable, queue: SubjectQueue, tenantId: string, id: string) {
  await db.query(`DELETE FROM ${SUBJECT_TABLES[queue]} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
}
