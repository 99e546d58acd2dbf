import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serveCommand } from '../../src/cli/commands/serve.ts';
import { parseAlertRules } from '../../src/daemon/alerts/ruleSpec.ts';
import { ConfigError, loadServeConfig } from '../../src/daemon/config/load.ts';
import { defaultOf, defaultTextOf, serveOptionRows } from '../../src/daemon/config/options.ts';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadServeConfig', () => {
  it.each([
    ['100b', null],
    ['2048', 2048],
    ['1.5mb', 1.5 * 1024 * 1024],
    ['64KB', 64 * 1024],
  ])('reads the body limit %j', (value, bytes) => {
    if (bytes === null) expect(() => loadServeConfig({ bodyLimit: value }, {})).toThrow(/at least 1kb/);
    else expect(loadServeConfig({ bodyLimit: value }, {}).bodyLimitBytes).toBe(bytes);
  });

  it('refuses rate limits that are not whole numbers of at least 1', () => {
    expect(() =>
      loadServeConfig({}, { RATE_LIMIT_FREE: '0', RATE_LIMIT_WINDOW: 'soon', WUZ_RATE_LIMIT: 'maybe' }),
    ).toThrow(
      /RATE_LIMIT_FREE = "0": must be at least 1[\s\S]*RATE_LIMIT_WINDOW = "soon": must be a whole number|WUZ_RATE_LIMIT/,
    );
  });

  it('refuses a cache mode other than on or off', () => {
    expect(() => loadServeConfig({}, { WUZ_CACHE: 'maybe' })).toThrow(
      /WUZ_CACHE = "maybe": must be on or off/,
    );
  });

  it('lists every bad cache TTL entry', () => {
    expect(() => loadServeConfig({ cacheTtl: 'agents=0,bogus=5,teams' }, {})).toThrow(
      /agents must be 1 to 86400 seconds[\s\S]*unknown entry "bogus=5"[\s\S]*unknown entry "teams"/,
    );
  });

  it('lists every bad compression setting', () => {
    expect(() =>
      loadServeConfig(
        { compression: 'yes', brotliLevel: '12', gzipLevel: '0', compressionThreshold: '2mb' },
        { WUZ_COMPRESSION_CACHE: 'lots' },
      ),
    ).toThrow(
      /--compression = "yes": must be on or off[\s\S]*--brotli-level = "12": must be at most 11[\s\S]*--gzip-level = "0": must be at least 1[\s\S]*--compression-threshold = "2mb": must be at most 1mb[\s\S]*WUZ_COMPRESSION_CACHE = "lots": must be a size/,
    );
  });

  it('lists every bad queue setting', () => {
    expect(() =>
      loadServeConfig(
        { queueConcurrency: 'campaign=0,mail=2', wuzapiUrl: 'ftp://x', jobRetention: 'completed=x' },
        {},
      ),
    ).toThrow(
      /campaign must be 1 to 100[\s\S]*unknown entry "mail=2"[\s\S]*unknown entry "completed=x"[\s\S]*must be a HTTP URL/,
    );
  });

  it('refuses a body limit that is not a size', () => {
    expect(() => loadServeConfig({}, { WUZ_BODY_LIMIT: 'lots' })).toThrow(
      /WUZ_BODY_LIMIT = "lots": must be a size/,
    );
  });

  it('uses the defaults with no flags and an empty environment', () => {
    expect(loadServeConfig({}, {})).toEqual({
      host: '127.0.0.1',
      port: 3000,
      dataDir: path.resolve('./.wuzctl'),
      apiWorkers: Math.max(1, os.availableParallelism()),
      queueWorkers: 1,
      shutdownTimeoutMs: 10_000,
      drainDelayMs: 0,
      bodyLimitBytes: 1024 * 1024,
      cacheEnabled: true,
      cacheTtlSeconds: {
        settings: 300,
        analytics: 120,
        subscription: 300,
        agents: 300,
        teams: 300,
        roles: 600,
      },
      compression: {
        enabled: true,
        brotliLevel: 4,
        gzipLevel: 6,
        thresholdBytes: 1024,
        cacheBytes: 8 * 1024 * 1024,
      },
      rateLimit: {
        enabled: true,
        windowMs: 60_000,
        perPlan: { free: 100, pro: 500, enterprise: 2000 },
        unauthenticated: 30,
      },
      queue: {
        concurrency: { campaign: 5, import: 2, report: 3 },
        tenantCampaigns: 2,
        campaignBurst: 4,
        lockMs: 30_000,
        retention: { completedSeconds: 86_400, failedSeconds: 604_800, count: 10_000 },
        importLimitBytes: 20 * 1024 * 1024,
      },
      wuzapi: { url: 'http://127.0.0.1:8080', timeoutMs: 15_000 },
      metrics: { enabled: true, port: undefined, host: '127.0.0.1', token: undefined },
      webDir: path.resolve(import.meta.dirname, '../../dist/web'),
      trustProxy: false,
      hsts: false,
      alerts: {
        enabled: true,
        intervalMs: 15_000,
        cooldownMs: 300_000,
        rules: parseAlertRules('').rules,
        memoryLimitBytes: undefined,
        webhook: undefined,
        email: undefined,
        runbookUrl: pathToFileURL(path.resolve(import.meta.dirname, '../../docs/RUNBOOK.md')).href,
      },
      tracing: false,
      redisUrl: undefined,
      databaseUrl: undefined,
      preparedStatements: true,
      logLevel: 'info',
    });
  });

  it('reads the environment', () => {
    const config = loadServeConfig(
      {},
      {
        WUZ_HOST: '0.0.0.0',
        WUZ_PORT: '8080',
        WUZ_DATA_DIR: '/var/lib/wuz',
        WUZ_API_WORKERS: '3',
        WUZ_QUEUE_WORKERS: '0',
        WUZ_SHUTDOWN_TIMEOUT: '2.5',
        WUZ_BODY_LIMIT: '512kb',
        WUZ_CACHE: 'off',
        WUZ_CACHE_TTL: 'agents=60, roles=5',
        WUZ_RATE_LIMIT: 'off',
        RATE_LIMIT_WINDOW: '10',
        RATE_LIMIT_FREE: '5',
        RATE_LIMIT_PRO: '50',
        RATE_LIMIT_ENTERPRISE: '500',
        RATE_LIMIT_UNAUTHENTICATED: '3',
        WUZ_QUEUE_CONCURRENCY: 'import=1',
        WUZ_TENANT_CAMPAIGNS: '3',
        WUZ_CAMPAIGN_BURST: '8',
        WUZ_JOB_LOCK: '5',
        WUZ_JOB_RETENTION: 'completed=60,count=100',
        WUZ_IMPORT_LIMIT: '1mb',
        WUZAPI_URL: 'https://wuzapi.example.com/',
        WUZAPI_TIMEOUT: '3',
        REDIS_URL: 'redis://127.0.0.1:6379/2',
        DATABASE_URL: 'postgresql://u:p@db:5432/app',
        DATABASE_PREPARED_STATEMENTS: 'off',
        LOG_LEVEL: 'debug',
        WUZ_TRUST_PROXY: 'loopback, 10.0.0.0/8',
        WUZ_HSTS: 'on',
        WUZ_METRICS: 'off',
        WUZ_METRICS_PORT: '9464',
        WUZ_METRICS_HOST: '0.0.0.0',
        METRICS_TOKEN: 'a-token-of-sixteen+',
        WUZ_WEB: 'off',
        WUZ_COMPRESSION: 'off',
        WUZ_BROTLI_LEVEL: '9',
        WUZ_GZIP_LEVEL: '1',
        WUZ_COMPRESSION_THRESHOLD: '0',
        WUZ_COMPRESSION_CACHE: '0',
        WUZ_ALERTS: 'off',
        WUZ_ALERT_INTERVAL: '5',
        WUZ_ALERT_COOLDOWN: '60',
        WUZ_ALERT_RULES: 'HighErrorRate.threshold=0.05,*.for=30s',
        WUZ_MEMORY_LIMIT: '2gb',
        ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B2/secret',
        ALERT_EMAIL_ENABLED: 'true',
        SMTP_URL: 'smtp://u:p@mail.example.com:587',
        ALERT_EMAIL_TO: 'a@example.com, b@example.com',
        ALERT_EMAIL_FROM: 'wuz@example.com',
        WUZ_ALERT_RUNBOOK_URL: 'https://wiki.example.com/runbook',
      },
    );
    const rules = parseAlertRules('HighErrorRate.threshold=0.05,*.for=30s').rules;
    expect(rules.HighErrorRate).toMatchObject({ threshold: 0.05, forMs: 30_000 });
    expect(config).toEqual({
      host: '0.0.0.0',
      port: 8080,
      dataDir: '/var/lib/wuz',
      apiWorkers: 3,
      queueWorkers: 0,
      shutdownTimeoutMs: 2500,
      drainDelayMs: 0,
      bodyLimitBytes: 512 * 1024,
      cacheEnabled: false,
      cacheTtlSeconds: { settings: 300, analytics: 120, subscription: 300, agents: 60, teams: 300, roles: 5 },
      compression: { enabled: false, brotliLevel: 9, gzipLevel: 1, thresholdBytes: 0, cacheBytes: 0 },
      rateLimit: {
        enabled: false,
        windowMs: 10_000,
        perPlan: { free: 5, pro: 50, enterprise: 500 },
        unauthenticated: 3,
      },
      queue: {
        concurrency: { campaign: 5, import: 1, report: 3 },
        tenantCampaigns: 3,
        campaignBurst: 8,
        lockMs: 5000,
        retention: { completedSeconds: 60, failedSeconds: 604_800, count: 100 },
        importLimitBytes: 1024 * 1024,
      },
      wuzapi: { url: 'https://wuzapi.example.com', timeoutMs: 3000 },
      metrics: { enabled: false, port: 9464, host: '0.0.0.0', token: 'a-token-of-sixteen+' },
      webDir: null,
      trustProxy: ['loopback', '10.0.0.0/8'],
      hsts: true,
      alerts: {
        enabled: false,
        intervalMs: 5000,
        cooldownMs: 60_000,
        rules,
        memoryLimitBytes: 2 * 1024 ** 3,
        webhook: { url: 'https://hooks.slack.com/services/T1/B2/secret', format: 'auto' },
        email: {
          smtpUrl: 'smtp://u:p@mail.example.com:587',
          from: 'wuz@example.com',
          to: ['a@example.com', 'b@example.com'],
        },
        runbookUrl: 'https://wiki.example.com/runbook',
      },
      tracing: false,
      redisUrl: 'redis://127.0.0.1:6379/2',
      databaseUrl: 'postgresql://u:p@db:5432/app',
      preparedStatements: false,
      logLevel: 'debug',
    });
  });

  it('refuses alert settings that could not deliver, and never echoes a webhook URL', () => {
    expect(problemsOf(() => loadServeConfig({}, { ALERT_EMAIL_ENABLED: 'true' }))[0]).toMatch(
      /ALERT_EMAIL_ENABLED = "true": needs SMTP_URL .* and ALERT_EMAIL_TO/,
    );
    const webhook = problemsOf(() =>
      loadServeConfig({}, { ALERT_WEBHOOK_URL: 'https://user:hunter2@hooks.example.com/x' }),
    );
    expect(webhook).toHaveLength(1);
    expect(webhook[0]).toMatch(/^ALERT_WEBHOOK_URL = \(hidden\): .*credentials/);
    expect(webhook[0]).not.toContain('hunter2');
    expect(problemsOf(() => loadServeConfig({}, { ALERT_WEBHOOK_URL: 'ftp://x.example.com/' }))[0]).toMatch(
      /http/,
    );
    expect(problemsOf(() => loadServeConfig({}, { WUZ_ALERT_RULES: 'Nope.for=1m' }))[0]).toMatch(
      /WUZ_ALERT_RULES = "Nope.for=1m": unknown rule "Nope"/,
    );
    expect(problemsOf(() => loadServeConfig({}, { ALERT_EMAIL_TO: 'not an address' }))[0]).toMatch(
      /not an e-mail address/,
    );
  });

  it('prefers flags over the environment', () => {
    const config = loadServeConfig(
      {
        host: '::1',
        port: '0',
        dataDir: 'rel/dir',
        apiWorkers: '2',
        queueWorkers: '4',
        shutdownTimeout: '30',
        logLevel: 'warn',
      },
      {
        WUZ_HOST: '0.0.0.0',
        WUZ_PORT: '8080',
        WUZ_DATA_DIR: '/var/lib/wuz',
        WUZ_API_WORKERS: '3',
        WUZ_QUEUE_WORKERS: '1',
        WUZ_SHUTDOWN_TIMEOUT: '5',
        LOG_LEVEL: 'debug',
        WUZ_TRUST_PROXY: 'loopback, 10.0.0.0/8',
        WUZ_HSTS: 'on',
        WUZ_METRICS: 'off',
        WUZ_METRICS_PORT: '9464',
        WUZ_METRICS_HOST: '0.0.0.0',
        METRICS_TOKEN: 'a-token-of-sixteen+',
        WUZ_WEB: 'off',
      },
    );
    expect(config).toMatchObject({
      host: '::1',
      port: 0,
      dataDir: path.resolve('rel/dir'),
      apiWorkers: 2,
      queueWorkers: 4,
      shutdownTimeoutMs: 30_000,
      logLevel: 'warn',
    });
  });

  it('treats an empty environment variable as unset', () => {
    expect(loadServeConfig({}, { WUZ_PORT: '', REDIS_URL: '' })).toMatchObject({
      port: 3000,
      redisUrl: undefined,
    });
  });

  it('does not take a bad environment value when a flag overrides it', () => {
    expect(loadServeConfig({ port: '4000' }, { WUZ_PORT: 'abc' }).port).toBe(4000);
  });

  it('accepts the bounds and rejects just past them', () => {
    expect(
      loadServeConfig({ port: '65535', apiWorkers: '64', queueWorkers: '64', shutdownTimeout: '600' }, {}),
    ).toMatchObject({ port: 65535, apiWorkers: 64, queueWorkers: 64, shutdownTimeoutMs: 600_000 });
    expect(problemsOf(() => loadServeConfig({ port: '65536' }, {}))).toEqual([
      '--port = "65536": must be at most 65535',
    ]);
    expect(problemsOf(() => loadServeConfig({ apiWorkers: '65' }, {}))).toEqual([
      '--api-workers = "65": must be at most 64',
    ]);
    expect(problemsOf(() => loadServeConfig({ shutdownTimeout: '0' }, {}))).toEqual([
      '--shutdown-timeout = "0": must be above 0',
    ]);
    expect(problemsOf(() => loadServeConfig({ shutdownTimeout: '601' }, {}))).toEqual([
      '--shutdown-timeout = "601": must be at most 600',
    ]);
  });

  it('collects every problem in one ConfigError, naming where each value came from', () => {
    const problems = problemsOf(() =>
      loadServeConfig(
        { port: 'abc', apiWorkers: '0' },
        { WUZ_SHUTDOWN_TIMEOUT: '-1', REDIS_URL: 'http://user:pw@x' },
      ),
    );
    expect(problems).toHaveLength(4);
    expect(problems).toContain('--port = "abc": must be a whole number');
    expect(problems).toContain('--api-workers = "0": must be at least 1');
    expect(problems).toContain('WUZ_SHUTDOWN_TIMEOUT = "-1": must be a number of seconds');
    expect(problems.find((p) => p.startsWith('REDIS_URL = (hidden): must be a Redis URL'))).toBeDefined();
    expect(problems.join('\n')).not.toContain('pw@x');
  });

  it('formats the message with one line per problem', () => {
    const error = (() => {
      try {
        loadServeConfig({ port: 'x', queueWorkers: '-1' }, {});
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toBe(
      'invalid configuration:\n  - --port = "x": must be a whole number\n  - --queue-workers = "-1": must be a whole number',
    );
  });

  it('accepts rediss:// and postgres:// and rejects other protocols, hiding the value', () => {
    expect(
      loadServeConfig({}, { REDIS_URL: 'rediss://h:6380', DATABASE_URL: 'postgres://h/db' }),
    ).toMatchObject({
      redisUrl: 'rediss://h:6380',
      databaseUrl: 'postgres://h/db',
    });
    const problems = problemsOf(() => loadServeConfig({}, { DATABASE_URL: 'mysql://root:secret@h/db' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DATABASE_URL = \(hidden\): must be a PostgreSQL URL/);
    expect(problems[0]).not.toContain('secret');
  });

  it('takes DATABASE_PREPARED_STATEMENTS on or off, and says so of anything else', () => {
    expect(loadServeConfig({}, { DATABASE_PREPARED_STATEMENTS: 'off' }).preparedStatements).toBe(false);
    expect(problemsOf(() => loadServeConfig({}, { DATABASE_PREPARED_STATEMENTS: 'maybe' }))).toEqual([
      'DATABASE_PREPARED_STATEMENTS = "maybe": must be on or off',
    ]);
  });

  it('refuses an empty --web folder', () => {
    expect(problemsOf(() => loadServeConfig({ web: '' }, {}))).toEqual(['--web = "": must not be empty']);
  });

  it('rejects an unknown log level and an empty host', () => {
    const problems = problemsOf(() => loadServeConfig({ logLevel: 'loud', host: '' }, {}));
    expect(problems).toHaveLength(2);
    expect(problems.some((p) => p.startsWith('--log-level = "loud": '))).toBe(true);
    expect(problems).toContain('--host = "": must not be empty');
  });

  it('refuses a short METRICS_TOKEN without echoing it, and a bad metrics mode or port', () => {
    const problems = problemsOf(() =>
      loadServeConfig({ metrics: 'maybe', metricsPort: '70000' }, { METRICS_TOKEN: 'short-secret' }),
    );
    expect(problems).toHaveLength(3);
    expect(problems).toContain('METRICS_TOKEN = (hidden): must be at least 16 characters');
    expect(problems.join('\n')).not.toContain('short-secret');
    expect(problems.some((p) => p.startsWith('--metrics = "maybe": must be on or off'))).toBe(true);
    expect(problems.some((p) => p.startsWith('--metrics-port = "70000": must be at most 65535'))).toBe(true);
  });

  it('reads --trust-proxy as off, a hop count or addresses, and refuses what would let clients pick an address', () => {
    expect(loadServeConfig({ trustProxy: 'off' }, {}).trustProxy).toBe(false);
    expect(loadServeConfig({ trustProxy: '2' }, {}).trustProxy).toBe(2);
    expect(loadServeConfig({}, { WUZ_TRUST_PROXY: '127.0.0.1,::1' }).trustProxy).toEqual([
      '127.0.0.1',
      '::1',
    ]);
    for (const [value, reason] of [
      ['true', /give a hop count or the proxy addresses/],
      ['all', /give a hop count or the proxy addresses/],
      ['0', /hop count must be 1 to 10/],
      ['10.0.0.0/99', /invalid/i],
      ['proxy.example.com', /invalid IP address/],
    ] as const) {
      expect(() => loadServeConfig({ trustProxy: value }, {}), value).toThrow(reason);
    }
  });
});

describe('serveOptions', () => {
  it('gives every row a validator, a docs section and its own key, flag and variable', () => {
    for (const option of serveOptionRows) {
      expect(option.schema, option.key).toBeInstanceOf(z.ZodType);
      expect(option.section, option.key).toMatch(/\S/);
    }
    const unique = (values: unknown[]) => new Set(values).size === values.length;
    expect(unique(serveOptionRows.map((option) => option.key))).toBe(true);
    expect(unique(serveOptionRows.map((option) => option.env))).toBe(true);
    expect(
      unique(serveOptionRows.flatMap((option) => (option.flag ? [option.flag.split(' ')[0]] : []))),
    ).toBe(true);
  });

  it("parses each row's default with its own validator", () => {
    const failing = serveOptionRows.flatMap((option) => {
      const value = defaultOf(option);
      return value !== undefined && !option.schema.safeParse(value).success
        ? [`${option.key} = ${value}`]
        : [];
    });
    expect(failing).toEqual([]);
  });

  it('names every variable without a flag after `serve --help`', () => {
    let text = '';
    const command = serveCommand().configureOutput({
      writeOut: (chunk) => {
        text += chunk;
      },
    });
    command.outputHelp();
    const footer = text.slice(text.indexOf('Read from the environment only:'));
    const unnamed = serveOptionRows.filter((option) => !option.flag && !footer.includes(option.env));
    expect(unnamed.map((option) => option.env)).toEqual([]);
    expect(footer).toContain('DATABASE_PREPARED_STATEMENTS');
  });

  it('lists every flag option, its variable and its default in `serve --help`', () => {
    const help = serveCommand().helpInformation().replace(/\s+/g, ' ');
    for (const option of serveOptionRows) {
      if (!option.flag) continue;
      expect(help).toContain(` ${option.flag} `);
      expect(help).toContain(`[${option.env}, default ${defaultTextOf(option)}]`);
    }
  });
});
