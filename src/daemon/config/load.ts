import path from 'node:path';
import { tracingEnabled } from '../tracing/mode.ts';
import { defaultOf, type ServeOptionKey, serveOptionRows, serveOptionsSchema } from './options.ts';
import type { ServeConfig } from './types.ts';

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Merges flags, environment and defaults, and validates everything at once. */
export function loadServeConfig(
  flags: Partial<Record<ServeOptionKey, string>>,
  env: NodeJS.ProcessEnv = process.env,
): ServeConfig {
  const raw: Record<string, string | undefined> = {};
  const sources: Record<string, string> = {};
  for (const option of serveOptionRows) {
    const fromFlag = flags[option.key];
    const fromEnv = env[option.env];
    if (fromFlag !== undefined) {
      raw[option.key] = fromFlag;
      sources[option.key] = option.flag?.split(' ')[0] ?? option.key;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      raw[option.key] = fromEnv;
      sources[option.key] = option.env;
    } else {
      raw[option.key] = defaultOf(option);
      sources[option.key] = `default ${option.key}`;
    }
  }
  const parsed = serveOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0]);
        const secret = serveOptionRows.find((option) => option.key === key)?.secret;
        return `${sources[key] ?? key} = ${secret ? '(hidden)' : JSON.stringify(raw[key])}: ${issue.message}`;
      }),
    );
  }
  const value = parsed.data;
  if (value.alertEmail && (!value.smtpUrl || !value.alertEmailTo?.length)) {
    throw new ConfigError([
      `ALERT_EMAIL_ENABLED = ${JSON.stringify(raw.alertEmail)}: needs SMTP_URL (smtp://user:password@host:587) and ALERT_EMAIL_TO (addresses, comma-separated)`,
    ]);
  }
  return {
    host: value.host,
    port: value.port,
    dataDir: path.resolve(value.dataDir),
    apiWorkers: value.apiWorkers,
    queueWorkers: value.queueWorkers,
    shutdownTimeoutMs: Math.round(value.shutdownTimeout * 1000),
    drainDelayMs: Math.round(value.drainDelay * 1000),
    bodyLimitBytes: value.bodyLimit,
    cacheEnabled: value.cache === 'on',
    cacheTtlSeconds: value.cacheTtl,
    compression: {
      enabled: value.compression === 'on',
      brotliLevel: value.brotliLevel,
      gzipLevel: value.gzipLevel,
      thresholdBytes: value.compressionThreshold,
      cacheBytes: value.compressionCache,
    },
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
    alerts: {
      enabled: value.alerts === 'on',
      intervalMs: value.alertInterval * 1000,
      cooldownMs: value.alertCooldown * 1000,
      rules: value.alertRules,
      memoryLimitBytes: value.memoryLimit,
      webhook: value.alertWebhookUrl
        ? { url: value.alertWebhookUrl, format: value.alertWebhookFormat }
        : undefined,
      email:
        value.alertEmail && value.smtpUrl
          ? { smtpUrl: value.smtpUrl, from: value.alertEmailFrom, to: value.alertEmailTo ?? [] }
          : undefined,
      runbookUrl: value.alertRunbookUrl,
    },
    tracing: tracingEnabled(value.tracing, env),
    webDir: value.web === 'off' ? null : path.resolve(value.web),
    trustProxy: value.trustProxy,
    hsts: value.hsts === 'on',
    redisUrl: value.redisUrl,
    databaseUrl: value.databaseUrl,
    preparedStatements: value.databasePreparedStatements === 'on',
    logLevel: value.logLevel,
  };
}
