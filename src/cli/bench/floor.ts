import { fork } from 'node:child_process';
import { once } from 'node:events';
import { connectRedis } from '../../daemon/services/redis.ts';
import { modulePath } from '../../paths.ts';
import { ScratchRedis } from '../verify/scratch/redis.ts';

/** A running floor server (see floorServer.ts) and the redis-server it reads from. */
export interface Floor {
  url: string;
  close(): Promise<void>;
}

const KEY = 'bench:floor:body';

/**
 * Starts the floor: a redis-server of its own holding `body` (the cached read's answer,
 * so both move the same bytes), and an Express cluster of `workers` reading it.
 */
export async function startFloor(body: string, workers: number): Promise<Floor> {
  const redis = await ScratchRedis.create();
  try {
    const client = await connectRedis(redis.url);
    await client.set(KEY, body);
    client.disconnect();
    const child = fork(modulePath('cli/bench/floorServer'), [], {
      env: { ...process.env, FLOOR_REDIS_URL: redis.url, FLOOR_KEY: KEY, FLOOR_WORKERS: String(workers) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const exited = once(child, 'exit');
    const [message] = (await Promise.race([
      once(child, 'message'),
      exited.then(() => {
        throw new Error('the floor server exited before it listened');
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
        await redis.stop();
      },
    };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}
