import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunningChild } from '../api/worker.ts';
import { createPool } from '../db/pool.ts';
import { failCampaign } from '../db/repositories/campaigns.ts';
import { failImport } from '../db/repositories/imports.ts';
import { failReport } from '../db/repositories/reports.ts';
import type { ChildConfig } from '../ipc.ts';
import type { Logger } from '../logger.ts';
import { QUEUE_PREFIX, workerConnection } from '../queues/index.ts';
import type { QueueName } from '../queues/names.ts';
import { keyringFromText } from '../security/keyring.ts';
import { SecretBox } from '../security/secretBox.ts';
import { campaignProcessor } from './campaignWorker.ts';
import { importProcessor } from './importWorker.ts';
import { countJobs } from './jobMetrics.ts';
import { type Processor, tracked } from './jobTracking.ts';
import { reportProcessor } from './reportWorker.ts';
import { TenantSlots } from './tenantSlots.ts';
import { wuzapiClient } from './wuzapiClient.ts';

/**
 * A queue-worker process: one BullMQ Worker per queue (campaign, import, report) with the
 * configured concurrency. On shutdown the processors see `closing`, finish the send or
 * batch in hand and hand their job back to the queue; a killed process's jobs come back
 * through BullMQ's stalled-job check after the lock lifetime.
 */
export async function startQueueWorker(
  config: ChildConfig,
  log: Logger,
  report: (message: object) => Promise<void>,
): Promise<RunningChild> {
  const redis: Redis = workerConnection(config.redisUrl);
  redis.on('error', (error) => log.debug({ err: error }, 'redis connection error'));
  const pool = createPool(config.databaseUrl, 6);
  await pool.query('SELECT 1');
  await redis.ping();

  const closing = { value: false };
  const slots = new TenantSlots(redis, config.queue.tenantCampaigns, config.queue.lockMs);
  const processors: Record<QueueName, Processor<unknown>> = {
    campaign: tracked(
      pool,
      log,
      campaignProcessor({
        pool,
        log,
        box: new SecretBox(keyringFromText(config.keyring)),
        wuzapi: wuzapiClient(
          config.wuzapi.url,
          config.wuzapi.timeoutMs,
          // Every send this process can have in flight: campaign jobs × burst.
          config.queue.concurrency.campaign * config.queue.campaignBurst,
        ),
        slots,
        burst: config.queue.campaignBurst,
        lockMs: config.queue.lockMs,
        closing,
      }),
      (job, message) => failCampaign(pool, job.data.tenantId, job.data.subjectId, String(job.id), message),
    ),
    import: tracked(pool, log, importProcessor({ pool, log, closing }), (job, message) =>
      failImport(pool, job.data.tenantId, job.data.subjectId, message),
    ),
    report: tracked(pool, log, reportProcessor({ pool, log }), (job, message) =>
      failReport(pool, job.data.tenantId, job.data.subjectId, message),
    ),
  };
  const workers = (Object.keys(processors) as QueueName[]).map((name) => {
    const worker = new Worker(name, processors[name], {
      connection: redis,
      prefix: QUEUE_PREFIX,
      concurrency: config.queue.concurrency[name],
      lockDuration: config.queue.lockMs,
      stalledInterval: config.queue.lockMs,
      maxStalledCount: 2,
    });
    worker.on('error', (error) => log.warn({ err: error, queue: name }, 'queue worker error'));
    countJobs(worker, name);
    return worker;
  });
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  await report({ type: 'ready' });
  log.info({ concurrency: config.queue.concurrency }, 'queue workers running');

  return {
    async shutdown() {
      closing.value = true;
      // close() waits for active jobs, which now stop at their next send or batch; it has
      // no deadline of its own, so give it one and force-close after (the jobs' locks then
      // lapse and another worker takes them over).
      const graceful = Promise.all(workers.map((worker) => worker.close()));
      const deadline = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), Math.max(500, config.shutdownTimeoutMs - 1500)).unref(),
      );
      if ((await Promise.race([graceful.then(() => 'closed' as const), deadline])) === 'timeout') {
        log.warn(
          'jobs still active at the shutdown deadline; their locks will lapse and another worker resumes them',
        );
        await Promise.allSettled(workers.map((worker) => worker.close(true)));
      }
      await Promise.allSettled([redis.quit(), pool.end()]);
    },
  };
}
