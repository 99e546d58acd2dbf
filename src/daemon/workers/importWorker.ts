import { type Job, UnrecoverableError, WaitingError } from 'bullmq';
import type pg from 'pg';
import * as imports from '../db/repositories/imports.ts';
import type { Logger } from '../logger.ts';
import type { JobData } from '../queues/index.ts';
import { CsvHeaderError, CsvReadStopped, CsvUnreadableError, readContactsCsv } from './csvContacts.ts';

const BATCH = 1000;
/** Progress is reported at least this often, also while a file yields no accepted row. */
const PROGRESS_EVERY_MS = 1000;

/**
 * One import job: reads the stored CSV, upserts valid rows as the owner's contacts in
 * batches, and records the accepted and rejected counts with the reasons. It is safe to
 * run again from the start (an upsert by phone), which is what happens after a crash or
 * when a shutting-down worker hands the job back at a batch boundary.
 */
export function importProcessor(deps: { pool: pg.Pool; log: Logger; closing: { value: boolean } }) {
  return async (job: Job<JobData>, token?: string): Promise<imports.ImportOutcome> => {
    const { tenantId, ownerId, subjectId: importId } = job.data;
    const row = await imports.loadImportSource(deps.pool, tenantId, importId);
    if (!row) throw new UnrecoverableError('the import no longer exists');
    const owner = { tenantId, userId: ownerId };
    const outcome: imports.ImportOutcome = imports.emptyImportOutcome();
    let batch: imports.ContactRow[] = [];
    let reportedAt = Date.now();
    const report = async () => {
      reportedAt = Date.now();
      await job.updateProgress({
        rows: outcome.total_rows,
        accepted: outcome.accepted,
        rejected: outcome.rejected,
      });
    };
    const handBack = async () => {
      await job.moveToWait(token);
      throw new WaitingError();
    };
    const flush = async () => {
      const { created, updated } = await imports.upsertContacts(deps.pool, owner, batch);
      outcome.accepted += batch.length;
      outcome.created += created;
      outcome.updated += updated;
      batch = [];
      await report();
      if (deps.closing.value) await handBack();
    };
    try {
      const rows = readContactsCsv(row.source, { shouldStop: () => deps.closing.value });
      for await (const item of rows) {
        outcome.total_rows += 1;
        if (Date.now() - reportedAt >= PROGRESS_EVERY_MS) await report();
        if ('contact' in item) {
          batch.push(item.contact);
          if (batch.length >= BATCH) await flush();
        } else {
          outcome.rejected += 1;
          outcome.rejected_by_reason[item.reason] = (outcome.rejected_by_reason[item.reason] ?? 0) + 1;
          if (outcome.rejections.length < imports.KEPT_REJECTIONS) {
            outcome.rejections.push({
              line: item.line,
              reason: item.reason,
              ...(item.phone ? { phone: item.phone } : {}),
            });
          }
        }
      }
      await flush();
    } catch (error) {
      // Shutting down mid-file: rows so far are upserted, the rest is read again later.
      if (error instanceof CsvReadStopped) {
        await flush();
        return handBack();
      }
      if (error instanceof CsvHeaderError || error instanceof CsvUnreadableError) {
        // The file itself is unreadable: no retry will change that.
        throw new UnrecoverableError(`the CSV could not be read: ${(error as Error).message}`);
      }
      throw error;
    }
    await imports.finishImport(deps.pool, tenantId, importId, outcome);
    deps.log.info(
      { importId, tenantId, accepted: outcome.accepted, rejected: outcome.rejected },
      'import completed',
    );
    // The job's result is a summary; the rejected rows themselves stay in the database.
    return { ...outcome, rejections: outcome.rejections.slice(0, 20) };
  };
}
