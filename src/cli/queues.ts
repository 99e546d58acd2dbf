import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { dataPaths, resolveDataDir } from '../daemon/config/dataPaths.ts';
import { producerConnection, type Queues } from '../daemon/queues/index.ts';
import { closeQueues, openQueues } from '../daemon/queues/open.ts';
import { safeAddress } from '../daemon/services/redis.ts';
import { isAlive, readPid } from '../daemon/supervisor/pidLock.ts';
import { DaemonClient } from './client.ts';
import { CliError, exitCodes, suggest } from './output.ts';

const notRunningHint = (dataDir: string) =>
  `the embedded Redis runs with the daemon: start it with ${suggest('wuzctl serve', dataDir)}, or set REDIS_URL`;

/**
 * The CLI never enqueues, so the retention of these queue handles is never applied; the
 * daemon's own settings (--job-retention) govern the jobs it adds.
 */
const UNUSED_RETENTION = { completedSeconds: 86_400, failedSeconds: 604_800, count: 10_000 };

/**
 * Runs `work` against the BullMQ queues the daemon uses: REDIS_URL when set, else the
 * Redis of the data dir's running daemon (the embedded one lives and dies with it).
 * The queues and the connection are closed whatever happens.
 */
export async function withQueues<T>(
  dataDirFlag: string | undefined,
  work: (queues: Queues, redis: Redis) => Promise<T>,
): Promise<T> {
  const url = await redisUrl(dataDirFlag);
  const redis = producerConnection(url);
  // Reported through connect() and the commands that fail; the socket error says more
  // than ioredis' "Connection is closed".
  let socketError: Error | null = null;
  redis.on('error', (error: Error) => {
    socketError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const reason = (socketError as Error | null)?.message ?? (error as Error).message;
    throw new CliError(
      `Redis at ${safeAddress(url)} did not answer: ${reason}`,
      exitCodes.failure,
      process.env.REDIS_URL
        ? 'check REDIS_URL, or unset it to use the daemon of the data dir'
        : `check the daemon with ${suggest('wuzctl status', dataDirFlag)}`,
    );
  }
  const queues = openQueues(redis, UNUSED_RETENTION);
  try {
    return await work(queues, redis);
  } finally {
    await closeQueues(queues);
    await redis.quit().catch(() => redis.disconnect());
  }
}

async function redisUrl(dataDirFlag: string | undefined): Promise<string> {
  const external = process.env.REDIS_URL;
  if (external) {
    if (!/^rediss?:\/\//.test(external)) {
      throw new CliError('REDIS_URL must be a redis:// or rediss:// URL', exitCodes.usage);
    }
    return external;
  }
  const dataDir = resolveDataDir(dataDirFlag);
  const client = new DaemonClient(dataDir);
  const pidFile = dataPaths(dataDir).pidFile;
  // A daemon that holds the pid lock but has no control socket yet is still starting: wait for it.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return (await client.redis()).url;
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode !== exitCodes.notRunning) throw error;
      const pid = await readPid(pidFile);
      if (!pid || !isAlive(pid) || Date.now() > deadline) {
        throw new CliError(
          `not running (no daemon at ${dataDir})`,
          exitCodes.notRunning,
          notRunningHint(dataDir),
        );
      }
      await sleep(250);
    }
  }
}
