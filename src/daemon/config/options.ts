import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { packageRoot } from '../../paths.ts';
import { parseEmailList } from '../alerts/channels/email.ts';
import { validateWebhookUrl } from '../alerts/channels/webhookFormat.ts';
import { parseAlertRules } from '../alerts/ruleSpec.ts';
import { parseTrustProxy } from '../api/trustProxy.ts';
import { CACHE_TTL_NAMES } from '../cache/ttlNames.ts';
import { QUEUE_NAMES } from '../queues/names.ts';
import { TRACING_MODES } from '../tracing/mode.ts';

/**
 * The options of `wuzctl serve`. A new option is one row here (plus its place in
 * ServeConfig, config/types.ts and config/load.ts, if code reads it): the row is its flag,
 * environment variable, default, validator, help and the heading of docs/CONFIGURATION.md
 * that documents it. The CLI flags (cli/commands/serve.ts), the validation (load.ts) and
 * the docs check (test/unit/docs.test.ts) are all built from these rows.
 * Precedence: flag > environment > default; an empty environment variable counts as unset.
 */

/** The sections of docs/CONFIGURATION.md, in its order: every option belongs to one. */
export const CONFIG_SECTIONS = [
  'Server',
  'Cache',
  'Compression',
  'Rate limits',
  'Queues',
  'WuzAPI',
  'Metrics',
  'Tracing',
  'Alerts',
  'Security',
  'External services',
] as const;
export type ConfigSection = (typeof CONFIG_SECTIONS)[number];

/** One option's validator: the raw string (flag, environment or default) in, its value out. */
type OptionSchema = z.ZodType<unknown, string>;

interface OptionFields {
  /** The name in ServeOptionValues and in commander's parsed options. */
  key: string;
  /** The commander flag; null: environment only (secrets and connection URLs: `ps` shows flags). */
  flag: string | null;
  env: string;
  schema: OptionSchema;
  /** The flag's help line (the default is appended). */
  help: string;
  /** The heading of docs/CONFIGURATION.md the option is documented under. */
  section: ConfigSection;
  /** Never echoed back in an error message. */
  secret?: true;
}

/**
 * `default` is the string the validator gets when neither flag nor environment sets the
 * option (a function when computed at load time); none: the option is optional (undefined).
 * `defaultText` is what help shows instead; required when the default is not a plain string.
 */
type OptionDefault =
  | { default: string; defaultText?: string }
  | { default: () => string; defaultText: string }
  | { default?: undefined; defaultText: string };

export type OptionRow = OptionFields & OptionDefault;

// Validators of one raw string each; their messages are what ConfigError lists.

const nonEmpty = () => z.string().min(1, 'must not be empty');

const onOff = () => z.enum(['on', 'off'], 'must be on or off');

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** "512kb" → bytes, 1 kb = 1024 b as in Express's body parser. */
function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value) as RegExpExecArray;
  const unit = (match[2] ?? 'b').toLowerCase();
  const scale = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit] ?? 1;
  return Math.floor(Number(match[1]) * scale);
}

const size = (min: number, max: number, maxText: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'must be a size such as 512kb, 1mb or 2gb')
    .transform(parseSize)
    .pipe(
      z
        .number()
        .min(min, min === 1024 ? 'must be at least 1kb' : `must be at least ${min} bytes`)
        .max(max, `must be at most ${maxText}`),
    );

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

// The named lists' defaults: their validators fill in the names a value leaves out.
const DEFAULT_CACHE_TTL = 'settings=300,analytics=120,subscription=300,agents=300,teams=300,roles=600';
const DEFAULT_QUEUE_CONCURRENCY = 'campaign=5,import=2,report=3';
const DEFAULT_JOB_RETENTION = 'completed=86400,failed=604800,count=10000';

const serveOptions = [
  {
    key: 'host',
    flag: '--host <host>',
    env: 'WUZ_HOST',
    default: '127.0.0.1',
    schema: nonEmpty(),
    help: 'address the HTTP API binds to',
    section: 'Server',
  },
  {
    key: 'port',
    flag: '--port <port>',
    env: 'WUZ_PORT',
    default: '3000',
    schema: integer(0, 65535),
    help: 'HTTP port (0 picks a free one)',
    section: 'Server',
  },
  {
    key: 'dataDir',
    flag: '--data-dir <dir>',
    env: 'WUZ_DATA_DIR',
    default: './.wuzctl',
    schema: nonEmpty(),
    help: 'state: embedded Redis and PGlite data, pid file, control socket, logs',
    section: 'Server',
  },
  {
    key: 'apiWorkers',
    flag: '--api-workers <n>',
    env: 'WUZ_API_WORKERS',
    default: () => String(Math.max(1, os.availableParallelism())),
    defaultText: 'CPU count',
    schema: integer(1, 64),
    help: 'API worker processes (Node cluster)',
    section: 'Server',
  },
  {
    key: 'queueWorkers',
    flag: '--queue-workers <n>',
    env: 'WUZ_QUEUE_WORKERS',
    default: '1',
    schema: integer(0, 64),
    help: 'queue worker processes',
    section: 'Server',
  },
  {
    key: 'shutdownTimeout',
    flag: '--shutdown-timeout <seconds>',
    env: 'WUZ_SHUTDOWN_TIMEOUT',
    default: '10',
    schema: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds')
      .transform(Number)
      .pipe(z.number().positive('must be above 0').max(600, 'must be at most 600')),
    help: 'graceful stop deadline before children are killed',
    section: 'Server',
  },
  {
    key: 'drainDelay',
    flag: '--drain-delay <seconds>',
    env: 'WUZ_DRAIN_DELAY',
    default: '0',
    schema: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds')
      .transform(Number)
      .pipe(z.number().min(0).max(300, 'must be at most 300')),
    help: 'on stop, /readyz answers 503 this long before the workers drain, so a load balancer stops sending first (its health-check interval × failures)',
    section: 'Server',
  },
  {
    key: 'bodyLimit',
    flag: '--body-limit <size>',
    env: 'WUZ_BODY_LIMIT',
    default: '1mb',
    schema: size(1024, 100 * 1024 * 1024, '100mb'),
    help: 'largest JSON request body (b, kb or mb); bigger ones get 413',
    section: 'Server',
  },
  {
    key: 'cache',
    flag: '--cache <mode>',
    env: 'WUZ_CACHE',
    default: 'on',
    schema: onOff(),
    help: 'the Redis response cache of the six read endpoints',
    section: 'Cache',
  },
  {
    key: 'cacheTtl',
    flag: '--cache-ttl <list>',
    env: 'WUZ_CACHE_TTL',
    default: DEFAULT_CACHE_TTL,
    schema: namedNumbers(CACHE_TTL_NAMES, DEFAULT_CACHE_TTL, 1, 86_400, ' seconds'),
    help: `cache TTLs in seconds, e.g. agents=60,analytics=30 (names: ${CACHE_TTL_NAMES.join(', ')})`,
    section: 'Cache',
  },
  {
    key: 'rateLimit',
    flag: '--rate-limit <mode>',
    env: 'WUZ_RATE_LIMIT',
    default: 'on',
    schema: onOff(),
    help: 'per-tenant request limits on /api (by plan, shared through Redis)',
    section: 'Rate limits',
  },
  {
    key: 'rateLimitWindow',
    flag: '--rate-limit-window <seconds>',
    env: 'RATE_LIMIT_WINDOW',
    default: '60',
    schema: integer(1, 86_400),
    help: 'the fixed window the limits count over',
    section: 'Rate limits',
  },
  {
    key: 'rateLimitFree',
    flag: null,
    env: 'RATE_LIMIT_FREE',
    default: '100',
    schema: integer(1, 10_000_000),
    help: 'requests per window for a tenant on the free plan',
    section: 'Rate limits',
  },
  {
    key: 'rateLimitPro',
    flag: null,
    env: 'RATE_LIMIT_PRO',
    default: '500',
    schema: integer(1, 10_000_000),
    help: 'requests per window for a tenant on the pro plan',
    section: 'Rate limits',
  },
  {
    key: 'rateLimitEnterprise',
    flag: null,
    env: 'RATE_LIMIT_ENTERPRISE',
    default: '2000',
    schema: integer(1, 10_000_000),
    help: 'requests per window for a tenant on the enterprise plan',
    section: 'Rate limits',
  },
  {
    key: 'rateLimitUnauthenticated',
    flag: null,
    env: 'RATE_LIMIT_UNAUTHENTICATED',
    default: '30',
    schema: integer(1, 10_000_000),
    help: 'failed authentications per window per client address; past it, failures get 429 (a valid token always passes)',
    section: 'Rate limits',
  },
  {
    key: 'queueConcurrency',
    flag: '--queue-concurrency <list>',
    env: 'WUZ_QUEUE_CONCURRENCY',
    default: DEFAULT_QUEUE_CONCURRENCY,
    schema: namedNumbers(QUEUE_NAMES, DEFAULT_QUEUE_CONCURRENCY, 1, 100),
    help: `jobs each queue worker process runs at once, per queue (${QUEUE_NAMES.join(', ')})`,
    section: 'Queues',
  },
  {
    key: 'tenantCampaigns',
    flag: '--tenant-campaigns <n>',
    env: 'WUZ_TENANT_CAMPAIGNS',
    default: '2',
    schema: integer(1, 1000),
    help: 'campaigns of one tenant that send at the same time, across all queue workers',
    section: 'Queues',
  },
  {
    key: 'campaignBurst',
    flag: '--campaign-burst <n>',
    env: 'WUZ_CAMPAIGN_BURST',
    default: '4',
    schema: integer(1, 64),
    help: 'sends in flight at once for a campaign with no delay between sends',
    section: 'Queues',
  },
  {
    key: 'jobLock',
    flag: '--job-lock <seconds>',
    env: 'WUZ_JOB_LOCK',
    default: '30',
    schema: integer(1, 600),
    help: "how long a queue worker holds a job without renewing it; a killed worker's job runs again after about this long",
    section: 'Queues',
  },
  {
    key: 'jobRetention',
    flag: '--job-retention <list>',
    env: 'WUZ_JOB_RETENTION',
    default: DEFAULT_JOB_RETENTION,
    schema: namedNumbers(['completed', 'failed', 'count'], DEFAULT_JOB_RETENTION, 1, 100_000_000),
    help: 'seconds finished jobs stay in Redis, and at most count of each state (status stays readable from the database)',
    section: 'Queues',
  },
  {
    key: 'importLimit',
    flag: '--import-limit <size>',
    env: 'WUZ_IMPORT_LIMIT',
    default: '20mb',
    schema: size(1024, 200 * 1024 * 1024, '200mb'),
    help: 'largest CSV upload to POST /api/imports; bigger ones get 413',
    section: 'Queues',
  },
  {
    key: 'wuzapiUrl',
    flag: '--wuzapi-url <url>',
    env: 'WUZAPI_URL',
    default: 'http://127.0.0.1:8080',
    schema: urlWithProtocol(['http:', 'https:'], 'HTTP'),
    help: 'the WuzAPI server campaigns send through',
    section: 'WuzAPI',
  },
  {
    key: 'wuzapiTimeout',
    flag: '--wuzapi-timeout <seconds>',
    env: 'WUZAPI_TIMEOUT',
    default: '15',
    schema: integer(1, 300),
    help: 'how long one send may take before it is retried (with the same message Id)',
    section: 'WuzAPI',
  },
  {
    key: 'web',
    flag: '--web <dir>',
    env: 'WUZ_WEB',
    default: path.join(packageRoot, 'dist', 'web'),
    defaultText: '(the built dist/web)',
    schema: nonEmpty(),
    help: 'the web app folder the API port serves, or off for the API only',
    section: 'Server',
  },
  {
    key: 'metrics',
    flag: '--metrics <mode>',
    env: 'WUZ_METRICS',
    default: 'on',
    schema: onOff(),
    help: 'Prometheus metrics: HTTP request counters and GET /metrics (off only to measure their cost)',
    section: 'Metrics',
  },
  {
    key: 'metricsPort',
    flag: '--metrics-port <port>',
    env: 'WUZ_METRICS_PORT',
    defaultText: '(the API port)',
    schema: integer(0, 65535),
    help: 'serve GET /metrics from the supervisor on its own port instead of the API port',
    section: 'Metrics',
  },
  {
    key: 'metricsHost',
    flag: '--metrics-host <host>',
    env: 'WUZ_METRICS_HOST',
    default: '127.0.0.1',
    schema: nonEmpty(),
    help: 'address the --metrics-port listener binds to',
    section: 'Metrics',
  },
  {
    key: 'tracing',
    flag: '--tracing <mode>',
    env: 'WUZ_TRACING',
    default: 'auto',
    schema: z.enum(TRACING_MODES as ['auto', 'on', 'off'], 'must be auto, on or off'),
    help: 'OpenTelemetry tracing: auto (on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set), on or off; off loads nothing of it',
    section: 'Tracing',
  },
  {
    key: 'trustProxy',
    flag: '--trust-proxy <proxies>',
    env: 'WUZ_TRUST_PROXY',
    default: 'off',
    schema: z.string().transform((value, ctx) => {
      try {
        return parseTrustProxy(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    help: 'proxies allowed to name the client (X-Forwarded-For) for per-address limits and /metrics: off, a hop count, or addresses/CIDRs (loopback, 10.0.0.0/8, cloudflare, …)',
    section: 'Security',
  },
  {
    key: 'hsts',
    flag: '--hsts <mode>',
    env: 'WUZ_HSTS',
    default: 'off',
    schema: onOff(),
    help: 'send Strict-Transport-Security (on only when TLS terminates in front of the daemon, for every host name it serves)',
    section: 'Security',
  },
  {
    key: 'compression',
    flag: '--compression <mode>',
    env: 'WUZ_COMPRESSION',
    default: 'on',
    schema: onOff(),
    help: 'brotli or gzip for dynamic responses (the API, /metrics, CSV downloads), as the client accepts',
    section: 'Compression',
  },
  {
    key: 'brotliLevel',
    flag: '--brotli-level <n>',
    env: 'WUZ_BROTLI_LEVEL',
    default: '4',
    schema: integer(1, 11),
    help: 'brotli quality for dynamic responses (1 fastest, 11 smallest; the web app is precompressed at 11)',
    section: 'Compression',
  },
  {
    key: 'gzipLevel',
    flag: '--gzip-level <n>',
    env: 'WUZ_GZIP_LEVEL',
    default: '6',
    schema: integer(1, 9),
    help: 'gzip level for clients without brotli (1 fastest, 9 smallest)',
    section: 'Compression',
  },
  {
    key: 'compressionThreshold',
    flag: '--compression-threshold <size>',
    env: 'WUZ_COMPRESSION_THRESHOLD',
    default: '1kb',
    schema: size(0, 1024 * 1024, '1mb'),
    help: 'bodies smaller than this go out uncompressed (compressing them costs more than it saves)',
    section: 'Compression',
  },
  {
    key: 'compressionCache',
    flag: '--compression-cache <size>',
    env: 'WUZ_COMPRESSION_CACHE',
    default: '8mb',
    schema: size(0, 1024 * 1024 * 1024, '1024mb'),
    help: 'compressed copies of public responses each API worker keeps (0 turns it off); never a per-user answer',
    section: 'Compression',
  },
  {
    key: 'alerts',
    flag: '--alerts <mode>',
    env: 'WUZ_ALERTS',
    default: 'on',
    schema: onOff(),
    help: "the supervisor's alert loop (on or off): evaluates the five rules and notifies the channels",
    section: 'Alerts',
  },
  {
    key: 'alertInterval',
    flag: '--alert-interval <seconds>',
    env: 'WUZ_ALERT_INTERVAL',
    default: '15',
    schema: integer(1, 3600),
    help: 'how often the rules are evaluated, 1–3600',
    section: 'Alerts',
  },
  {
    key: 'alertCooldown',
    flag: '--alert-cooldown <seconds>',
    env: 'WUZ_ALERT_COOLDOWN',
    default: '300',
    schema: integer(1, 7 * 86400),
    help: 'per alert: no second firing notification within this time; a reminder after it while it still fires',
    section: 'Alerts',
  },
  {
    key: 'alertRules',
    flag: '--alert-rules <changes>',
    env: 'WUZ_ALERT_RULES',
    default: '',
    defaultText: "monitoring/alerts.yml's",
    schema: z.string().transform((value, ctx) => {
      const { rules, problems } = parseAlertRules(value);
      for (const message of problems) ctx.addIssue({ code: 'custom', message });
      return rules;
    }),
    help: 'thresholds, windows and durations, as Rule.field=value,… (* for every rule): HighErrorRate.threshold=0.05,*.for=1m',
    section: 'Alerts',
  },
  {
    key: 'memoryLimit',
    flag: '--memory-limit <size>',
    env: 'WUZ_MEMORY_LIMIT',
    defaultText: "the cgroup limit, else the machine's memory",
    schema: size(16 * 1024 * 1024, 1024 ** 4, '1024gb'),
    help: 'the memory the HighMemoryUsage alert measures against (also wuzctl_memory_limit_bytes)',
    section: 'Alerts',
  },
  {
    key: 'alertWebhookFormat',
    flag: '--alert-webhook-format <format>',
    env: 'ALERT_WEBHOOK_FORMAT',
    default: 'auto',
    schema: z.enum(['auto', 'discord', 'slack', 'json'], 'must be auto, discord, slack or json'),
    help: "the webhook's message format; auto: from the URL (Discord, Slack, else Alertmanager-style JSON)",
    section: 'Alerts',
  },
  {
    key: 'alertEmail',
    flag: null,
    env: 'ALERT_EMAIL_ENABLED',
    default: 'false',
    schema: z
      .enum(['true', 'false', 'on', 'off', '1', '0'], 'must be true or false')
      .transform((value) => ['true', 'on', '1'].includes(value)),
    help: 'send alerts by e-mail too (needs SMTP_URL and ALERT_EMAIL_TO)',
    section: 'Alerts',
  },
  {
    key: 'alertEmailTo',
    flag: null,
    env: 'ALERT_EMAIL_TO',
    defaultText: '(none)',
    schema: z.string().transform((value, ctx) => {
      try {
        return parseEmailList(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return [];
      }
    }),
    help: 'who gets alert e-mails, comma-separated',
    section: 'Alerts',
  },
  {
    key: 'alertEmailFrom',
    flag: null,
    env: 'ALERT_EMAIL_FROM',
    default: () => `wuzctl@${os.hostname()}`,
    defaultText: 'wuzctl@<hostname>',
    schema: nonEmpty(),
    help: 'the From address of alert e-mails',
    section: 'Alerts',
  },
  {
    key: 'alertRunbookUrl',
    flag: '--alert-runbook-url <url>',
    env: 'WUZ_ALERT_RUNBOOK_URL',
    default: () => pathToFileURL(path.join(packageRoot, 'docs', 'RUNBOOK.md')).href,
    defaultText: 'the installed docs/RUNBOOK.md',
    schema: urlWithProtocol(['http:', 'https:', 'file:'], 'runbook'),
    help: 'where notifications link to: the runbook (each alert adds its #section); point it at your copy on the web',
    section: 'Alerts',
  },
  // Secrets and connection URLs (which may hold passwords): environment only, never flags
  // (visible in `ps`). The keys are decoded (and checked) by security/keyring.ts, which
  // also reads them in CLI commands.
  {
    key: 'secretKey',
    flag: null,
    env: 'WUZ_SECRET_KEY',
    defaultText: '(generated into <data-dir>/secrets/secret.key)',
    schema: z.string(),
    help: 'the 32-byte key (base64 or hex) that encrypts secrets at rest and signs the auth cache; every node of one database needs the same',
    section: 'Security',
    secret: true,
  },
  {
    key: 'secretKeyFile',
    flag: null,
    env: 'WUZ_SECRET_KEY_FILE',
    defaultText: '(none)',
    schema: z.string(),
    help: 'a file holding the secret key instead (one key per line: the first is current, the others are read-only previous keys)',
    section: 'Security',
  },
  {
    key: 'secretKeyPrevious',
    flag: null,
    env: 'WUZ_SECRET_KEY_PREVIOUS',
    defaultText: '(none)',
    schema: z.string(),
    help: 'older secret keys, comma-separated, still accepted for reading while secrets are re-encrypted (key rotation)',
    section: 'Security',
    secret: true,
  },
  {
    key: 'metricsToken',
    flag: null,
    env: 'METRICS_TOKEN',
    defaultText: '(none: loopback scrapers only)',
    schema: z.string().min(16, 'must be at least 16 characters'),
    help: 'Bearer token GET /metrics requires; without one only clients on this machine may scrape',
    section: 'Metrics',
    secret: true,
  },
  {
    key: 'alertWebhookUrl',
    flag: null,
    env: 'ALERT_WEBHOOK_URL',
    defaultText: '(none)',
    schema: z.string().transform((value, ctx) => {
      try {
        return validateWebhookUrl(value).href;
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return value;
      }
    }),
    help: 'where alerts are posted: a Discord or Slack incoming webhook, or any URL taking Alertmanager-style JSON',
    section: 'Alerts',
    secret: true,
  },
  {
    key: 'smtpUrl',
    flag: null,
    env: 'SMTP_URL',
    defaultText: '(none)',
    schema: urlWithProtocol(['smtp:', 'smtps:'], 'SMTP'),
    help: 'the SMTP relay for alert e-mails: smtp://user:password@host:587 (STARTTLS when offered) or smtps://… (TLS)',
    section: 'Alerts',
    secret: true,
  },
  {
    key: 'redisUrl',
    flag: null,
    env: 'REDIS_URL',
    defaultText: '(embedded redis-server)',
    schema: urlWithProtocol(['redis:', 'rediss:'], 'Redis'),
    help: 'external Redis; unset starts a managed redis-server',
    section: 'External services',
    secret: true,
  },
  {
    key: 'databaseUrl',
    flag: null,
    env: 'DATABASE_URL',
    defaultText: '(embedded PGlite)',
    schema: urlWithProtocol(['postgres:', 'postgresql:'], 'PostgreSQL'),
    help: 'external PostgreSQL; unset uses PGlite in the data dir',
    section: 'External services',
    secret: true,
  },
  {
    key: 'databasePreparedStatements',
    flag: null,
    env: 'DATABASE_PREPARED_STATEMENTS',
    default: 'on',
    schema: onOff(),
    help: 'named prepared statements on an external PostgreSQL (off for a pooler in transaction mode that does not keep them, e.g. PgBouncer < 1.21 or without max_prepared_statements; the first statement such a pooler loses turns them off by itself)',
    section: 'External services',
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'LOG_LEVEL',
    default: 'info',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    help: 'fatal, error, warn, info, debug, trace or silent',
    section: 'Server',
  },
] as const satisfies readonly OptionRow[];

type Row = (typeof serveOptions)[number];
export type ServeOptionKey = Row['key'];

/** The rows typed by the fields they share, so any row's `defaultText` or `secret` can be read. */
export const serveOptionRows: readonly (OptionRow & { key: ServeOptionKey })[] = serveOptions;

/** The raw default a row feeds its validator (undefined: the option is unset). */
export function defaultOf(row: OptionRow): string | undefined {
  return typeof row.default === 'function' ? row.default() : row.default;
}

/** The default as help shows it. */
export function defaultTextOf(row: OptionRow): string {
  return typeof row.default === 'string' ? (row.defaultText ?? row.default) : row.defaultText;
}

/** A row without a default may stay unset: its validator is made optional. */
type FieldSchema<R extends Row> = R extends { default: unknown } ? R['schema'] : z.ZodOptional<R['schema']>;
type Shape = { [K in ServeOptionKey]: FieldSchema<Extract<Row, { key: K }>> };

const shape = Object.fromEntries(
  serveOptionRows.map((row) => [row.key, row.default === undefined ? row.schema.optional() : row.schema]),
) as Shape;

/** Every option at once, keyed like the rows: `parse({ port: '3000', … }).port` is a number. */
export const serveOptionsSchema = z.object(shape);
export type ServeOptionValues = z.output<typeof serveOptionsSchema>;
