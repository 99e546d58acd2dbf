import cluster from 'node:cluster';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * The floor scenarios' server: Express 5 in a node cluster of as many workers as the
 * daemon has API workers, answering GET /floor with the least a request of ours must do —
 * what it would cost with nothing of ours in the way (no auth, limiter, cache bookkeeping,
 * security headers, metrics or compression), so that `scenario ÷ floor` says how much of
 * a request's time is our own. Run by floor.ts as a child process, its kind as argument:
 * - `redis`: one ioredis GET of FLOOR_KEY at FLOOR_REDIS_URL (the cached read's floor);
 * - `pg`: one pg.Pool query (a named statement), FLOOR_SQL with the JSON array FLOOR_PARAMS, at
 *   FLOOR_DATABASE_URL, answered as the list shape of FLOOR_PER_PAGE rows (the uncached
 *   read's floor).
 */
const kind = process.argv[2];
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
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/floor', kind === 'pg' ? pgPage() : redisBody());
  app.listen(0, '127.0.0.1');
}

function redisBody(): express.RequestHandler {
  const redis = new Redis(process.env.FLOOR_REDIS_URL ?? '', { enableAutoPipelining: false });
  const key = process.env.FLOOR_KEY ?? '';
  return async (_req, res) => {
    const body = await redis.get(key);
    res.type('application/json').send(body);
  };
}

function pgPage(): express.RequestHandler {
  const pool = new pg.Pool({ connectionString: process.env.FLOOR_DATABASE_URL, max: 10 });
  const sql = process.env.FLOOR_SQL ?? '';
  const params = JSON.parse(process.env.FLOOR_PARAMS ?? '[]') as unknown[];
  const perPage = Number(process.env.FLOOR_PER_PAGE ?? '20');
  return async (_req, res) => {
    // Named, so the server parses and plans it once per connection, as the route's is.
    const { rows } = await pool.query({ name: 'floor', text: sql, values: params });
    const total = rows[0]?.total_count ?? 0;
    res.json({ data: rows.map(({ total_count: _, ...row }) => row), page: 1, per_page: perPage, total });
  };
}
