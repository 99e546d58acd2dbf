import type { RuleParams } from '../alerts/rules.ts';
import type { AlertName } from '../alerts/types.ts';
import type { TrustProxy } from '../api/trustProxy.ts';
import type { CacheTtlName } from '../cache/ttlNames.ts';
import type { QueueName } from '../queues/names.ts';

/** What `wuzctl serve` runs with: the options of config/options.ts, validated and shaped. */
export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  apiWorkers: number;
  queueWorkers: number;
  shutdownTimeoutMs: number;
  /** On stop, how long /readyz fails before the drain begins (for load balancers). */
  drainDelayMs: number;
  bodyLimitBytes: number;
  cacheEnabled: boolean;
  cacheTtlSeconds: Record<CacheTtlName, number>;
  compression: CompressionConfig;
  rateLimit: RateLimitConfig;
  queue: QueueConfig;
  wuzapi: { url: string; timeoutMs: number };
  metrics: MetricsConfig;
  alerts: AlertsConfig;
  /** OpenTelemetry tracing is on (`--tracing`, resolved against the OTEL_* variables). */
  tracing: boolean;
  /** The built web app to serve; null: API only. */
  webDir: string | null;
  /** Proxies allowed to name the client (false: none, the socket's peer is the client). */
  trustProxy: TrustProxy;
  /** Send Strict-Transport-Security: TLS terminates in front of the daemon. */
  hsts: boolean;
  redisUrl?: string;
  databaseUrl?: string;
  /** Named prepared statements on an external PostgreSQL (db/named.ts); always on embedded. */
  preparedStatements: boolean;
  logLevel: string;
}

/** The supervisor's alert loop (alerts/loop.ts) and where it sends. */
export interface AlertsConfig {
  enabled: boolean;
  intervalMs: number;
  cooldownMs: number;
  rules: Record<AlertName, RuleParams>;
  /** Overrides the detected limit (cgroup, else the machine's memory). */
  memoryLimitBytes?: number;
  webhook?: { url: string; format: 'auto' | 'discord' | 'slack' | 'json' };
  email?: { smtpUrl: string; from: string; to: string[] };
  runbookUrl: string;
}

/** Prometheus metrics: served on the API port, or by the supervisor on `port` when set. */
export interface MetricsConfig {
  enabled: boolean;
  port?: number;
  host: string;
  token?: string;
}

/** Per-tenant limits by plan, per window; `unauthenticated` is per client IP. */
export interface RateLimitConfig {
  enabled: boolean;
  windowMs: number;
  perPlan: { free: number; pro: number; enterprise: number };
  unauthenticated: number;
}

/** How the queue workers run jobs, and how long finished jobs stay in Redis. */
export interface QueueConfig {
  concurrency: Record<QueueName, number>;
  tenantCampaigns: number;
  campaignBurst: number;
  lockMs: number;
  retention: { completedSeconds: number; failedSeconds: number; count: number };
  importLimitBytes: number;
}

/** Brotli/gzip of dynamic responses (api/compression/). */
export interface CompressionConfig {
  enabled: boolean;
  brotliLevel: number;
  gzipLevel: number;
  /** Bodies under this many bytes are sent as they are. */
  thresholdBytes: number;
  /** Per API worker: compressed copies of public responses (0: none). */
  cacheBytes: number;
}
