import type { CacheStats } from './cache/responseCache.ts';
import type { CacheTtlName, QueueConfig, RateLimitConfig } from './config.ts';
import type { RateLimitStats } from './ratelimit/store.ts';
/** Messages between the supervisor and its children over the Node IPC channel. */
export type ChildRole = 'api' | 'queue';

export type ToChild = { type: 'shutdown' } | { type: 'stats'; requestId: number };

export type FromChild =
  | { type: 'ready'; port?: number }
  | { type: 'fatal'; code: string; message: string }
  | {
      type: 'stats';
      requestId: number;
      rss: number;
      heapUsed: number;
      cache?: CacheStats;
      rateLimit?: RateLimitStats;
    };

/** What a child needs to start: the resolved addresses of Redis and the database. */
export interface ChildConfig {
  role: ChildRole;
  host: string;
  port: number;
  redisUrl: string;
  databaseUrl: string;
  shutdownTimeoutMs: number;
  bodyLimitBytes: number;
  cacheEnabled: boolean;
  cacheTtlSeconds: Record<CacheTtlName, number>;
  rateLimit: RateLimitConfig;
  queue: QueueConfig;
  wuzapi: { url: string; timeoutMs: number };
  logLevel: string;
}

export const CHILD_CONFIG_ENV = 'WUZCTL_CHILD_CONFIG';

export function isToChild(message: unknown): message is ToChild {
  return typeof message === 'object' && message !== null && 'type' in message;
}
