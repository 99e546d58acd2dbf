import type { Redis } from 'ioredis';
import http from '../../nodeHttp.ts';
import { type CacheStats, ResponseCache } from '../cache/responseCache.ts';
import { createPool, databaseHealthy, type Pool } from '../db/pool.ts';
import type { ChildConfig } from '../ipc.ts';
import type { Logger } from '../logger.ts';
import { QueuesOnDemand } from '../queues/onDemand.ts';
import { RateLimitCounters, type RateLimitStats } from '../ratelimit/store.ts';
import { CacheSeal } from '../security/cacheSeal.ts';
import { keyringFromText } from '../security/keyring.ts';
import { SecretBox } from '../security/secretBox.ts';
import { createRedisClient, redisHealthy } from '../services/redis.ts';
import { ActiveSessions } from '../telemetry/activeSessions.ts';
import { processMetrics } from '../telemetry/metrics.ts';
import { scrapeViaSupervisor } from '../telemetry/metricsEndpoint.ts';
import { loadWebApp } from '../web/webApp.ts';
import { createApp } from './app.ts';
import { answerClientError } from './clientErrors.ts';
import { ConnectionDrain } from './connectionDrain.ts';

/** How long a new worker waits for Redis and the database to answer before it says what does not. */
const READY_CHECK_MS = 10_000;

/** What does not answer (retried for up to `waitMs`): [] when Redis and the database both do. */
async function dependencyProblems(redis: Redis, pool: Pool, waitMs: number): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const [redisError, databaseError] = await Promise.all([redisHealthy(redis), databaseHealthy(pool)]);
    const problems = [
      ...(redisError ? [`redis: ${redisError}`] : []),
      ...(databaseError ? [`database: ${databaseError}`] : []),
    ];
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface RunningChild {
  shutdown(): Promise<void>;
  /** /readyz answers 503 from now on (a stop is coming); requests are served as before. */
  unready?(): void;
  /** Closes the listener only (API workers): open connections are served as before. */
  stopAccepting?(): Promise<void>;
  /** Counters the supervisor collects with each status (cache hits and misses…). */
  stats?(): { cache?: CacheStats; rateLimit?: RateLimitStats };
}

/**
 * One API worker of the cluster. All workers listen on the same port; the primary hands
 * each connection to one of them. Readiness is reported over IPC once listening.
 */
export async function startApiWorker(
  config: ChildConfig,
  log: Logger,
  report: (message: object) => Promise<void>,
): Promise<RunningChild> {
  // Auto-pipelining: the commands requests issue in one turn of the event loop (each
  // request's admission script, a cache fill) leave in one socket write, and Redis reads
  // them in one; under load that halves Redis's CPU per cached read (29–31 → 17–18 µs) and
  // saves the worker writes. Each command keeps its own reply and error, and a script stays
  // atomic, so limits, revocation and fail-open are unchanged. Nothing here blocks or
  // subscribes on this connection, which auto-pipelining would not allow.
  const redis = createRedisClient(config.redisUrl, { enableAutoPipelining: true });
  redis.on('error', (error) => log.debug({ err: error }, 'redis connection error'));
  await redis
    .connect()
    .catch((error) => log.warn({ err: error }, 'redis not reachable yet; /readyz reports it'));
  const pool = createPool(config.databaseUrl);
  const drain = { active: false, unready: false };
  const cache = new ResponseCache(redis, log, config.cacheEnabled, config.compression);
  const limiterCounters = new RateLimitCounters(config.rateLimit.enabled, log);
  const queues = new QueuesOnDemand(async () => {
    const { openQueuesWhenUp } = await import('../queues/open.ts');
    const opened = await openQueuesWhenUp(redis, config.queue.retention);
    for (const queue of Object.values(opened)) {
      queue.on('error', (error) => log.debug({ err: error, queue: queue.name }, 'queue error'));
    }
    return opened;
  });
  // Only fed when something reads it: with metrics off, requests write nothing for it.
  const activeSessions = config.metrics.enabled ? new ActiveSessions(redis) : undefined;
  const web = config.webDir ? await loadWebApp(config.webDir) : null;
  if (config.webDir && !web) log.debug({ dir: config.webDir }, 'web app not built; serving the API only');

  const keyring = keyringFromText(config.keyring);
  const server = http.createServer(
    createApp({
      redis,
      pool,
      log,
      drain,
      bodyLimitBytes: config.bodyLimitBytes,
      compression: config.compression,
      cache: { cache, ttlSeconds: config.cacheTtlSeconds },
      rateLimit: { config: config.rateLimit, counters: limiterCounters },
      queues,
      importLimitBytes: config.queue.importLimitBytes,
      security: {
        seal: new CacheSeal(keyring),
        box: new SecretBox(keyring),
        trustProxy: config.trustProxy,
        hsts: config.hsts,
      },
      web,
      metrics: {
        http: config.metrics.enabled ? processMetrics() : undefined,
        endpoint: config.metrics.onApiPort
          ? { token: config.metrics.token, scrape: scrapeViaSupervisor() }
          : undefined,
        activeSessions,
      },
    }),
  );
  server.on('clientError', answerClientError);
  const connections = new ConnectionDrain(server);
  // Above common proxy idle timeouts (60 s), so a proxy never reuses a socket we just closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: NodeJS.ErrnoException) => {
    await report({
      type: 'fatal',
      code: error.code ?? 'ELISTEN',
      message: `cannot listen on ${config.host}:${config.port}: ${error.message}`,
    });
    throw error;
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // Ready means able to serve: its own connections answer. A rollout waits for this before
  // the old worker drains; a restart during an outage still starts (it fails open), saying why.
  const problems = await dependencyProblems(redis, pool, READY_CHECK_MS);
  if (problems.length) log.warn({ problems }, 'listening, but not everything answers');
  await report({ type: 'ready', port, problems });
  // One line per process start: `wuzctl logs` shows when each worker (re)started.
  log.info({ port }, 'api worker listening');

  let closed: Promise<void> | undefined;
  // Stops accepting; resolves at once (the close of the last connection is `closed`).
  const stopAccepting = async () => {
    closed ??= connections.stopAccepting(server);
  };
  return {
    stats: () => ({ cache: cache.stats(), rateLimit: limiterCounters.stats }),
    stopAccepting,
    unready: () => {
      drain.unready = true;
    },
    async shutdown() {
      // The supervisor has closed every worker's listener first (stop-accepting), so the
      // clients told to reconnect below find the port closed (refused), never a connection
      // accepted and then dropped. Sockets close after a response that says
      // `Connection: close`, or once quiet (connectionDrain.ts): never mid-request.
      await stopAccepting();
      drain.active = true;
      connections.start();
      const deadline = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), Math.max(500, config.shutdownTimeoutMs - 1000)).unref(),
      );
      const allClosed = closed as Promise<void>;
      if ((await Promise.race([allClosed.then(() => 'closed' as const), deadline])) === 'timeout') {
        log.warn('drain deadline reached; closing the remaining connections');
        server.closeAllConnections();
        await allClosed;
      }
      connections.stop();
      await activeSessions?.flush();
      await queues.close();
      await Promise.allSettled([redis.quit(), pool.end()]);
    },
  };
}
