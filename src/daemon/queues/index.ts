import { randomUUID } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { QueueConfig } from '../config/types.ts';
import { createRedisClient } from '../services/redis.ts';
import { processMetrics } from '../telemetry/metrics.ts';
import { type TraceCarrier, tracedEnqueue } from '../tracing/jobs.ts';
import type { QueueName } from './names.ts';

/**
 * The BullMQ queues: one Redis key prefix for all of them (so a shared Redis can hold
 * other data beside ours), the default job options, and the one way to enqueue a job —
 * which records it in the `jobs` table first, so its status outlives Redis retention.
 */
export const QUEUE_PREFIX = 'wuz';

/** Every job carries its tenant and owner: a worker never acts outside them. */
export interface JobData {
  tenantId: string;
  ownerId: string;
  /** The campaign, import or report the job works on. */
  subjectId: string;
  /** The trace of the request that started it (tracing/jobs.ts); absent when untraced. */
  trace?: TraceCarrier;
}

/**
 * Queue producers share the API worker's connection style: fail fast while Redis is away
 * (the route answers 503) instead of queueing commands in memory.
 */
export function producerConnection(url: string): Redis {
  return createRedisClient(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
}

/** Workers block on Redis (BRPOPLPUSH-style waits): BullMQ requires no per-request retry cap. */
export function workerConnection(url: string): Redis {
  return createRedisClient(url, { maxRetriesPerRequest: null, enableOfflineQueue: true, lazyConnect: false });
}

export function defaultJobOptions(retention: QueueConfig['retention']): JobsOptions {
  return {
    // Attempts guard against infrastructure failures (database or Redis away); a send's own
    // retries live in the campaign worker, where 4xx and 5xx are told apart.
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: retention.completedSeconds, count: retention.count },
    removeOnFail: { age: retention.failedSeconds, count: retention.count },
  };
}

export type Queues = Record<QueueName, Queue>;

/**
 * Where a caller that enqueues or reads a job gets its queue: an API worker's queues are
 * opened by the first request that needs one (`onDemand.ts`).
 */
export interface QueueSource {
  queue(name: QueueName): Promise<Queue>;
}

/** Redis could not take the job: the caller answers 503 and has created nothing. */
export class QueueUnavailableError extends Error {}

/**
 * Records a job and adds it to its queue. The caller's rows (campaign, import, report)
 * are committed before this runs, so a worker that picks the job up at once finds them;
 * if the queue cannot be had or Redis refuses the job, `undo` removes them again and the
 * client can simply retry.
 */
export async function enqueue(
  pool: pg.Pool,
  queues: QueueSource,
  name: QueueName,
  data: JobData,
  options: { jobId?: string; delayMs?: number; undo?: () => Promise<unknown> } = {},
): Promise<string> {
  const jobId = options.jobId ?? randomUUID();
  const delayed = (options.delayMs ?? 0) > 0;
  await pool.query(
    `INSERT INTO jobs (id, tenant_id, owner_id, queue, subject_id, state) VALUES ($1, $2, $3, $4, $5, $6)`,
    [jobId, data.tenantId, data.ownerId, name, data.subjectId, delayed ? 'delayed' : 'waiting'],
  );
  try {
    const queue = await queues.queue(name);
    await tracedEnqueue(name, jobId, (trace) =>
      queue.add(name, trace ? { ...data, trace } : data, { jobId, delay: options.delayMs }),
    );
    processMetrics().queueJobs.inc({ queue: name, state: 'added' });
  } catch (error) {
    await pool.query('DELETE FROM jobs WHERE id = $1', [jobId]).catch(() => {});
    await options.undo?.().catch(() => {});
    throw new QueueUnavailableError(`the ${name} queue is unavailable: ${(error as Error).message}`);
  }
  return jobId;
}
