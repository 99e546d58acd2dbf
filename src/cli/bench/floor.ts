import { fork } from 'node:child_process';
import { once } from 'node:events';
import { contactsTable, pageSql } from '../../daemon/db/repositories/owned.ts';
import { connectRedis } from '../../daemon/services/redis.ts';
import { modulePath } from '../../paths.ts';
import { ScratchRedis } from '../verify/scratch/redis.ts';
import { UNCACHED_PAGE_SIZE } from './scenarios.ts';

/** A running floor server (see floorServer.ts). */
export interface Floor {
  url: string;
  close(): Promise<void>;
}

const KEY = 'bench:floor:body';

/**
 * The redis floor: a redis-server of its own holding `body` (the cached read's answer, so
 * both move the same bytes), and an Express cluster of `workers` reading it.
 */
export async function startRedisFloor(body: string, workers: number): Promise<Floor> {
  const redis = await ScratchRedis.create();
  try {
    const client = await connectRedis(redis.url);
    await client.set(KEY, body);
    client.disconnect();
    const floor = await forkFloor('redis', workers, { FLOOR_REDIS_URL: redis.url, FLOOR_KEY: KEY });
    return {
      url: floor.url,
      close: async () => {
        await floor.close();
        await redis.stop();
      },
    };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}

/**
 * The pg floor: an Express cluster of `workers` reading the uncached read's page — the
 * first UNCACHED_PAGE_SIZE of `owner`'s contacts with their count, the route's own
 * statement (owned.ts pageSql) — from the daemon's database at `databaseUrl`, with a
 * plain pg.Pool.
 */
export function startPgFloor(
  databaseUrl: string,
  owner: { tenantId: string; userId: string },
  workers: number,
): Promise<Floor> {
  return forkFloor('pg', workers, {
    FLOOR_DATABASE_URL: databaseUrl,
    FLOOR_SQL: pageSql(contactsTable, 'tenant_id = $1 AND owner_id = $2', 2),
    FLOOR_PARAMS: JSON.stringify([owner.tenantId, owner.userId, UNCACHED_PAGE_SIZE, 0]),
    FLOOR_PER_PAGE: String(UNCACHED_PAGE_SIZE),
  });
}

/** Forks floorServer.ts (its kind as its argument, so a process list names it) and waits for its port. */
async function forkFloor(kind: 'redis' | 'pg', workers: number, env: Record<string, string>): Promise<Floor> {
  const child = fork(modulePath('cli/bench/floorServer'), [kind], {
    env: { ...process.env, ...env, FLOOR_WORKERS: String(workers) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const [message] = (await Promise.race([
    once(child, 'message'),
    exited.then(() => {
      throw new Error(`the ${kind} floor server exited before it listened`);
    }),
  ])) as [{ port: number }];
  return {
    url: `http://127.0.0.1:${message.port}`,
    close: async () => {
      // Closing the IPC channel is its signal to stop (floorServer.ts).
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
