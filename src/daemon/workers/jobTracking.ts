import { DelayedError, type Job, UnrecoverableError, WaitingError } from 'bullmq';
import type pg from 'pg';
import type { Logger } from '../logger.ts';
import type { JobData } from '../queues/index.ts';
import { tracedProcess } from '../tracing/jobs.ts';

export type Processor<R> = (job: Job<JobData>, token?: string) => Promise<R>;

/**
 * Wraps a processor so the `jobs` row follows the job: active when it starts, completed
 * with its result, failed with its error once no attempt is left (then `onFailed` lets the
 * subject — campaign, import, report — say so too). Parking a job (delayed, or handed back
 * at shutdown) is not a failure.
 */
export function tracked<R>(
  pool: pg.Pool,
  log: Logger,
  processor: Processor<R>,
  onFailed: (job: Job<JobData>, message: string) => Promise<void>,
): Processor<R> {
  return (job, token) => tracedProcess(job, () => run(job, token), parkedAs);

  async function run(job: Job<JobData>, token?: string): Promise<R> {
    await pool.query(
      `UPDATE jobs SET state = 'active', attempts = $2, started_at = coalesce(started_at, now()), error = NULL
        WHERE id = $1`,
      [job.id, job.attemptsMade + 1],
    );
    try {
      const result = await processor(job, token);
      await pool.query(
        `UPDATE jobs SET state = 'completed', result = $2, progress = $3, finished_at = now() WHERE id = $1`,
        [job.id, JSON.stringify(result ?? null), JSON.stringify(job.progress ?? {})],
      );
      return result;
    } catch (error) {
      if (error instanceof DelayedError || error instanceof WaitingError) {
        await pool.query(`UPDATE jobs SET state = $2, progress = $3 WHERE id = $1`, [
          job.id,
          error instanceof DelayedError ? 'delayed' : 'waiting',
          JSON.stringify(job.progress ?? {}),
        ]);
        throw error;
      }
      const message = (error as Error)?.message ?? String(error);
      const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // An UnrecoverableError is an expected verdict with a clean message (an unreadable
      // file, a missing key): no stack, and no error properties that may quote the input.
      const expected = error instanceof UnrecoverableError;
      log.warn(
        {
          jobId: job.id,
          queue: job.queueName,
          attempt: job.attemptsMade + 1,
          final,
          ...(expected ? { reason: message } : { err: error }),
        },
        'job failed',
      );
      await pool
        .query(
          `UPDATE jobs SET state = $2, error = $3, finished_at = CASE WHEN $2 = 'failed' THEN now() END WHERE id = $1`,
          [job.id, final ? 'failed' : 'delayed', message],
        )
        .catch(() => {});
      if (final) await onFailed(job, message).catch(() => {});
      throw error;
    }
  }
}

/** Parking a job (delayed, or handed back to the queue) ends a run without failing it. */
function parkedAs(error: unknown): 'delayed' | 'waiting' | undefined {
  if (error instanceof DelayedError) return 'delayed';
  if (error instanceof WaitingError) return 'waiting';
  return undefined;
}
