import type { CacheStats } from './cache/responseCache.ts';
import type { ServeConfig } from './config/types.ts';
import type { RateLimitStats } from './ratelimit/store.ts';
import type { KeyringText } from './security/keyring.ts';
import type { MetricsSnapshot } from './telemetry/metrics.ts';
/** Messages between the supervisor and its children over the Node IPC channel. */
export type ChildRole = 'api' | 'queue';

export type ToChild =
  /** Sent once, after the child said `loaded` and the services it needs are up. */
  | { type: 'start'; config: ChildConfig }
  | { type: 'shutdown' }
  /** A stop is coming: /readyz answers 503 from now on, everything else is served as before. */
  | { type: 'unready' }
  /** Phase 1 of a stop: close the listener, keep serving open connections as before. */
  | { type: 'stop-accepting'; requestId: number }
  | { type: 'stats'; requestId: number }
  /** The supervisor collects this child's metrics for a scrape. */
  | { type: 'metrics'; requestId: number }
  /** The supervisor's answer to an API worker's `scrape`: the cluster-wide exposition. */
  | { type: 'scrape'; requestId: number; contentType: string; body: string; error?: string };

export type FromChild =
  /** The child listens for `start` (its role's code is loading meanwhile). */
  | { type: 'loaded' }
  /** Listening (API) or consuming (queue); `problems`: what did not answer within its wait. */
  | { type: 'ready'; port?: number; problems?: string[] }
  /** The listener is closed (sent after the cluster's own close message, so it is processed). */
  | { type: 'not-accepting'; requestId: number }
  | { type: 'fatal'; code: string; message: string }
  | {
      type: 'stats';
      requestId: number;
      rss: number;
      heapUsed: number;
      /** CPU time used so far (user + system). */
      cpuSeconds: number;
      /** Event-loop delay p99 (ms) since the last stats; null before any sample. */
      eventLoopDelayMs: number | null;
      cache?: CacheStats;
      rateLimit?: RateLimitStats;
    }
  | { type: 'metrics'; requestId: number; metrics: MetricsSnapshot }
  /** Sent once by a child that stops gracefully: its counters outlive it. */
  | { type: 'metrics-final'; metrics: MetricsSnapshot }
  /** An API worker serving GET /metrics asks the supervisor for the cluster-wide text. */
  | { type: 'scrape'; requestId: number };

/**
 * What a child needs to start: the resolved addresses of Redis and the database. It
 * travels in the `start` message, not the environment: a process's environment outlives
 * its use (other tools of the same user read /proc/<pid>/environ, crash reports copy it),
 * and this holds the database password and the secret keys.
 */
export interface ChildConfig
  extends Pick<
    ServeConfig,
    | 'dataDir'
    | 'host'
    | 'port'
    | 'shutdownTimeoutMs'
    | 'bodyLimitBytes'
    | 'cacheEnabled'
    | 'cacheTtlSeconds'
    | 'compression'
    | 'rateLimit'
    | 'queue'
    | 'wuzapi'
    | 'webDir'
    | 'trustProxy'
    | 'hsts'
  > {
  role: ChildRole;
  /** Resolved: the managed services' addresses when the options named none. */
  redisUrl: string;
  databaseUrl: string;
  /** The database is the embedded PGlite: hot queries go as named prepared statements (db/named.ts). */
  namedStatements: boolean;
  metrics: ChildMetricsConfig;
  /** The secret keys (encryption at rest, auth cache seal). */
  keyring: KeyringText;
}

export interface ChildMetricsConfig {
  /** Record HTTP metrics (off only to measure their cost). */
  enabled: boolean;
  /** Serve GET /metrics on the API port (false when --metrics-port gives it its own). */
  onApiPort: boolean;
  /** Bearer token a scrape must send; without one only loopback clients may scrape. */
  token?: string;
}

/** The end of an exhaustive switch over a message union: `message` is `never` once every type has its case. */
export function unhandled(message: never): void {
  void message;
}

export function isToChild(message: unknown): message is ToChild {
  return typeof message === 'object' && message !== null && 'type' in message;
}
