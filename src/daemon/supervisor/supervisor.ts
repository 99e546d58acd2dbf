import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { version } from '../../paths.ts';
import { channelsFromConfig } from '../alerts/channels/fromConfig.ts';
import { httpAndMemory, type Sample } from '../alerts/figures.ts';
import { AlertLoop, type AlertsSummary } from '../alerts/loop.ts';
import { forgetAllTokens, forgetTokens } from '../auth/authCache.ts';
import { type CacheSummary, summarizeCache } from '../cache/summary.ts';
import { dataPaths } from '../config/dataPaths.ts';
import type { ServeConfig } from '../config/types.ts';
import { migrate } from '../db/migrate.ts';
import { connectDatabase, databaseAddress, databaseHealthy } from '../db/pool.ts';
import type { ChildConfig, ChildRole } from '../ipc.ts';
import type { Logger } from '../logger.ts';
import { type IdleCollector, startIdleCollector } from '../memory/idleCollector.ts';
import type { Queues } from '../queues/index.ts';
import { type RateLimitStats, summarizeRateLimit } from '../ratelimit/store.ts';
import { dataDirCredential } from '../security/credentials.ts';
import { type Keyring, KeyringError, keyringToText, loadKeyring } from '../security/keyring.ts';
import { preparePrivateDir } from '../security/privateFiles.ts';
import { resealSecrets } from '../security/reseal.ts';
import { SecretBox } from '../security/secretBox.ts';
import type { EmbeddedPostgres } from '../services/embeddedPostgres.ts';
import { probeListen } from '../services/freePort.ts';
import { connectRedis, redisHealthy, safeAddress } from '../services/redis.ts';
import { RedisNotInstalledError } from '../services/redisErrors.ts';
import type { ManagedRedis } from '../services/redisServer.ts';
import { ClusterMetrics, type Exposition } from '../telemetry/clusterMetrics.ts';
import { processMetrics } from '../telemetry/metrics.ts';
import { startMetricsServer } from '../telemetry/metricsServer.ts';
import { memoryLimitBytes, registerSupervisorGauges } from '../telemetry/supervisorGauges.ts';
import { flushTracing } from '../tracing/runtime.ts';
import { ChildSlot, type ChildStatus } from './children.ts';
import { startControlServer } from './controlServer.ts';
import type { DaemonLog } from './daemonLog.ts';
import { acquirePidLock } from './pidLock.ts';
import { Rollout, type RolloutMetrics, type RolloutStatus, registerRolloutMetrics } from './rollout.ts';
import {
  cacheFigures,
  counterBy,
  type DaemonSnapshot,
  queueFigures,
  routeFigures,
  runningCampaigns,
} from './snapshot.ts';

/** A reload that cannot start now (one is running, the daemon is not ready). */
export class RolloutRefused extends Error {}

/** A startup failure with the exit code and message the CLI shows. */
export class StartupError extends Error {
  readonly exitCode: number;
  readonly hint?: string;

  constructor(message: string, exitCode = 1, hint?: string) {
    super(message);
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

export interface DaemonStatus {
  pid: number;
  rssBytes: number;
  version: string;
  state: Supervisor['state'];
  startedAt: string;
  uptimeSeconds: number;
  url: string;
  /** Where Prometheus scrapes: the supervisor's --metrics-port listener or the API port; null when metrics are off. */
  metricsUrl: string | null;
  dataDir: string;
  redis: {
    mode: 'embedded' | 'external';
    address: string;
    pid: number | null;
    healthy: boolean;
    error: string | null;
  };
  database: {
    mode: 'embedded' | 'external';
    address: string;
    healthy: boolean;
    error: string | null;
    runs: number | null;
  };
  /** One row per process: a slot's, plus one starting or draining while a rollout replaces it. */
  children: ChildStatus[];
  /** The rollout in progress, else the last one; null before any `wuzctl reload`. */
  rollout: RolloutStatus | null;
  /** Cache counters summed over the API workers (since each worker started). */
  cache: CacheSummary;
  /** Rate limiter counters summed over the API workers. */
  rateLimit: RateLimitStats;
  /** The alert loop: rules, states, channels; null with --alerts off. */
  alerts: AlertsSummary | null;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * The primary process: owns the embedded services, runs migrations, forks and watches
 * the children, serves the control socket and stops everything in order.
 */
export class Supervisor {
  state: 'starting' | 'ready' | 'stopping' = 'starting';
  port: number;
  private readonly paths;
  private readonly startedAt = Date.now();
  private slots: ChildSlot[] = [];
  private managedRedis?: ManagedRedis;
  private embeddedPostgres?: EmbeddedPostgres;
  private redisUrl = '';
  private databaseUrl = '';
  private redis?: Redis;
  private pool?: pg.Pool;
  private control?: http.Server;
  private queues?: Queues;
  private metricsServer?: http.Server;
  private metricsPort?: number;
  private readonly clusterMetrics: ClusterMetrics;
  private readonly own;
  alerts?: AlertLoop;
  private memoryLimit = 0;
  private rollout?: Rollout;
  private rollouts = 0;
  private readonly rolloutMetrics: RolloutMetrics;
  private releaseLock?: () => Promise<void>;
  /** Gives back the JavaScript heap a burst of load grew (PGlite's WebAssembly memory cannot shrink). */
  private idleCollector?: IdleCollector;
  private keyring?: Keyring;
  private restartingRedis = false;
  private stopping?: Promise<void>;
  private startupFailure?: (error: Error) => void;

  private readonly config: ServeConfig;
  private readonly log: Logger;

  private readonly daemonLog: DaemonLog;

  constructor(config: ServeConfig, log: Logger, daemonLog: DaemonLog) {
    this.config = config;
    this.log = log;
    this.daemonLog = daemonLog;
    this.servicesUp.promise.catch(() => {}); // a failed start is reported by start()
    this.paths = dataPaths(config.dataDir);
    this.port = config.port;
    const own = processMetrics('supervisor').registry;
    this.own = own;
    registerSupervisorGauges(
      own,
      () => ({
        redis: this.redis,
        pool: this.pool,
        queues: this.queues && Object.values(this.queues),
      }),
      () => this.memoryLimitBytes(),
    );
    this.clusterMetrics = new ClusterMetrics(own);
    this.rolloutMetrics = registerRolloutMetrics(own);
  }

  get url(): string {
    return httpUrl(this.config.host, this.port);
  }

  get metricsUrl(): string | null {
    const { metrics } = this.config;
    if (!metrics.enabled) return null;
    if (metrics.port === undefined) return `${this.url}/metrics`;
    return `${httpUrl(metrics.host, this.metricsPort ?? metrics.port)}/metrics`;
  }

  /** Every process's metrics summed: what any scrape, on any port or worker, returns. */
  async renderMetrics(): Promise<Exposition> {
    const snapshots = (await Promise.all(this.slots.map((slot) => slot.metrics()))).flat();
    return this.clusterMetrics.render(snapshots);
  }

  /** Settles when Redis and the database are up (or could not be): children then get their configuration. */
  private readonly servicesUp = Promise.withResolvers<void>();

  /** How long each start-up phase took (ms), logged with "ready" and shown by the bench. */
  readonly startupPhases: Record<string, number> = {};

  private async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const began = performance.now();
    try {
      return await work();
    } finally {
      this.startupPhases[name] = Math.round(performance.now() - began);
    }
  }

  async start(): Promise<void> {
    try {
      await this.startServices().then(
        () => this.servicesUp.resolve(),
        (error: unknown) => {
          this.servicesUp.reject(error);
          throw error;
        },
      );
      await this.phase('children', () => this.childrenReady());
      await this.phase('metrics', () => this.startMetricsServer());
      this.startAlerts();
      this.idleCollector = startIdleCollector({ log: this.log });
      this.state = 'ready';
    } catch (error) {
      await this.stop('startup failed');
      throw error;
    }
  }

  private async startServices(): Promise<void> {
    const { config } = this;
    // A new data dir is created only once the ports are known to be free: a refused start
    // leaves nothing behind. An existing one is locked first, so that a second `serve` on
    // it says "already running" rather than "port in use".
    const fresh = !existsSync(config.dataDir);
    if (fresh) await this.probePorts();
    // Private before anything is written: dirs 0700, files 0600 (also what an older version left).
    await preparePrivateDir(config.dataDir);
    this.releaseLock = await acquirePidLock(this.paths.pidFile);
    this.daemonLog.openFile(this.paths.log);
    this.keyring = await loadKeyring(config.dataDir).catch((error: Error) => {
      throw error instanceof KeyringError ? new StartupError(error.message, 2) : error;
    });
    if (!fresh) await this.probePorts();

    // The embedded services' code (PGlite, execa for redis-server) and BullMQ are imported
    // where they are used, not with this module: ~0.4 s of CPU that would otherwise come
    // before the fork, on one core, while the other idles; now it overlaps the children's
    // imports, and with REDIS_URL and DATABASE_URL PGlite and execa are never loaded.
    // Redis and the database do not need each other: they start side by side (PGlite's
    // start is CPU in this process, redis-server's is another process). Both are awaited
    // before a failure is reported, so stop() never races a service still starting.
    this.forkChildren();
    const started = await Promise.allSettled([this.startRedis(), this.startDatabase()]);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;

    this.control = await startControlServer(this.paths.socket, {
      status: () => this.status(),
      snapshot: () => this.snapshot(),
      database: () => ({ url: this.databaseUrl, keyring: keyringToText(this.keyring as Keyring) }),
      redis: () => ({ url: this.redisUrl }),
      forgetTokens: async (prefixes) => {
        if (this.redis) await forgetTokens(this.redis, prefixes);
      },
      stop: () => void this.stop('control API'),
      alerts: () => this.alerts,
      reload: (trigger) => this.reload(trigger),
      rollout: () => this.rollout?.status ?? null,
    });
  }

  private async startRedis(): Promise<void> {
    const { config, log } = this;
    if (config.redisUrl) {
      this.redisUrl = config.redisUrl;
    } else {
      const [password, { ManagedRedis }] = await Promise.all([
        dataDirCredential(config.dataDir, 'redis.password'),
        import('../services/redisServer.ts'),
      ]);
      this.managedRedis = new ManagedRedis(this.paths.redisDir, password, log, (reason) =>
        this.onRedisExit(reason),
      );
      await this.phase('redis', () =>
        (this.managedRedis as ManagedRedis).start().catch((error: Error) => {
          throw error instanceof RedisNotInstalledError ? error : new StartupError(error.message);
        }),
      );
      this.redisUrl = this.managedRedis.url;
    }
    this.redis = await connectRedis(this.redisUrl).catch((error: Error) => {
      throw new StartupError(
        `${error.message}\n  Check REDIS_URL, or unset it to use the embedded redis-server.`,
      );
    });
    await this.warnOnEvictionPolicy(this.redis);
    // Read-only here: the supervisor reports queue depths for /metrics.
    const { openQueues } = await import('../queues/open.ts');
    this.queues = openQueues(this.redis, config.queue.retention);
    for (const queue of Object.values(this.queues)) {
      queue.on('error', (error) => log.debug({ err: error, queue: queue.name }, 'queue error'));
    }
    // Tokens revoked while no daemon ran (the CLI opened the database itself) may still sit
    // in a persisted auth cache: start with an empty one.
    await forgetAllTokens(this.redis).catch((error) =>
      log.warn({ err: error }, 'could not clear the auth cache'),
    );
  }

  private async startDatabase(): Promise<void> {
    const { config, log } = this;
    if (config.databaseUrl) {
      this.databaseUrl = config.databaseUrl;
    } else {
      const [password, { EmbeddedPostgres }] = await Promise.all([
        dataDirCredential(config.dataDir, 'database.password'),
        import('../services/embeddedPostgres.ts'),
      ]);
      this.embeddedPostgres = new EmbeddedPostgres(this.paths.pgDir, password, log);
      await this.phase('database', () =>
        (this.embeddedPostgres as EmbeddedPostgres).start().catch((error: Error) => {
          throw new StartupError(error.message);
        }),
      );
      this.databaseUrl = this.embeddedPostgres.url;
    }
    this.pool = await connectDatabase(this.databaseUrl).catch((error: Error) => {
      throw new StartupError(
        `${error.message}\n  Check DATABASE_URL, or unset it to use the embedded PGlite.`,
      );
    });
    const pool = this.pool;
    const applied = await this.phase('migrations', () =>
      migrate(pool).catch((error: Error) => {
        throw new StartupError(error.message);
      }),
    );
    if (applied.length > 0) log.info({ applied }, 'database migrations applied');
    await resealSecrets(this.pool, new SecretBox(this.keyring as Keyring), log);
    await this.pool.query('INSERT INTO daemon_runs (version, hostname, pid) VALUES ($1, $2, $3)', [
      version,
      os.hostname(),
      process.pid,
    ]);
  }

  private async probePorts(): Promise<void> {
    const { config } = this;
    if (config.port !== 0) {
      const code = await probeListen(config.host, config.port);
      if (code) throw listenFailure('', config.host, config.port, code);
    }
    const { metrics } = config;
    if (metrics.enabled && metrics.port) {
      const code = await probeListen(metrics.host, metrics.port);
      if (code) throw listenFailure('metrics ', metrics.host, metrics.port, code);
    }
  }

  private async warnOnEvictionPolicy(redis: Redis): Promise<void> {
    const reply = (await redis.config('GET', 'maxmemory-policy').catch(() => null)) as string[] | null;
    const policy = reply?.[1];
    if (policy && policy !== 'noeviction') {
      this.log.warn({ policy }, 'Redis maxmemory-policy is not noeviction: queue job locks can be evicted');
    }
  }

  private childConfig(role: ChildRole): ChildConfig {
    return {
      role,
      dataDir: this.config.dataDir,
      host: this.config.host,
      // As configured, 0 included: the cluster primary shares one listening handle per
      // (host, port as asked), so a worker of a later generation asking for 0 gets the same
      // socket, where asking for the port it was given would try to bind it a second time.
      port: this.config.port,
      redisUrl: this.redisUrl,
      databaseUrl: this.databaseUrl,
      // The embedded PGlite has no pooler in front, and planning is most of its work.
      namedStatements: Boolean(this.embeddedPostgres) || this.config.preparedStatements,
      shutdownTimeoutMs: this.config.shutdownTimeoutMs,
      bodyLimitBytes: this.config.bodyLimitBytes,
      cacheEnabled: this.config.cacheEnabled,
      cacheTtlSeconds: this.config.cacheTtlSeconds,
      compression: this.config.compression,
      rateLimit: this.config.rateLimit,
      queue: this.config.queue,
      wuzapi: this.config.wuzapi,
      webDir: this.config.webDir,
      keyring: keyringToText(this.keyring as Keyring),
      trustProxy: this.config.trustProxy,
      hsts: this.config.hsts,
      metrics: {
        enabled: this.config.metrics.enabled,
        onApiPort: this.config.metrics.enabled && this.config.metrics.port === undefined,
        token: this.config.metrics.token,
      },
    };
  }

  private async startMetricsServer(): Promise<void> {
    const { metrics } = this.config;
    if (!metrics.enabled || metrics.port === undefined) return;
    this.metricsServer = await startMetricsServer(
      metrics.host,
      metrics.port,
      metrics.token,
      () => this.renderMetrics(),
      this.config.trustProxy,
      this.config.compression,
    ).catch((error: NodeJS.ErrnoException) => {
      throw listenFailure('metrics ', metrics.host, metrics.port as number, error.code ?? error.message);
    });
    const address = this.metricsServer.address();
    this.metricsPort = typeof address === 'object' && address ? address.port : metrics.port;
  }

  /**
   * Forks every child. Called while the services are still starting: a child's imports
   * are most of its start-up, and they overlap with Redis' and PGlite's. Each child waits
   * for its configuration (servicesUp) before it connects to anything.
   */
  private forkChildren(): void {
    const spawn = (role: ChildRole, index: number) => {
      const slot = new ChildSlot({
        role,
        index,
        dataDir: this.config.dataDir,
        logLevel: this.config.logLevel,
        tracing: this.config.tracing,
        configure: () => this.servicesUp.promise.then(() => this.childConfig(role)),
        log: this.log,
        hooks: {
          scrape: () => this.renderMetrics(),
          retire: (snapshot) =>
            void this.clusterMetrics
              .retire(snapshot)
              .catch((error) =>
                this.log.warn({ err: error }, 'could not keep the metrics of a stopped child'),
              ),
        },
        output: this.daemonLog,
      });
      this.slots.push(slot);
      slot.start();
    };
    for (let i = 1; i <= this.config.apiWorkers; i++) spawn('api', i);
    for (let i = 1; i <= this.config.queueWorkers; i++) spawn('queue', i);
  }

  /** Waits until every first process is ready (they got their configuration once the services were up). */
  private async childrenReady(): Promise<void> {
    // All workers listen with the configured port; with --port 0 the cluster primary binds
    // one random port for the first and hands the same socket to the rest.
    const startup = Promise.all(this.slots.map((slot) => slot.firstReady)).then(([port]) => {
      if (this.port === 0 && port) this.port = port;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StartupError(`children not ready within ${READY_TIMEOUT_MS / 1000} s; see the log`)),
        READY_TIMEOUT_MS,
      );
    });
    const interrupted = new Promise<never>((_, reject) => {
      this.startupFailure = reject;
    });
    try {
      await Promise.race([startup, timeout, interrupted]).catch((error: Error) => {
        const message = /EADDRINUSE/.test(error.message)
          ? `port ${this.port} on ${this.config.host} is already in use`
          : error.message;
        throw error instanceof StartupError ? error : new StartupError(message);
      });
    } finally {
      clearTimeout(timer);
      this.startupFailure = undefined;
    }
  }

  private onRedisExit(reason: string): void {
    // A failed restart attempt exits too; the loop below already retries it.
    if (this.state === 'stopping' || this.restartingRedis) return;
    this.log.error({ reason }, 'managed redis-server died; restarting it');
    const redis = this.managedRedis;
    if (!redis) return;
    this.restartingRedis = true;
    const restart = async (attempt: number): Promise<void> => {
      if (this.state === 'stopping') return;
      try {
        await redis.start();
        this.restartingRedis = false;
        this.log.info({ pid: redis.pid }, 'managed redis-server is back');
      } catch (error) {
        const delay = Math.min(15_000, 500 * 2 ** attempt);
        this.log.error({ err: error, retryInMs: delay }, 'managed redis-server restart failed');
        setTimeout(() => void restart(attempt + 1), delay).unref();
      }
    };
    void restart(0);
  }

  /**
   * Starts a rolling reload (rollout.ts) and returns at once with its status; the caller
   * follows it in `status().rollout`. One at a time; only a ready daemon reloads.
   */
  reload(trigger: string): RolloutStatus {
    if (this.rollout?.running) {
      throw new RolloutRefused(
        `rollout ${this.rollout.status.id} is in progress (started ${this.rollout.status.startedAt}): one at a time`,
      );
    }
    if (this.state !== 'ready') throw new RolloutRefused(`the daemon is ${this.state}: nothing to reload`);
    const pool = this.pool as pg.Pool;
    const rollout = new Rollout({
      id: ++this.rollouts,
      trigger,
      slots: this.slots,
      timing: {
        readyTimeoutMs: READY_TIMEOUT_MS,
        stabilizeMs: 1000,
        drainDeadlineMs: this.config.shutdownTimeoutMs,
      },
      log: this.log,
      metrics: this.rolloutMetrics,
      migrate: () => migrate(pool),
    });
    this.rollout = rollout;
    void rollout.run();
    return rollout.status;
  }

  /** The limit the memory alert measures against: the setting, else the cgroup's or the machine's. */
  private async memoryLimitBytes(): Promise<number> {
    this.memoryLimit ||= this.config.alerts.memoryLimitBytes ?? (await memoryLimitBytes());
    return this.memoryLimit;
  }

  private startAlerts(): void {
    const { alerts } = this.config;
    if (!alerts.enabled) return;
    this.alerts = new AlertLoop({
      rules: alerts.rules,
      intervalMs: alerts.intervalMs,
      cooldownMs: alerts.cooldownMs,
      channels: channelsFromConfig(alerts),
      instance: `${os.hostname()} ${this.url}`,
      instanceId: `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      runbookUrl: alerts.runbookUrl,
      redis: () => this.redis,
      sample: () => this.alertSample(),
      log: this.log.child({ component: 'alerts' }),
      registry: this.own,
    });
    this.alerts.start();
  }

  /** The cluster's figures for the alert loop: every process's HTTP counters and memory, and service health. */
  private async alertSample(): Promise<Omit<Sample, 'at'>> {
    const [snapshots, redisError, databaseError, limit] = await Promise.all([
      Promise.all(this.slots.map((slot) => slot.metrics())).then((all) => all.flat()),
      this.redis ? redisHealthy(this.redis) : Promise.resolve('not connected'),
      this.pool ? databaseHealthy(this.pool) : Promise.resolve('not connected'),
      this.memoryLimitBytes(),
    ]);
    const figures = httpAndMemory(await this.clusterMetrics.childrenSnapshot(snapshots));
    return {
      ...figures,
      rssBytes: figures.rssBytes + process.memoryUsage().rss,
      memoryLimitBytes: limit,
      redisUp: redisError === null,
      databaseUp: databaseError === null,
    };
  }

  /** Where alerts go, for the banner: "discord webhook at discord.com, e-mail to …", or why nowhere. */
  describeAlerts(): string {
    if (!this.alerts) return 'off';
    const channels = this.alerts.summary().channels;
    return channels.length ? channels.join(', ') : 'log only (set ALERT_WEBHOOK_URL or ALERT_EMAIL_ENABLED)';
  }

  /** One line each for Redis and the database, for the start-up banner. */
  describe(): { redis: string; database: string } {
    return {
      redis: this.managedRedis
        ? `embedded redis-server ${this.managedRedis.version} at ${safeAddress(this.redisUrl)}`
        : `external at ${safeAddress(this.redisUrl)}`,
      database: this.embeddedPostgres
        ? `embedded PGlite at ${databaseAddress(this.databaseUrl)}`
        : `external PostgreSQL at ${databaseAddress(this.databaseUrl)}`,
    };
  }

  async status(): Promise<DaemonStatus> {
    const [redisError, databaseError, children] = await Promise.all([
      this.redis ? redisHealthy(this.redis) : Promise.resolve('not connected'),
      this.pool ? databaseHealthy(this.pool) : Promise.resolve('not connected'),
      Promise.all(this.slots.map((slot) => slot.status())).then((rows) => rows.flat()),
    ]);
    const runs = databaseError
      ? null
      : Number(
          (await this.pool?.query('SELECT count(*) AS n FROM daemon_runs').catch(() => null))?.rows[0]?.n ??
            NaN,
        );
    return {
      pid: process.pid,
      rssBytes: process.memoryUsage().rss,
      version,
      state: this.state,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      url: this.url,
      metricsUrl: this.metricsUrl,
      dataDir: this.config.dataDir,
      redis: {
        mode: this.managedRedis ? 'embedded' : 'external',
        address: safeAddress(this.redisUrl),
        pid: this.managedRedis?.pid ?? null,
        healthy: !redisError,
        error: redisError,
      },
      database: {
        mode: this.embeddedPostgres ? 'embedded' : 'external',
        address: databaseAddress(this.databaseUrl),
        healthy: !databaseError,
        error: databaseError,
        runs: Number.isFinite(runs) ? runs : null,
      },
      children,
      cache: summarizeCache(
        this.config.cacheEnabled,
        children.map((child) => child.cache),
      ),
      rateLimit: summarizeRateLimit(
        this.config.rateLimit.enabled,
        children.map((child) => child.rateLimit),
      ),
      alerts: this.alerts?.summary() ?? null,
      rollout: this.rollout?.status ?? null,
    };
  }

  /** `wuzctl top`'s one call per refresh: the status and the cluster's cumulative counters. */
  async snapshot(): Promise<DaemonSnapshot> {
    const [status, snapshots] = await Promise.all([
      this.status(),
      Promise.all(this.slots.map((slot) => slot.metrics())).then((all) => all.flat()),
    ]);
    const metrics = await this.clusterMetrics.childrenSnapshot(snapshots);
    const [queues, campaigns] = await Promise.all([
      queueFigures(this.queues ? Object.values(this.queues) : [], metrics),
      this.pool ? runningCampaigns(this.pool) : Promise.resolve(null),
    ]);
    const cpu = process.cpuUsage();
    return {
      at: new Date().toISOString(),
      status,
      http: routeFigures(metrics),
      cache: cacheFigures(metrics),
      redisErrors: Object.values(counterBy(metrics, 'redis_errors_total', 'component')).reduce(
        (a, b) => a + b,
        0,
      ),
      rateLimited: counterBy(metrics, 'rate_limit_rejections_total', 'plan', { limiter: 'tenant' }),
      queues,
      campaigns,
      supervisorCpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  }

  /** Graceful stop, in dependency order; safe to call more than once. */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.startupFailure?.(new StartupError(`stopped during startup (${reason})`));
      const began = Date.now();
      const wasReady = this.state === 'ready';
      this.state = 'stopping';
      this.idleCollector?.stop();
      this.log.info({ reason }, 'stopping');
      this.rollout?.cancel(`cancelled: the daemon is stopping (${reason})`);
      // Behind a balancer: /readyz fails first, and the workers keep serving until it has
      // noticed; only then does the drain begin. (Not during startup: nothing routes to us yet.)
      if (this.config.drainDelayMs > 0 && wasReady) {
        for (const slot of this.slots) slot.unready();
        this.log.info({ delayMs: this.config.drainDelayMs }, 'readiness withdrawn; draining after the delay');
        await new Promise((resolve) => setTimeout(resolve, this.config.drainDelayMs));
      }
      // Deliveries in flight get two seconds; the loop needs Redis until it hands its lease over.
      const alertsStopped = this.alerts?.stop(2000);
      // Children drain first (they need Redis and the database until the end)…
      // Every API worker closes its listener before any of them asks clients to reconnect:
      // the port is then closed, so a reconnect is refused instead of accepted and dropped.
      await Promise.all(this.slots.map((slot) => slot.stopAccepting(2000)));
      await Promise.all(this.slots.map((slot) => slot.stop(this.config.shutdownTimeoutMs)));
      // …then our own listeners and connections, then the services we started.
      const metricsServer = this.metricsServer;
      if (metricsServer) {
        metricsServer.closeAllConnections();
        await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      }
      await alertsStopped;
      if (this.queues)
        await import('../queues/open.ts').then(({ closeQueues }) => closeQueues(this.queues as Queues));
      await Promise.allSettled([this.redis?.quit(), this.pool?.end()]);
      await this.embeddedPostgres?.stop();
      await this.managedRedis?.stop();
      // Only the daemon that opened the control socket removes it: a second
      // `serve` refused by the pid lock must not unlink the running one's.
      const control = this.control;
      if (control) {
        control.closeAllConnections();
        await new Promise<void>((resolve) => control.close(() => resolve()));
        await rm(this.paths.socket, { force: true });
      }
      await this.releaseLock?.();
      // Our own spans last: what is left of the deadline, two seconds at most.
      const left = this.config.shutdownTimeoutMs - (Date.now() - began);
      await flushTracing(Math.min(2000, Math.max(0, left)));
      this.log.info({ tookMs: Date.now() - began }, 'stopped');
    })();
    return this.stopping;
  }
}

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Why a port could not be had, as the CLI says it: "metrics port 9464 on 0.0.0.0 is already in use". */
function listenFailure(what: '' | 'metrics ', host: string, port: number, code: string): StartupError {
  const flag = what ? '--metrics-port' : '--port';
  return new StartupError(
    code === 'EADDRINUSE'
      ? `${what}port ${port} on ${host} is already in use`
      : `cannot listen on ${host}:${port}${what ? ' for metrics' : ''} (${code})`,
    1,
    code === 'EADDRINUSE'
      ? `pick another with ${flag} <port> (${flag} 0 takes a free one), or find what holds it: ss -ltnp 'sport = :${port}'`
      : undefined,
  );
}
