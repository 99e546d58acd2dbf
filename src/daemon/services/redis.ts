import { Redis, type RedisOptions } from 'ioredis';
import { errorMessage, retry } from './retry.ts';

/**
 * A client that reconnects forever in the background (ioredis' default) but fails a
 * command fast while Redis is away, so callers can fail open instead of hanging.
 */
export function createRedisClient(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
}

/** Connects and PINGs, retrying with backoff; throws a message that names the address. */
export async function connectRedis(url: string, attempts = 6): Promise<Redis> {
  const client = createRedisClient(url);
  client.on('error', () => {}); // reported by the caller through connect/ping failures
  try {
    await retry(
      async () => {
        if (client.status === 'wait' || client.status === 'end') await client.connect();
        await client.ping();
      },
      { attempts },
    );
    return client;
  } catch (error) {
    client.disconnect();
    throw new Error(`Redis at ${safeAddress(url)} did not answer: ${errorMessage(error)}`);
  }
}

/**
 * Resolves once a Redis we just spawned answers PING. It listens within milliseconds, so
 * it is polled every 10–50 ms (for up to a minute: a large AOF answers LOADING meanwhile),
 * by a client that never reconnects on its own — ioredis' background reconnect, 200 ms
 * after the first refusal, was most of the start-up's Redis phase.
 */
export async function waitForRedis(url: string, timeoutMs = 60_000): Promise<void> {
  const began = Date.now();
  const probe = () => {
    const client = createRedisClient(url, { retryStrategy: () => null, connectTimeout: 1000 });
    client.on('error', () => {});
    return client.connect().then(
      () => client.ping().finally(() => client.disconnect()),
      (error: unknown) => {
        client.disconnect();
        throw error;
      },
    );
  };
  try {
    await retry(probe, {
      attempts: Number.POSITIVE_INFINITY,
      initialDelayMs: 10,
      maxDelayMs: 50,
      giveUp: () => Date.now() - began > timeoutMs,
    });
  } catch (error) {
    throw new Error(`Redis at ${safeAddress(url)} did not answer: ${errorMessage(error)}`);
  }
}

export async function redisHealthy(client: Redis, timeoutMs = 1000): Promise<string | null> {
  try {
    await withTimeout(client.ping(), timeoutMs, 'PING timed out');
    return null;
  } catch (error) {
    return errorMessage(error);
  }
}

export function safeAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}${parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
