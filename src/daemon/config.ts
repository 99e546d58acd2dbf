import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { packageRoot } from '../paths.ts';
import { parseTrustProxy, type TrustProxy } from './api/trustProxy.ts';

/**
 * One table drives the CLI flags, the environment variables and docs/CONFIGURATION.md,
 * so the three can never disagree. Precedence: flag > environment > default.
 */
export const CACHE_TTL_NAMES = ['settings', 'analytics', 'subscription', 'agents', 'teams', 'roles'] as const;
export type CacheTtlName = (typeof CACHE_TTL_NAMES)[number];
const DEFAULT_CACHE_TTL = 'settings=300,analytics=120,subscription=300,agents=300,teams=300,roles=600';

/**
 * A "name=number,…" list over its defaults ("agents=60,roles=30"); every problem is
 * reported through zod's issue list. Used by the cache TTLs, queue concurrency and retention.
 */
function namedNumbers<Name extends string>(
  names: readonly Name[],
  defaults: string,
  min: number,
  max: number,
  unit = '',
) {
  return z.string().transform((value, ctx) => {
    const result = Object.fromEntries(
      defaults.split(',').map((pair) => [pair.split('=')[0], Number(pair.split('=')[1])]),
    ) as Record<Name, number>;
    for (const pair of value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const match = /^([a-z]+)=(\d+)$/.exec(pair);
      const name = match?.[1] as Name | undefined;
      const number = Number(match?.[2]);
      if (!name || !names.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown entry ${JSON.stringify(pair)} (use name=number; names: ${names.join(', ')})`,
        });
      } else if (number < min || number > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be ${min} to ${max}${unit}` });
      } else result[name] = number;
    }
    return result;
  });
}

const cacheTtlSchema = namedNumbers(CACHE_TTL_NAMES, DEFAULT_CACHE_TTL, 1, 86_400, ' seconds');

export const QUEUE_NAMES = ['campaign', 'import', 'report'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
const DEFAULT_QUEUE_CONCURRENCY = 'campaign=5,import=2,report=3';
const RETENTION_NAMES = ['completed', 'failed', 'count'] as const;
const DEFAULT_JOB_RETENTION = 'completed=86400,failed=604800,count=10000';

export const serveOptions = [
  {
    key: 'host',
    flag: '--host <host>',
    env: 'WUZ_HOST',
    default: '127.0.0.1',
    help: 'address the HTTP API binds to',
  },
  {
    key: 'port',
    flag: '--port <port>',
    env: 'WUZ_PORT',
    default: '3000',
    help: 'HTTP port (0 picks a free one)',
  },
  {
    key: 'dataDir',
    flag: '--data-dir <dir>',
    env: 'WUZ_DATA_DIR',
    default: './.wuzctl',
    help: 'state: embedded Redis and PGlite data, pid file, control socket, logs',
  },
  {
    key: 'apiWorkers',
    flag: '--api-workers <n>',
    env: 'WUZ_API_WORKERS',
    default: 'CPU count',
    help: 'API worker processes (Node cluster)',
  },
  {
    key: 'queueWorkers',
    flag: '--queue-workers <n>',
    env: 'WUZ_QUEUE_WORKERS',
    default: '1',
    help: 'queue worker processes',
  },
  {
    key: 'shutdownTimeout',
    flag: '--shutdown-timeout <seconds>',
    env: 'WUZ_SHUTDOWN_TIMEOUT',
    default: '10',
    help: 'graceful stop deadline before children are killed',
  },
  {
    key: 'bodyLimit',
    flag: '--body-limit <size>',
    env: 'WUZ_BODY_LIMIT',
    default: '1mb',
    help: 'largest JSON request body (b, kb or mb); bigger ones get 413',
  },
  {
    key: 'cache',
    flag: '--cache <mode>',
    env: 'WUZ_CACHE',
    default: 'on',
    help: 'the Redis response cache of the six read endpoints',
  },
  {
    key: 'cacheTtl',
    flag: '--cache-ttl <list>',
    env: 'WUZ_CACHE_TTL',
    default: DEFAULT_CACHE_TTL,
    help: 'cache TTLs in seconds, e.g. agents=60,analytics=30 (names: settings, analytics, subscription, agents, teams, roles)',
  },
  {
    key: 'rateLimit',
    flag: '--rate-limit <mode>',
    env: 'WUZ_RATE_LIMIT',
    default: 'on',
    help: 'per-tenant request limits on /api (by plan, shared through Redis)',
  },
  {
    key: 'rateLimitWindow',
    flag: '--rate-limit-window <seconds>',
    env: 'RATE_LIMIT_WINDOW',
    default: '60',
    help: 'the fixed window the limits count over',
  },
  {
    key: 'rateLimitFree',
    flag: null,
    env: 'RATE_LIMIT_FREE',
    default: '100',
    help: 'requests per window for a tenant on the free plan',
  },
  {
    key: 'rateLimitPro',
    flag: null,
    env: 'RATE_LIMIT_PRO',
    default: '500',
    help: 'requests per window for a tenant on the pro plan',
  },
  {
    key: 'rateLimitEnterprise',
    flag: null,
    env: 'RATE_LIMIT_ENTERPRISE',
    default: '2000',
    help: 'requests per window for a tenant on the enterprise plan',
  },
  {
    key: 'rateLimitUnauthenticated',
    flag: null,
    env: 'RATE_LIMIT_UNAUTHENTICATED',
    default: '30',
    help: 'failed authentications per window per client address; past it, failures get 429 (a valid token always passes)',
  },
  {
    key: 'queueConcurrency',
    flag: '--queue-concurrency <list>',
    env: 'WUZ_QUEUE_CONCURRENCY',
    default: DEFAULT_QUEUE_CONCURRENCY,
    help: 'jobs each queue worker process runs at once, per queue (campaign, import, report)',
  },
  {
    key: 'tenantCampaigns',
    flag: '--tenant-campaigns <n>',
    env: 'WUZ_TENANT_CAMPAIGNS',
    default: '2',
    help: 'campaigns of one tenant that send at the same time, across all queue workers',
  },
  {
    key: 'campaignBurst',
    flag: '--campaign-burst <n>',
    env: 'WUZ_CAMPAIGN_BURST',
    default: '4',
    help: 'sends in flight at once for a campaign with no delay between sends',
  },
  {
    key: 'jobLock',
    flag: '--job-lock <seconds>',
    env: 'WUZ_JOB_LOCK',
    default: '30',
    help: "how long a queue worker holds a job without renewing it; a killed worker's job runs again after about this long",
  },
  {
    key: 'jobRetention',
    flag: '--job-retention <list>',
    env: 'WUZ_JOB_RETENTION',
    default: DEFAULT_JOB_RETENTION,
    help: 'seconds finished jobs stay in Redis, and at most count of each state (status stays readable from the database)',
  },
  {
    key: 'importLimit',
    flag: '--import-limit <size>',
    env: 'WUZ_IMPORT_LIMIT',
    default: '20mb',
    help: 'largest CSV upload to POST /api/imports; bigger ones get 413',
  },
  {
    key: 'wuzapiUrl',
    flag: '--wuzapi-url <url>',
    env: 'WUZAPI_URL',
    default: 'http://127.0.0.1:8080',
    help: 'the WuzAPI server campaigns send through',
  },
  {
    key: 'wuzapiTimeout',
    flag: '--wuzapi-timeout <seconds>',
    env: 'WUZAPI_TIMEOUT',
    default: '15',
    help: 'how long one send may take before it is retried (with the same message Id)',
  },
  {
    key: 'web',
    flag: '--web <dir>',
    env: 'WUZ_WEB',
    default: '(the built dist/web)',
    help: 'the web app folder the API port serves, or off for the API only',
  },
  {
    key: 'metrics',
    flag: '--metrics <mode>',
    env: 'WUZ_METRICS',
    default: 'on',
    help: 'Prometheus metrics: HTTP request counters and GET /metrics (off only to measure their cost)',
  },
  {
    key: 'metricsPort',
    flag: '--metrics-port <port>',
    env: 'WUZ_METRICS_PORT',
    default: '(the API port)',
    help: 'serve GET /metrics from the supervisor on its own port instead of the API port',
  },
  {
    key: 'metricsHost',
    flag: '--metrics-host <host>',
    env: 'WUZ_METRICS_HOST',
    default: '127.0.0.1',
    help: 'address the --metrics-port listener binds to',
  },
  {
    key: 'trustProxy',
    flag: '--trust-proxy <proxies>',
    env: 'WUZ_TRUST_PROXY',
    default: 'off',
    help: 'proxies allowed to name the client (X-Forwarded-For) for per-address limits and /metrics: off, a hop count, or addresses/CIDRs (loopback, 10.0.0.0/8, …)',
  },
  {
    key: 'hsts',
    flag: '--hsts <mode>',
    env: 'WUZ_HSTS',
    default: 'off',
    help: 'send Strict-Transport-Security (on only when TLS terminates in front of the daemon, for every host name it serves)',
  },
  // Secrets and connection URLs (which may hold passwords): environment only, never flags
  // (visible in `ps`).
  {
    key: 'secretKey',
    flag: null,
    env: 'WUZ_SECRET_KEY',
    default: '(generated into <data-dir>/secrets/secret.key)',
    help: 'the 32-byte key (base64 or hex) that encrypts secrets at rest and signs the auth cache; every node of one database needs the same',
  },
  {
    key: 'secretKeyFile',
    flag: null,
    env: 'WUZ_SECRET_KEY_FILE',
    default: '(none)',
    help: 'a file holding the secret key instead (one key per line: the first is current, the others are read-only previous keys)',
  },
  {
    key: 'secretKeyPrevious',
    flag: null,
    env: 'WUZ_SECRET_KEY_PREVIOUS',
    default: '(none)',
    help: 'older secret keys, comma-separated, still accepted for reading while secrets are re-encrypted (key rotation)',
  },
  {
    key: 'metricsToken',
    flag: null,
    env: 'METRICS_TOKEN',
    default: '(none: loopback scrapers only)',
    help: 'Bearer token GET /metrics requires; without one only clients on this machine may scrape',
  },
  {
    key: 'redisUrl',
    flag: null,
    env: 'REDIS_URL',
    default: '(embedded redis-server)',
    help: 'external Redis; unset starts a managed redis-server',
  },
  {
    key: 'databaseUrl',
    flag: null,
    env: 'DATABASE_URL',
    default: '(embedded PGlite)',
    help: 'external PostgreSQL; unset uses PGlite in the data dir',
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'LOG_LEVEL',
    default: 'info',
    help: 'fatal, error, warn, info, debug, trace or silent',
  },
] as const;

export type ServeOptionKey = (typeof serveOptions)[number]['key'];

const urlWithProtocol = (protocols: string[], what: string) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a ${what} URL (${protocols.map((p) => `${p}//…`).join(' or ')})` },
  );

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** "512kb" → bytes, 1 kb = 1024 b as in Express's body parser. */
function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)?$/i.exec(value) as RegExpExecArray;
  const unit = (match[2] ?? 'b').toLowerCase();
  return Math.floor(Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1));
}

const size = (min: number, max: number, maxText: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(b|kb|mb)?$/i, 'must be a size such as 512kb or 1mb')
    .transform(parseSize)
    .pipe(z.number().min(min, 'must be at least 1kb').max(max, `must be at most ${maxText}`));

const schema = z.object({
  host: z.string().min(1, 'must not be empty'),
  port: integer(0, 65535),
  dataDir: z.string().min(1, 'must not be empty'),
  apiWorkers: integer(1, 64),
  queueWorkers: integer(0, 64),
  shutdownTimeout: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds')
    .transform(Number)
    .pipe(z.number().positive('must be above 0').max(600, 'must be at most 600')),
  bodyLimit: size(1024, 100 * 1024 * 1024, '100mb'),
  cache: z.enum(['on', 'off'], 'must be on or off'),
  cacheTtl: cacheTtlSchema,
  rateLimit: z.enum(['on', 'off'], 'must be on or off'),
  rateLimitWindow: integer(1, 86_400),
  rateLimitFree: integer(1, 10_000_000),
  rateLimitPro: integer(1, 10_000_000),
  rateLimitEnterprise: integer(1, 10_000_000),
  rateLimitUnauthenticated: integer(1, 10_000_000),
  queueConcurrency: namedNumbers(QUEUE_NAMES, DEFAULT_QUEUE_CONCURRENCY, 1, 100),
  tenantCampaigns: integer(1, 1000),
  campaignBurst: integer(1, 64),
  jobLock: integer(1, 600),
  jobRetention: namedNumbers(RETENTION_NAMES, DEFAULT_JOB_RETENTION, 1, 100_000_000),
  importLimit: size(1024, 200 * 1024 * 1024, '200mb'),
  wuzapiUrl: urlWithProtocol(['http:', 'https:'], 'HTTP'),
  wuzapiTimeout: integer(1, 300),
  web: z.string().min(1, 'must not be empty').optional(),
  metrics: z.enum(['on', 'off'], 'must be on or off'),
  metricsPort: integer(0, 65535).optional(),
  metricsHost: z.string().min(1, 'must not be empty'),
  trustProxy: z.string().transform((value, ctx) => {
    try {
      return parseTrustProxy(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  hsts: z.enum(['on', 'off'], 'must be on or off'),
  metricsToken: z.string().min(16, 'must be at least 16 characters').optional(),
  // Decoded (and checked) by security/keyring.ts, which also reads them in CLI commands.
  secretKey: z.string().optional(),
  secretKeyFile: z.string().optional(),
  secretKeyPrevious: z.string().optional(),
  redisUrl: urlWithProtocol(['redis:', 'rediss:'], 'Redis').optional(),
  databaseUrl: urlWithProtocol(['postgres:', 'postgresql:'], 'PostgreSQL').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
});

export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  apiWorkers: number;
  queueWorkers: number;
  shutdownTimeoutMs: number;
  bodyLimitBytes: number;
  cacheEnabled: boolean;
  cacheTtlSeconds: Record<CacheTtlName, number>;
  rateLimit: RateLimitConfig;
  queue: QueueConfig;
  wuzapi: { url: string; timeoutMs: number };
  metrics: MetricsConfig;
  /** The built web app to serve; null: API only. */
  webDir: string | null;
  /** Proxies allowed to name the client (false: none, the socket's peer is the client). */
  trustProxy: TrustProxy;
  /** Send Strict-Transport-Security: TLS terminates in front of the daemon. */
  hsts: boolean;
  redisUrl?: string;
  databaseUrl?: string;
  logLevel: string;
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

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

function defaultFor(key: ServeOptionKey): string | undefined {
  if (key === 'apiWorkers') return String(Math.max(1, os.availableParallelism()));
  if (
    key === 'redisUrl' ||
    key === 'databaseUrl' ||
    key === 'metricsPort' ||
    key === 'metricsToken' ||
    key === 'secretKey' ||
    key === 'secretKeyFile' ||
    key === 'secretKeyPrevious' ||
    key === 'web'
  )
    return undefined;
  return serveOptions.find((o) => o.key === key)?.default;
}

/** Values never echoed back in an error message. */
const SECRET_KEYS = new Set(['redisUrl', 'databaseUrl', 'metricsToken', 'secretKey', 'secretKeyPrevious']);

/** Merges flags, environment and defaults, and validates everything at once. */
export function loadServeConfig(
  flags: Partial<Record<ServeOptionKey, string>>,
  env: NodeJS.ProcessEnv = process.env,
): ServeConfig {
  const raw: Record<string, string | undefined> = {};
  const sources: Record<string, string> = {};
  for (const option of serveOptions) {
    const fromFlag = flags[option.key];
    const fromEnv = env[option.env];
    if (fromFlag !== undefined) {
      raw[option.key] = fromFlag;
      sources[option.key] = option.flag?.split(' ')[0] ?? option.key;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      raw[option.key] = fromEnv;
      sources[option.key] = option.env;
    } else {
      raw[option.key] = defaultFor(option.key);
      sources[option.key] = `default ${option.key}`;
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0]);
        const shown = SECRET_KEYS.has(key) ? '(hidden)' : JSON.stringify(raw[key]);
        return `${sources[key] ?? key} = ${shown}: ${issue.message}`;
      }),
    );
  }
  const value = parsed.data;
  return {
    host: value.host,
    port: value.port,
    dataDir: path.resolve(value.dataDir),
    apiWorkers: value.apiWorkers,
    queueWorkers: value.queueWorkers,
    shutdownTimeoutMs: Math.round(value.shutdownTimeout * 1000),
    bodyLimitBytes: value.bodyLimit,
    cacheEnabled: value.cache === 'on',
    cacheTtlSeconds: value.cacheTtl,
    rateLimit: {
      enabled: value.rateLimit === 'on',
      windowMs: value.rateLimitWindow * 1000,
      perPlan: { free: value.rateLimitFree, pro: value.rateLimitPro, enterprise: value.rateLimitEnterprise },
      unauthenticated: value.rateLimitUnauthenticated,
    },
    queue: {
      concurrency: value.queueConcurrency,
      tenantCampaigns: value.tenantCampaigns,
      campaignBurst: value.campaignBurst,
      lockMs: value.jobLock * 1000,
      retention: {
        completedSeconds: value.jobRetention.completed,
        failedSeconds: value.jobRetention.failed,
        count: value.jobRetention.count,
      },
      importLimitBytes: value.importLimit,
    },
    wuzapi: { url: value.wuzapiUrl.replace(/\/+$/, ''), timeoutMs: value.wuzapiTimeout * 1000 },
    metrics: {
      enabled: value.metrics === 'on',
      port: value.metricsPort,
      host: value.metricsHost,
      token: value.metricsToken,
    },
    webDir: value.web === 'off' ? null : path.resolve(value.web ?? path.join(packageRoot, 'dist', 'web')),
    trustProxy: value.trustProxy,
    hsts: value.hsts === 'on',
    redisUrl: value.redisUrl,
    databaseUrl: value.databaseUrl,
    logLevel: value.logLevel,
  };
}

/** Hides the password of a connection URL so it can be printed or logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** The data dir a command addresses: its flag, else WUZ_DATA_DIR, else ./.wuzctl. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? (env.WUZ_DATA_DIR || './.wuzctl'));
}

/** Where the daemon keeps its files inside the data dir. */
export function dataPaths(dataDir: string) {
  return {
    pidFile: path.join(dataDir, 'wuzctl.pid'),
    socket: path.join(dataDir, 'wuzctl.sock'),
    log: path.join(dataDir, 'wuzctl.log'),
    redisDir: path.join(dataDir, 'redis'),
    pgDir: path.join(dataDir, 'pg'),
  };
}
