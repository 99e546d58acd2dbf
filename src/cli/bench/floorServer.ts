import cluster from 'node:cluster';
import express from 'express';
import { Redis } from 'ioredis';

/**
 * The `redis-floor` scenario's server: Express 5 and one ioredis GET per request, in a
 * node cluster of as many workers as the daemon has API workers. It is what a cached read
 * would cost with nothing of ours in the way (no auth, limiter, cache bookkeeping,
 * security headers, metrics or compression), so `cached-read ÷ redis-floor` says how much
 * of a request's time is our own. Run by floor.ts as a child process:
 * `node floorServer.ts` with FLOOR_REDIS_URL, FLOOR_KEY and FLOOR_WORKERS in its environment.
 */
const redisUrl = process.env.FLOOR_REDIS_URL ?? '';
const key = process.env.FLOOR_KEY ?? '';
const workers = Number(process.env.FLOOR_WORKERS ?? '2');

if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('listening', (_worker, address) => {
    // The launcher waits for every worker, then gets the shared port.
    if (++listening === workers) process.send?.({ port: address.port });
  });
  cluster.on('exit', (_worker, code) => {
    if (code !== 0) process.exit(1);
  });
  process.on('disconnect', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  const redis = new Redis(redisUrl, { enableAutoPipelining: false });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/floor', async (_req, res) => {
    const body = await redis.get(key);
    res.type('application/json').send(body);
  });
  app.listen(0, '127.0.0.1');
}
