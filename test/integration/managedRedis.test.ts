import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/daemon/logger.ts';
import { ManagedRedis } from '../../src/daemon/services/redisServer.ts';

// The embedded redis-server (services/redisServer.ts), started as `wuzctl serve` starts it.

let dir: string;
let redis: ManagedRedis;
let client: Redis | undefined;

const start = async () => {
  redis = new ManagedRedis(
    dir,
    'managed-redis-test-password',
    createLogger('supervisor', 'silent'),
    () => {},
  );
  await redis.start();
  client = new Redis(redis.url);
  return client;
};

const aofBytes = async () => {
  const aofDir = path.join(dir, 'appendonlydir');
  let total = 0;
  for (const name of await readdir(aofDir)) total += (await stat(path.join(aofDir, name))).size;
  return total;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wz-redis-'));
});

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the embedded redis-server', () => {
  it('keeps its AOF small under a stream of counts (what a restart replays), and keeps the data', async () => {
    const db = await start();
    // ~10 MB of AOF: 300,000 counts, as the rate limiter writes them (one INCR each).
    for (let batch = 0; batch < 30; batch++) {
      const pipeline = db.pipeline();
      for (let i = 0; i < 10_000; i++) pipeline.incr('wuz:test:count');
      await pipeline.exec();
    }
    // A rewrite started on the way runs in the background: wait for it to end.
    const deadline = Date.now() + 20_000;
    while ((await db.info('persistence')).includes('aof_rewrite_in_progress:1') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const info = await db.info('persistence');
    expect(info).toMatch(/aof_rewrites:[1-9]/);
    // Redis's default would still be replaying every one of them (no rewrite before 64 MB).
    expect(await aofBytes()).toBeLessThan(8 * 1024 * 1024);

    // What the AOF holds is what comes back.
    db.disconnect();
    await redis.stop();
    const again = await start();
    expect(await again.get('wuz:test:count')).toBe('300000');
  });
});
