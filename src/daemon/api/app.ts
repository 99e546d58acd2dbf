import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { databaseHealthy } from '../db/pool.ts';
import type { Logger } from '../logger.ts';
import { redisHealthy } from '../services/redis.ts';
import { errorHandler, notFound } from './errors.ts';

export interface AppDeps {
  redis: Redis;
  pool: pg.Pool;
  log: Logger;
  /** Set while the worker drains: responses ask clients to close keep-alive sockets. */
  drain: { active: boolean };
}

/** The middleware order of the API lives here and only here. */
export function createApp({ redis, pool, log, drain }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use((_req, res, next) => {
    if (drain.active) res.setHeader('Connection', 'close');
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const [redisError, databaseError] = await Promise.all([redisHealthy(redis), databaseHealthy(pool)]);
    const checks = {
      redis: redisError ? `error: ${redisError}` : 'ok',
      database: databaseError ? `error: ${databaseError}` : 'ok',
      draining: drain.active,
    };
    const ready = !redisError && !databaseError && !drain.active;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
