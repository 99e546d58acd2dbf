import type { RunningChild } from '../api/worker.ts';
import { createPool } from '../db/pool.ts';
import type { ChildConfig } from '../ipc.ts';
import type { Logger } from '../logger.ts';
import { createRedisClient } from '../services/redis.ts';

/**
 * A queue-worker process. It holds its Redis and database connections and idles; the
 * BullMQ processors (campaign, import, report) attach here.
 */
export async function startQueueWorker(
  config: ChildConfig,
  log: Logger,
  report: (message: object) => Promise<void>,
): Promise<RunningChild> {
  const redis = createRedisClient(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (error) => log.debug({ err: error }, 'redis connection error'));
  await redis.connect();
  const pool = createPool(config.databaseUrl, 4);
  await pool.query('SELECT 1');
  await report({ type: 'ready' });
  return {
    async shutdown() {
      await Promise.allSettled([redis.quit(), pool.end()]);
    },
  };
}
