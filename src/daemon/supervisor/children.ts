import { type ChildProcess, fork } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { modulePath } from '../../paths.ts';
import type { CacheStats } from '../cache/responseCache.ts';
import { type ChildConfig, type ChildRole, type FromChild, type ToChild, unhandled } from '../ipc.ts';
import type { Logger } from '../logger.ts';
import type { RateLimitStats } from '../ratelimit/store.ts';
import type { Exposition } from '../telemetry/clusterMetrics.ts';
import type { MetricsSnapshot } from '../telemetry/metrics.ts';
import { isCrashLoop, restartDelay, restartPolicy } from './backoff.ts';
import type { ChildOutput } from './daemonLog.ts';

/** The common surface of a cluster worker and a forked process. */
interface ChildHandle {
  pid: number | undefined;
  send(message: ToChild): void;
  kill(signal: NodeJS.Signals): void;
  onMessage(listener: (message: FromChild) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** Pipes: the supervisor copies them into the daemon's log (see DaemonLog). */
  stdout: Readable | null;
  stderr: Readable | null;
}

const childEntry = modulePath('daemon/childMain');

/**
 * What a child's command line says (its configuration travels in the environment): the
 * data dir and role, so `pgrep -f <data-dir>` finds every process of a daemon.
 */
const childArgs = (dataDir: string, role: ChildRole) => ['--data-dir', dataDir, '--role', role];

/**
 * Node's flags for a child: the supervisor's own, plus the tracing preload when tracing is
 * on. It must be an `--import`: instrumentation patches modules as they load, so it has
 * to run before the child's first import (tracing/preload.ts).
 */
function childExecArgv(tracing: boolean): string[] {
  const preload = pathToFileURL(modulePath('daemon/tracing/preload')).href;
  const own = process.execArgv.filter((arg, i, all) => arg !== preload && all[i + 1] !== preload);
  return tracing ? [...own, '--import', preload] : own;
}

/** What fills a slot: its place, and where its configuration comes from. */
export interface ChildSlotOptions {
  role: ChildRole;
  index: number;
  dataDir: string;
  logLevel: string;
  /** Start the child with the tracing preload. */
  tracing: boolean;
  /**
   * The configuration a process gets once it has loaded its code. A promise: the first
   * processes are forked while Redis and the database are still starting, so their
   * imports (most of a worker's start-up) overlap with the services'.
   */
  configure: () => Promise<ChildConfig>;
  log: Logger;
  hooks?: MetricsHooks;
  output: OutputSink;
}

/** The IPC channel closed under a send (the child is exiting): its 'exit' is handled. */
function ignoreClosedChannel(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_IPC_CHANNEL_CLOSED') throw error;
}

function spawnApiWorker(env: Record<string, string>, args: string[], execArgv: string[]): ChildHandle {
  // Every API worker is a cluster worker so that they share one listening port.
  cluster.setupPrimary({ exec: childEntry, args, execArgv, silent: true });
  const worker: Worker = cluster.fork(env);
  // A message sent as the child dies fails with EPIPE, asynchronously, as an 'error' event;
  // unheard, it would crash the supervisor. The child's exit is handled where it belongs.
  worker.on('error', ignoreClosedChannel);
  return {
    pid: worker.process.pid,
    stdout: worker.process.stdout,
    stderr: worker.process.stderr,
    send: (message) => {
      if (worker.isConnected()) worker.send(message);
    },
    kill: (signal) => worker.process.kill(signal),
    onMessage: (listener) => worker.on('message', listener),
    onExit: (listener) => worker.on('exit', listener),
  };
}

function spawnQueueWorker(env: Record<string, string>, args: string[], execArgv: string[]): ChildHandle {
  const child: ChildProcess = fork(childEntry, args, {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.on('error', ignoreClosedChannel);
  return {
    pid: child.pid,
    stdout: child.stdout,
    stderr: child.stderr,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    kill: (signal) => child.kill(signal),
    onMessage: (listener) => child.on('message', (m) => listener(m as FromChild)),
    onExit: (listener) => child.on('exit', listener),
  };
}

export interface ChildStatus {
  role: ChildRole;
  index: number;
  pid: number | null;
  state: ChildSlot['state'];
  uptimeSeconds: number | null;
  restarts: number;
  crashLoop: boolean;
  lastExit: string | null;
  rssBytes: number | null;
  /** The cache counters of an API worker (null for queue workers and while starting). */
  cache: CacheStats | null;
  /** The rate limiter counters of an API worker (null for queue workers and while starting). */
  rateLimit: RateLimitStats | null;
}

/** What the supervisor does with a child's metrics. */
export interface MetricsHooks {
  /** The cluster-wide exposition, for an API worker that serves GET /metrics. */
  scrape(): Promise<Exposition>;
  /** The last metrics of a process that exited. */
  retire(snapshot: MetricsSnapshot): void;
}

/** Where a child's stdout and stderr go (the daemon's log). */
export interface OutputSink {
  follow(child: ChildOutput): void;
}

type Reply<T extends FromChild['type']> = Extract<FromChild, { type: T }>;
/** The requests the supervisor makes of a child, and the reply each one gets. */
interface RequestReplies {
  stats: 'stats';
  metrics: 'metrics';
  'stop-accepting': 'not-accepting';
}

const STATS_TIMEOUT_MS = 1000;
const METRICS_TIMEOUT_MS = 2000;

/**
 * One supervised position (e.g. "api #2"): it outlives the processes that fill it, so
 * restart counts and crash history belong here.
 */
export class ChildSlot {
  state: 'starting' | 'ready' | 'backoff' | 'stopping' | 'stopped' = 'stopped';
  restarts = 0;
  private handle?: ChildHandle;
  private startedAt = 0;
  private crashTimes: number[] = [];
  private consecutiveCrashes = 0;
  private lastExit: string | null = null;
  private restartTimer?: NodeJS.Timeout;
  private stopRequested = false;
  private exited?: Promise<void>;
  private nextRequestId = 1;
  private pending = new Map<number, (reply: FromChild) => void>();
  /** The current process's latest metrics, or its final ones once it said goodbye. */
  private lastMetrics?: MetricsSnapshot;

  readonly role: ChildRole;
  readonly index: number;
  private readonly dataDir: string;
  private readonly logLevel: string;
  private readonly tracing: boolean;
  private readonly configure: () => Promise<ChildConfig>;
  private readonly log: Logger;
  private readonly hooks?: MetricsHooks;
  private readonly output: OutputSink;

  constructor(options: ChildSlotOptions) {
    this.role = options.role;
    this.index = options.index;
    this.dataDir = options.dataDir;
    this.logLevel = options.logLevel;
    this.tracing = options.tracing;
    this.configure = options.configure;
    this.log = options.log;
    this.hooks = options.hooks;
    this.output = options.output;
  }

  /** Settles with the first process's readiness (its port for API workers), or why it never got there. */
  firstReady!: Promise<number | undefined>;
  private settleFirst?: { resolve(port: number | undefined): void; reject(error: Error): void };
  private fatal?: string;

  get name(): string {
    return `${this.role}#${this.index}`;
  }

  start(): void {
    if (!this.firstReady) {
      this.firstReady = new Promise((resolve, reject) => {
        this.settleFirst = { resolve, reject };
      });
      this.firstReady.catch(() => {}); // the caller may be gone (stopped during startup)
    }
    this.stopRequested = false;
    this.state = 'starting';
    this.startedAt = Date.now();
    const env = { LOG_LEVEL: this.logLevel };
    const args = childArgs(this.dataDir, this.role);
    const execArgv = childExecArgv(this.tracing);
    const handle =
      this.role === 'api' ? spawnApiWorker(env, args, execArgv) : spawnQueueWorker(env, args, execArgv);
    this.handle = handle;
    this.output.follow({ role: this.role, pid: handle.pid, stdout: handle.stdout, stderr: handle.stderr });
    // Exhaustive: a message type added to FromChild and handled nowhere does not compile.
    handle.onMessage((message) => {
      switch (message.type) {
        case 'loaded':
          // A failed configuration (the services did not start) sends nothing: stop() ends it.
          void this.configure().then(
            (config) => handle.send({ type: 'start', config }),
            () => {},
          );
          break;
        case 'ready':
          this.state = 'ready';
          this.settleFirst?.resolve(message.port);
          this.settleFirst = undefined;
          break;
        case 'fatal':
          this.fatal = message.message;
          this.log.error({ child: this.name, code: message.code }, message.message);
          break;
        case 'stats':
        case 'metrics':
        case 'not-accepting':
          this.pending.get(message.requestId)?.(message);
          break;
        case 'metrics-final':
          this.lastMetrics = message.metrics;
          break;
        case 'scrape':
          if (this.hooks) void this.answerScrape(handle, message.requestId);
          break;
        default:
          unhandled(message);
      }
    });
    this.exited = new Promise((resolve) => {
      handle.onExit((code, signal) => {
        this.handle = undefined;
        this.lastExit = signal ? `signal ${signal}` : `code ${code}`;
        if (this.lastMetrics) this.hooks?.retire(this.lastMetrics);
        this.lastMetrics = undefined;
        resolve();
        if (this.settleFirst) {
          // The very first process never became ready: startup fails with its reason.
          this.settleFirst.reject(
            new Error(`${this.name}: ${this.fatal ?? `exited before ready (${this.lastExit})`}`),
          );
          this.settleFirst = undefined;
          this.state = 'stopped';
          return;
        }
        if (this.stopRequested) {
          this.state = 'stopped';
          return;
        }
        this.scheduleRestart();
      });
    });
  }

  private scheduleRestart(): void {
    const now = Date.now();
    if (now - this.startedAt >= restartPolicy.stableAfterMs) this.consecutiveCrashes = 0;
    this.consecutiveCrashes++;
    this.crashTimes = [...this.crashTimes.filter((t) => now - t <= restartPolicy.crashLoopWindowMs), now];
    const delay = restartDelay(this.consecutiveCrashes);
    const details = { child: this.name, exit: this.lastExit, restartInMs: delay };
    if (isCrashLoop(this.crashTimes, now)) this.log.error(details, 'child is crash-looping');
    else this.log.warn(details, 'child exited unexpectedly; restarting');
    this.state = 'backoff';
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.start();
    }, delay);
  }

  /**
   * Phase 1 of a stop for an API worker: it closes its listener and says so. Resolves once
   * it has (or after `timeoutMs`, or at once for a child that is not running).
   */
  async stopAccepting(timeoutMs: number): Promise<void> {
    const handle = this.handle;
    if (!handle || this.role !== 'api' || this.state !== 'ready') return;
    await this.request(handle, 'stop-accepting', timeoutMs);
  }

  /** Asks the child to drain and exit; resolves when it has exited (killed after the deadline). */
  async stop(deadlineMs: number): Promise<void> {
    this.stopRequested = true;
    clearTimeout(this.restartTimer);
    const handle = this.handle;
    if (!handle) {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    handle.send({ type: 'shutdown' });
    const timer = setTimeout(() => {
      this.log.warn({ child: this.name }, 'child did not stop in time; killing it');
      handle.kill('SIGKILL');
    }, deadlineMs);
    await this.exited;
    clearTimeout(timer);
  }

  async status(): Promise<ChildStatus> {
    const handle = this.handle;
    let rssBytes: number | null = null;
    let cache: CacheStats | null = null;
    let rateLimit: RateLimitStats | null = null;
    if (handle && this.state !== 'starting') {
      const stats = await this.request(handle, 'stats', STATS_TIMEOUT_MS);
      rssBytes = stats?.rss ?? null;
      cache = stats?.cache ?? null;
      rateLimit = stats?.rateLimit ?? null;
    }
    return {
      role: this.role,
      index: this.index,
      pid: handle?.pid ?? null,
      state: this.state,
      uptimeSeconds: handle ? Math.round((Date.now() - this.startedAt) / 1000) : null,
      restarts: this.restarts,
      crashLoop: isCrashLoop(this.crashTimes, Date.now()),
      lastExit: this.lastExit,
      rssBytes,
      cache,
      rateLimit,
    };
  }

  /** This child's metrics: asked for now, or the last ones it gave when it does not answer. */
  async metrics(): Promise<MetricsSnapshot | undefined> {
    const handle = this.handle;
    if (handle && this.state !== 'starting') {
      const reply = await this.request(handle, 'metrics', METRICS_TIMEOUT_MS);
      if (reply) this.lastMetrics = reply.metrics;
    }
    return this.lastMetrics;
  }

  private async answerScrape(handle: ChildHandle, requestId: number): Promise<void> {
    try {
      const exposition = await (this.hooks as MetricsHooks).scrape();
      handle.send({ type: 'scrape', requestId, ...exposition });
    } catch (error) {
      this.log.warn({ err: error, child: this.name }, 'could not collect metrics for a scrape');
      handle.send({ type: 'scrape', requestId, contentType: '', body: '', error: (error as Error).message });
    }
  }

  /** One request/reply over IPC, matched by id; null when the child does not answer in time. */
  private async request<T extends keyof RequestReplies>(
    handle: ChildHandle,
    type: T,
    timeoutMs: number,
  ): Promise<Reply<RequestReplies[T]> | null> {
    const requestId = this.nextRequestId++;
    try {
      return await new Promise<Reply<RequestReplies[T]> | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), timeoutMs);
        this.pending.set(requestId, (reply) => {
          clearTimeout(timer);
          resolve(reply as Reply<RequestReplies[T]>);
        });
        handle.send({ type, requestId } as ToChild);
      });
    } finally {
      this.pending.delete(requestId);
    }
  }
}
