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
 * V8's young generation for every child: semi-spaces of 8 MB instead of V8's default.
 * Under load a worker's young generation grows to its maximum and the heap V8 then keeps
 * committed is not given back: after 20 s of `bench mixed` and 20 s of `bench
 * cached-read`, an API worker held 336–340 MB RSS with the default, 228–247 MB with 8 MB
 * (116–118 MB idle, against 119–120), at the same requests/s within the noise; 4 MB and
 * 2 MB saved little more and cost the cached read ~5%. A `--max-semi-space-size` the user
 * gives (in NODE_OPTIONS or to `node` itself) wins. DECISIONS.md has the runs.
 */
export const CHILD_SEMI_SPACE = '--max-semi-space-size=8';

/**
 * Node's flags for a child: the supervisor's own, the young generation's size, and the
 * tracing preload when tracing is on. It must be an `--import`: instrumentation patches
 * modules as they load, so it has to run before the child's first import (tracing/preload.ts).
 */
function childExecArgv(tracing: boolean): string[] {
  const preload = pathToFileURL(modulePath('daemon/tracing/preload')).href;
  const own = process.execArgv.filter((arg, i, all) => arg !== preload && all[i + 1] !== preload);
  const userChose = [...own, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((flag) =>
    /^--max[-_]semi[-_]space[-_]size\b/.test(flag),
  );
  const flags = userChose ? own : [...own, CHILD_SEMI_SPACE];
  return tracing ? [...flags, '--import', preload] : flags;
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
  /** Which rollout started the process: 1 at start, +1 per `wuzctl reload`. */
  generation: number;
  state: ChildSlot['state'] | 'draining';
  uptimeSeconds: number | null;
  restarts: number;
  crashLoop: boolean;
  lastExit: string | null;
  rssBytes: number | null;
  /** CPU time used so far; null when it did not answer. */
  cpuSeconds: number | null;
  /** Event-loop delay p99 (ms) since the previous status; null when unknown. */
  eventLoopDelayMs: number | null;
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

/** One process of a slot, from fork to exit: its generation, its state and its IPC requests. */
class ChildRun {
  state: 'starting' | 'ready' | 'draining' | 'stopping' = 'starting';
  readonly generation: number;
  readonly startedAt = Date.now();
  readonly handle: ChildHandle;
  /** Resolves with the port (API workers) once ready; rejects when it exits first. */
  readonly ready: Promise<number | undefined>;
  readonly exited: Promise<string>;
  fatal?: string;
  /** What did not answer when it became ready (Redis, the database): a rollout does not take it. */
  problems: string[] = [];
  /** The latest metrics, or the final ones once it said goodbye. */
  lastMetrics?: MetricsSnapshot;
  private nextRequestId = 1;
  private readonly pending = new Map<number, (reply: FromChild) => void>();

  constructor(handle: ChildHandle, generation: number) {
    this.handle = handle;
    this.generation = generation;
    const ready = Promise.withResolvers<number | undefined>();
    this.ready = ready.promise;
    this.ready.catch(() => {}); // a run nobody waits for (a restart) may die before ready
    this.exited = new Promise((resolve) => {
      handle.onExit((code, signal) => {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        ready.reject(new Error(this.fatal ?? `exited before ready (${how})`));
        resolve(how);
      });
    });
    this.markReady = (port) => {
      this.state = this.state === 'starting' ? 'ready' : this.state;
      ready.resolve(port);
    };
  }

  readonly markReady: (port: number | undefined) => void;

  answer(message: FromChild & { requestId: number }): void {
    this.pending.get(message.requestId)?.(message);
  }

  /** One request/reply over IPC, matched by id; null when the child does not answer in time. */
  async request<T extends keyof RequestReplies>(
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
        this.handle.send({ type, requestId } as ToChild);
      });
    } finally {
      this.pending.delete(requestId);
    }
  }

  /** Asks it to drain and exit (an API worker stops accepting first); SIGKILL after `deadlineMs`. */
  async stop(deadlineMs: number, log: Logger, name: string): Promise<string> {
    const timer = setTimeout(() => {
      log.warn({ child: name, pid: this.handle.pid }, 'child did not stop in time; killing it');
      this.handle.kill('SIGKILL');
    }, deadlineMs);
    this.handle.send({ type: 'shutdown' });
    const how = await this.exited;
    clearTimeout(timer);
    return how;
  }
}

/** A rollout step that could not replace its process: the old one still serves. */
export class ReplaceError extends Error {}

/** What one replacement did, for the rollout's progress and metrics. */
export interface Replacement {
  slot: string;
  generation: number;
  oldPid: number | null;
  newPid: number | null;
  readyMs: number;
  drainMs: number;
  /** How the old process ended ("code 0"; "signal SIGKILL" when it had to be killed). */
  oldExit: string | null;
}

/**
 * One supervised position (e.g. "api #2"): it outlives the processes that fill it, so
 * restart counts and crash history belong here. During a rollout it briefly holds two:
 * the new one starting beside the old, then the old one draining.
 */
export class ChildSlot {
  state: 'starting' | 'ready' | 'backoff' | 'stopping' | 'stopped' = 'stopped';
  restarts = 0;
  generation = 1;
  private current?: ChildRun;
  /** A process of the next generation, not yet ready, or one that failed and is being stopped. */
  private incoming?: ChildRun;
  private readonly draining = new Set<ChildRun>();
  private crashTimes: number[] = [];
  private consecutiveCrashes = 0;
  private lastExit: string | null = null;
  private restartTimer?: NodeJS.Timeout;
  private stopRequested = false;

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

  get name(): string {
    return `${this.role}#${this.index}`;
  }

  /** Forks a process of `generation` and wires its messages; the caller decides what it is for. */
  private spawn(generation: number): ChildRun {
    const env = { LOG_LEVEL: this.logLevel };
    const args = childArgs(this.dataDir, this.role);
    const execArgv = childExecArgv(this.tracing);
    const handle =
      this.role === 'api' ? spawnApiWorker(env, args, execArgv) : spawnQueueWorker(env, args, execArgv);
    const run = new ChildRun(handle, generation);
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
          run.problems = message.problems ?? [];
          run.markReady(message.port);
          break;
        case 'fatal':
          run.fatal = message.message;
          this.log.error({ child: this.name, code: message.code }, message.message);
          break;
        case 'stats':
        case 'metrics':
        case 'not-accepting':
          run.answer(message);
          break;
        case 'metrics-final':
          run.lastMetrics = message.metrics;
          break;
        case 'scrape':
          if (this.hooks) void this.answerScrape(handle, message.requestId);
          break;
        default:
          unhandled(message);
      }
    });
    // Whatever it was for, its counters outlive it in the supervisor's totals.
    void run.exited.then(() => {
      if (run.lastMetrics) this.hooks?.retire(run.lastMetrics);
      run.lastMetrics = undefined;
    });
    return run;
  }

  start(): void {
    this.stopRequested = false;
    this.state = 'starting';
    const run = this.spawn(this.generation);
    this.current = run;
    this.firstReady ??= run.ready.catch((error: Error) => {
      throw new Error(`${this.name}: ${error.message}`);
    });
    this.firstReady.catch(() => {}); // the caller may be gone (stopped during startup)
    void run.ready.then(
      () => {
        this.everReady = true;
        if (this.current === run) this.state = 'ready';
      },
      () => {},
    );
    void run.exited.then((how) => this.onCurrentExit(run, how));
  }

  private onCurrentExit(run: ChildRun, how: string): void {
    // Replaced by a rollout: the slot's process is another one now.
    if (this.current !== run) return;
    this.current = undefined;
    this.lastExit = how;
    if (this.stopRequested) {
      this.state = 'stopped';
      return;
    }
    // The very first process never became ready: startup fails with its reason (firstReady).
    if (!this.everReady) {
      this.state = 'stopped';
      return;
    }
    this.scheduleRestart(run.startedAt);
  }

  /** Some process of this slot has been ready: from then on an exit is restarted, not a failed start. */
  private everReady = false;

  private scheduleRestart(startedAt: number): void {
    const now = Date.now();
    if (now - startedAt >= restartPolicy.stableAfterMs) this.consecutiveCrashes = 0;
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
   * A rollout's step: a process of `generation` starts beside the current one; once it is
   * ready (and still alive `stabilizeMs` later) it takes the slot and the old one drains —
   * an API worker stops accepting first, so the cluster routes new connections to the
   * others, then finishes what it holds. A new process that fails, or is not ready within
   * `readyTimeoutMs`, is stopped and the old one keeps the slot (ReplaceError).
   */
  async replace(
    generation: number,
    timing: { readyTimeoutMs: number; stabilizeMs: number; drainDeadlineMs: number },
    cancelled: () => boolean,
  ): Promise<Replacement> {
    if (this.stopRequested || this.incoming) throw new ReplaceError(`${this.name} is stopping`);
    const began = Date.now();
    const run = this.spawn(generation);
    this.incoming = run;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        run.ready.then(async () => {
          // Crashing right after "ready" (a bad route table, a timer that throws) is caught here.
          const alive = await Promise.race([
            new Promise<true>((resolve) => setTimeout(() => resolve(true), timing.stabilizeMs)),
            run.exited.then(() => false as const),
          ]);
          if (!alive) throw new Error(`exited right after it was ready (${await run.exited})`);
          if (run.problems.length) throw new Error(`ready, but cannot serve: ${run.problems.join('; ')}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not ready within ${Math.round(timing.readyTimeoutMs / 1000)} s`)),
            timing.readyTimeoutMs,
          );
        }),
      ]);
      if (cancelled()) throw new Error('the rollout was cancelled');
    } catch (error) {
      this.incoming = undefined;
      run.state = 'stopping';
      await run.stop(2000, this.log, this.name);
      throw new ReplaceError(`${this.name} generation ${generation}: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    const readyMs = Date.now() - began;
    const old = this.current;
    // A slot waiting to restart a crashed process is filled by the new one instead.
    clearTimeout(this.restartTimer);
    this.everReady = true;
    this.incoming = undefined;
    this.current = run;
    this.generation = generation;
    this.state = 'ready';
    void run.exited.then((how) => this.onCurrentExit(run, how));
    if (!old)
      return {
        slot: this.name,
        generation,
        oldPid: null,
        newPid: run.handle.pid ?? null,
        readyMs,
        drainMs: 0,
        oldExit: null,
      };
    const drainBegan = Date.now();
    old.state = 'draining';
    this.draining.add(old);
    if (this.role === 'api') await old.request('stop-accepting', 2000);
    const oldExit = await old.stop(timing.drainDeadlineMs, this.log, this.name);
    this.draining.delete(old);
    return {
      slot: this.name,
      generation,
      oldPid: old.handle.pid ?? null,
      newPid: run.handle.pid ?? null,
      readyMs,
      drainMs: Date.now() - drainBegan,
      oldExit,
    };
  }

  /** A stop is coming: the API worker's /readyz fails from now on. */
  unready(): void {
    if (this.role === 'api') this.current?.handle.send({ type: 'unready' });
  }

  /**
   * Phase 1 of a stop for an API worker: it closes its listener and says so. Resolves once
   * it has (or after `timeoutMs`, or at once for a child that is not running).
   */
  async stopAccepting(timeoutMs: number): Promise<void> {
    const run = this.current;
    if (!run || this.role !== 'api' || run.state !== 'ready') return;
    await run.request('stop-accepting', timeoutMs);
  }

  /** Asks every process of the slot to drain and exit; resolves when they have (killed after the deadline). */
  async stop(deadlineMs: number): Promise<void> {
    this.stopRequested = true;
    clearTimeout(this.restartTimer);
    const runs = [this.current, this.incoming, ...this.draining].filter(
      (run): run is ChildRun => run !== undefined,
    );
    if (runs.length === 0) {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    await Promise.all(
      runs.map((run) => {
        run.state = run.state === 'draining' ? 'draining' : 'stopping';
        return run.stop(deadlineMs, this.log, this.name);
      }),
    );
    this.state = 'stopped';
  }

  /** One row per process: the slot's, plus one starting or draining during a rollout. */
  async status(): Promise<ChildStatus[]> {
    const rows: Promise<ChildStatus>[] = [];
    const row = async (run: ChildRun | undefined, state: ChildStatus['state']): Promise<ChildStatus> => {
      let stats: Reply<'stats'> | null = null;
      if (run && run.state !== 'starting') stats = await run.request('stats', STATS_TIMEOUT_MS);
      return {
        role: this.role,
        index: this.index,
        pid: run?.handle.pid ?? null,
        generation: run?.generation ?? this.generation,
        state,
        uptimeSeconds: run ? Math.round((Date.now() - run.startedAt) / 1000) : null,
        restarts: this.restarts,
        crashLoop: isCrashLoop(this.crashTimes, Date.now()),
        lastExit: this.lastExit,
        rssBytes: stats?.rss ?? null,
        cpuSeconds: stats?.cpuSeconds ?? null,
        eventLoopDelayMs: stats?.eventLoopDelayMs ?? null,
        cache: stats?.cache ?? null,
        rateLimit: stats?.rateLimit ?? null,
      };
    };
    rows.push(row(this.current, this.current?.state === 'draining' ? 'draining' : this.state));
    if (this.incoming) rows.push(row(this.incoming, 'starting'));
    for (const run of this.draining) rows.push(row(run, 'draining'));
    return Promise.all(rows);
  }

  /** Each live process's metrics: asked for now, or the last ones it gave when it does not answer. */
  async metrics(): Promise<MetricsSnapshot[]> {
    const runs = [this.current, this.incoming, ...this.draining].filter(
      (run): run is ChildRun => run !== undefined,
    );
    const snapshots = await Promise.all(
      runs.map(async (run) => {
        if (run.state !== 'starting') {
          const reply = await run.request('metrics', METRICS_TIMEOUT_MS);
          if (reply) run.lastMetrics = reply.metrics;
        }
        return run.lastMetrics;
      }),
    );
    return snapshots.filter((snapshot): snapshot is MetricsSnapshot => snapshot !== undefined);
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
}
