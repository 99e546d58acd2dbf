import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createApp } from '../../src/daemon/api/app.ts';
import { answerClientError } from '../../src/daemon/api/clientErrors.ts';
import { ResponseCache } from '../../src/daemon/cache/responseCache.ts';
import { loadServeConfig } from '../../src/daemon/config/load.ts';
import type { ServeConfig } from '../../src/daemon/config/types.ts';
import { migrate } from '../../src/daemon/db/migrate.ts';
import { createPool } from '../../src/daemon/db/pool.ts';
import { createTenant } from '../../src/daemon/db/repositories/tenants.ts';
import { createToken } from '../../src/daemon/db/repositories/tokens.ts';
import { createUser } from '../../src/daemon/db/repositories/users.ts';
import { createLogger, type Logger } from '../../src/daemon/logger.ts';
import type { Queues } from '../../src/daemon/queues/index.ts';
import { QueuesOnDemand } from '../../src/daemon/queues/onDemand.ts';
import { closeQueues, openQueues } from '../../src/daemon/queues/open.ts';
import { RateLimitCounters } from '../../src/daemon/ratelimit/store.ts';
import { CacheSeal } from '../../src/daemon/security/cacheSeal.ts';
import type { Keyring } from '../../src/daemon/security/keyring.ts';
import { SecretBox } from '../../src/daemon/security/secretBox.ts';
import { createRedisClient } from '../../src/daemon/services/redis.ts';
import { createTestDatabase, type TestDatabase } from './external.ts';

/**
 * The API's Express app built in this process, over the machine's real Redis and a
 * PostgreSQL database of the test's own, listening on a loopback port: route-level tests
 * without a supervisor, cluster or child processes (seconds faster than a daemon, and a
 * failure's stack points at the route). The daemon suites keep covering supervision.
 *
 * Redis DB index 13 is the harness's: it never flushes it, and on close removes exactly the
 * jobs its requests enqueued (the `jobs` table of its own database names them).
 */
export const HARNESS_REDIS_URL = process.env.WUZ_TEST_HARNESS_REDIS_URL ?? 'redis://127.0.0.1:6379/13';

export interface HarnessTenant {
  id: string;
  slug: string;
  adminToken: string;
  userToken: string;
  /** A second user of the same tenant: what one user must not see of another. */
  otherUserToken: string;
}

export interface AppHarness {
  url: string;
  pool: pg.Pool;
  redis: Redis;
  config: ServeConfig;
  /** The app's logger (silent unless WUZ_TEST_LOG_LEVEL): a test may spy on what it logs. */
  log: Logger;
  /** Creates a tenant with an admin and two users, each with a token. */
  tenant(plan?: 'free' | 'pro' | 'enterprise'): Promise<HarnessTenant>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** serve options as flags (`rateLimit: 'off'`, `cache: 'off'`, …). */
  flags?: Parameters<typeof loadServeConfig>[0];
}

export async function startAppHarness(options: HarnessOptions = {}): Promise<AppHarness> {
  const config = loadServeConfig({ web: 'off', metrics: 'off', ...options.flags }, {});
  const database: TestDatabase = await createTestDatabase();
  const pool = createPool(database.url, 10);
  await migrate(pool);
  const redis = createRedisClient(HARNESS_REDIS_URL);
  await redis.connect();
  const log = createLogger('api', process.env.WUZ_TEST_LOG_LEVEL ?? 'silent');
  const keyring: Keyring = { current: randomBytes(32), previous: [], source: 'WUZ_SECRET_KEY' };
  const queues: Queues = openQueues(redis, config.queue.retention);
  // /metrics as the API port serves it, scraping this process alone (the daemon asks its supervisor).
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const app = createApp({
    redis,
    pool,
    log,
    drain: { active: false },
    bodyLimitBytes: config.bodyLimitBytes,
    compression: config.compression,
    cache: {
      cache: new ResponseCache(redis, log, config.cacheEnabled, config.compression),
      ttlSeconds: config.cacheTtlSeconds,
    },
    rateLimit: { config: config.rateLimit, counters: new RateLimitCounters(config.rateLimit.enabled, log) },
    // As an API worker has them: opened by the first request that needs one.
    queues: new QueuesOnDemand(async () => queues),
    importLimitBytes: config.queue.importLimitBytes,
    security: {
      seal: new CacheSeal(keyring),
      box: new SecretBox(keyring),
      trustProxy: config.trustProxy,
      hsts: config.hsts,
    },
    web: null,
    metrics: {
      endpoint: {
        token: config.metrics.token,
        scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
      },
    },
  });
  const server = http.createServer(app);
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  let tenants = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    pool,
    redis,
    config,
    log,
    async tenant(plan = 'enterprise') {
      const slug = `harness-${++tenants}-${randomBytes(3).toString('hex')}`;
      const tenant = await createTenant(pool, { name: slug, slug, plan });
      const token = async (role: 'admin' | 'user', name: string) => {
        const user = await createUser(pool, {
          tenantId: tenant.id,
          email: `${name}@${slug}.example`,
          name,
          role,
        });
        return (await createToken(pool, { tenantId: tenant.id, userId: user.id, name: 'harness' })).token;
      };
      return {
        id: tenant.id,
        slug,
        adminToken: await token('admin', 'admin'),
        userToken: await token('user', 'user1'),
        otherUserToken: await token('user', 'user2'),
      };
    },
    async close() {
      registry.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const { rows } = await pool.query<{ id: string; queue: keyof Queues }>('SELECT id, queue FROM jobs');
      for (const job of rows) await queues[job.queue].remove(job.id).catch(() => 0);
      await closeQueues(queues);
      await redis.quit();
      await pool.end();
      await database.drop();
    },
  };
}
