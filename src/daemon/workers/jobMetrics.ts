import type { Worker } from 'bullmq';
import type { QueueName } from '../queues/names.ts';
import { processMetrics } from '../telemetry/metrics.ts';

/**
 * Counts what a BullMQ worker does with its jobs: completed (and how long the last attempt
 * took), failed for good, or failed and retried. A job parked on purpose (DelayedError,
 * handed back at shutdown) emits neither event, so it is not counted as a failure.
 */
export function countJobs(worker: Worker, queue: QueueName): void {
  const metrics = processMetrics();
  worker.on('completed', (job) => {
    metrics.queueJobs.inc({ queue, state: 'completed' });
    if (job.processedOn && job.finishedOn) {
      metrics.queueJobDuration.observe({ queue }, Math.max(0, job.finishedOn - job.processedOn) / 1000);
    }
  });
  worker.on('failed', (job, error) => {
    // moveToFailed has counted this attempt already when the event fires.
    const final =
      !job || error?.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    metrics.queueJobs.inc({ queue, state: final ? 'failed' : 'retried' });
  });
}
