import type { Job, Queue } from 'bullmq';
import type pg from 'pg';
import type { JobData, QueueSource } from './index.ts';
import { QUEUE_NAMES, type QueueName } from './names.ts';

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** The one shape of a job's status, for `GET /api/jobs/:id/status` and `wuzctl jobs`. */
export interface JobStatus {
  id: string;
  queue: QueueName;
  state: JobState;
  progress: unknown;
  attempts: number;
  result?: unknown;
  error?: string;
  timestamps: { created: string | null; started: string | null; finished: string | null };
  tenant_id: string;
  subject_id: string;
}

const iso = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString() : null);

/** BullMQ's states, folded into ours (a paused queue's jobs are simply waiting). */
export function foldState(state: string): JobState {
  if (state === 'active' || state === 'delayed' || state === 'completed' || state === 'failed') return state;
  return 'waiting';
}

/**
 * A job and its state as BullMQ holds them, or null when Redis no longer does (retention,
 * removal). The state is read before the job: a job read first and found completed after
 * would lack the return value it got in between (a finished job's hash no longer changes).
 */
export async function liveJob(
  queue: Queue,
  id: string,
): Promise<{ job: Job<JobData>; state: JobState } | null> {
  const state = await queue.getJobState(id);
  if (state === 'unknown') return null;
  const job = (await queue.getJob(id)) as Job<JobData> | undefined;
  // Removed between the two reads.
  return job ? { job, state: foldState(state) } : null;
}

/** liveJob as the status the API and the CLI show. */
export async function liveStatus(queue: Queue, id: string): Promise<JobStatus | null> {
  const live = await liveJob(queue, id);
  return live ? fromJob(live.job, live.state) : null;
}

export function fromJob(job: Job<JobData>, state: JobState): JobStatus {
  return {
    id: String(job.id),
    queue: job.queueName as QueueName,
    state,
    progress: job.progress ?? {},
    // attemptsMade counts finished attempts: the one running now counts too.
    attempts: state === 'active' ? job.attemptsMade + 1 : job.attemptsMade,
    ...(job.returnvalue !== undefined && job.returnvalue !== null ? { result: job.returnvalue } : {}),
    ...(job.failedReason ? { error: job.failedReason } : {}),
    timestamps: { created: iso(job.timestamp), started: iso(job.processedOn), finished: iso(job.finishedOn) },
    tenant_id: job.data.tenantId,
    subject_id: job.data.subjectId,
  };
}

interface JobRow {
  id: string;
  queue: QueueName;
  state: JobState;
  progress: unknown;
  attempts: number;
  result: unknown;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  tenant_id: string;
  subject_id: string;
}

function fromRow(row: JobRow): JobStatus {
  return {
    id: row.id,
    queue: row.queue,
    state: row.state,
    progress: row.progress,
    attempts: row.attempts,
    ...(row.result !== null ? { result: row.result } : {}),
    ...(row.error ? { error: row.error } : {}),
    timestamps: {
      created: row.created_at.toISOString(),
      started: row.started_at?.toISOString() ?? null,
      finished: row.finished_at?.toISOString() ?? null,
    },
    tenant_id: row.tenant_id,
    subject_id: row.subject_id,
  };
}

/**
 * A job's status: the database row decides whether the job exists for this tenant (and,
 * for a non-admin, this user) — a job of another tenant is simply not found — and Redis
 * adds the live state while it holds it.
 */
export async function jobStatus(
  pool: pg.Pool,
  queues: QueueSource | null,
  id: string,
  tenantId: string | null,
  ownerId: string | null = null,
): Promise<JobStatus | null> {
  const { rows } = await pool.query<JobRow>(
    `SELECT id, queue, state, progress, attempts, result, error, created_at, started_at, finished_at,
            tenant_id, subject_id
       FROM jobs WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2) AND ($3::uuid IS NULL OR owner_id = $3)`,
    [id, tenantId, ownerId],
  );
  const row = rows[0];
  if (!row) return null;
  const stored = fromRow(row);
  const live = queues
    ? await queues
        .queue(row.queue)
        .then((queue) => liveStatus(queue, id))
        .catch(() => null)
    : null;
  // Redis knows better while it holds the job (a retried job is live again), except in the
  // instant between the worker writing the row final and BullMQ moving the job.
  const final = stored.state === 'completed' || stored.state === 'failed';
  if (!live || (final && live.state === 'active')) return stored;
  return {
    ...live,
    // The row is written in the same step as the outcome: it fills what Redis has not yet.
    ...(live.result === undefined && stored.result !== undefined ? { result: stored.result } : {}),
    ...(live.error === undefined && stored.error !== undefined ? { error: stored.error } : {}),
    timestamps: { ...live.timestamps, created: stored.timestamps.created },
  };
}

export function isQueueName(value: string): value is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(value);
}
