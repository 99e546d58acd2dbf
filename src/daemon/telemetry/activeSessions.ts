import type { Redis } from 'ioredis';

/** Token ids seen recently, scored by when: shared by every API worker (and daemon) on the Redis. */
export const ACTIVE_TOKENS_KEY = 'wuz:metrics:active-tokens';
export const ACTIVE_WINDOW_MS = 5 * 60_000;
export const FLUSH_EVERY_MS = 5000;

/**
 * Feeds `active_sessions_total`: the API tokens that made an authenticated request in the
 * last five minutes. Each worker notes tokens in memory and writes them to one sorted set
 * every few seconds (one ZADD however many requests), so the request path never waits on
 * Redis for this and the distinct count is right across workers.
 */
export class ActiveSessions {
  private readonly seen = new Map<string, number>();
  private readonly redis: Redis;
  private timer?: NodeJS.Timeout;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  note(tokenId: string): void {
    this.seen.set(tokenId, Date.now());
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS).unref();
  }

  /** Writes what was seen since the last flush; a Redis outage only loses those marks. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.seen.size === 0) return;
    const members = [...this.seen].flatMap(([token, at]) => [at, token]);
    this.seen.clear();
    await this.redis
      .multi()
      .zadd(ACTIVE_TOKENS_KEY, ...members)
      .pexpire(ACTIVE_TOKENS_KEY, ACTIVE_WINDOW_MS)
      .exec()
      .catch(() => {});
  }
}

/** The distinct tokens of the last five minutes, dropping the older ones as it counts. */
export async function countActiveSessions(redis: Redis, now = Date.now()): Promise<number> {
  const replies = await redis
    .multi()
    .zremrangebyscore(ACTIVE_TOKENS_KEY, '-inf', now - ACTIVE_WINDOW_MS)
    .zcard(ACTIVE_TOKENS_KEY)
    .exec();
  const card = replies?.[1];
  if (!card || card[0]) throw card?.[0] ?? new Error('no reply');
  return Number(card[1]);
}
