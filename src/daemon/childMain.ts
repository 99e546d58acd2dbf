/**
 * Entry point of every supervised child (API worker or queue worker). Its role is on its
 * command line; it loads that role's code at once, says `loaded`, and starts when the
 * supervisor sends its configuration (`start`, once Redis and the database are up). The
 * supervisor drives it over IPC from then on.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RunningChild } from './api/worker.ts';
import { setNamedStatements } from './db/named.ts';
import { type ChildConfig, type ChildRole, isToChild, unhandled } from './ipc.ts';
import { createLogger } from './logger.ts';
import { startIdleCollector } from './memory/idleCollector.ts';
import { processMetrics } from './telemetry/metrics.ts';
import { flushTracing } from './tracing/runtime.ts';

const role = process.argv[process.argv.indexOf('--role') + 1] as ChildRole;
if ((role !== 'api' && role !== 'queue') || !process.send) {
  console.error('wuzctl: this file is started by `wuzctl serve`, not by hand');
  process.exit(2);
}
const log = createLogger(role, process.env.LOG_LEVEL);
// First: the role labels this process's default metrics.
const metrics = processMetrics(role);
/** Only this role's code: an API worker never loads BullMQ's workers, nor a queue worker Express. */
const starter =
  role === 'api'
    ? import('./api/worker.ts').then((m) => m.startApiWorker)
    : import('./workers/queueWorker.ts').then((m) => m.startQueueWorker);
starter.catch(() => {}); // reported when `start` awaits it
let config: ChildConfig | undefined;
/** Before `start`, a stop has no configured deadline: this one bounds it. */
const UNCONFIGURED_SHUTDOWN_MS = 10_000;
/** The longest a stop waits for pending spans to reach the collector. */
const TRACE_FLUSH_MS = 2000;
const report = (message: object) =>
  new Promise<void>((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));

// The event loop's delay (p99 since the last look): what `wuzctl top` shows per process.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

let running: RunningChild | undefined;
let stopping: Promise<void> | undefined;

function shutdown(reason: string): Promise<void> {
  stopping ??= (async () => {
    log.debug({ reason }, 'shutting down');
    const deadline = Date.now() + (config?.shutdownTimeoutMs ?? UNCONFIGURED_SHUTDOWN_MS);
    const forced = setTimeout(() => {
      log.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, config?.shutdownTimeoutMs ?? UNCONFIGURED_SHUTDOWN_MS).unref();
    await running?.shutdown();
    // The spans of the last requests and jobs, within what is left of the deadline (an
    // unreachable collector costs at most that, never the exit).
    await flushTracing(Math.min(TRACE_FLUSH_MS, deadline - Date.now() - 500));
    // The counters of this process outlive it in the supervisor's totals.
    if (process.connected)
      await report({ type: 'metrics-final', metrics: await metrics.registry.getMetricsAsJSON() });
    clearTimeout(forced);
    process.exit(0);
  })();
  return stopping;
}

// Ctrl-C reaches the whole process group at once: children follow the supervisor's IPC
// instead, so the supervisor decides the order (drain HTTP, then stop services).
process.on('SIGINT', () => {});
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// The supervisor is gone (even SIGKILLed): the IPC channel closes, and we must not linger.
process.on('disconnect', () => void shutdown('supervisor disconnected'));
// Exhaustive: a message type added to ToChild and handled nowhere does not compile.
process.on('message', (message) => {
  if (!isToChild(message)) return;
  switch (message.type) {
    case 'start':
      if (!config && !stopping) void begin(message.config);
      break;
    case 'shutdown':
      void shutdown('supervisor request');
      break;
    case 'unready':
      running?.unready?.();
      break;
    case 'stop-accepting':
      void (running?.stopAccepting?.() ?? Promise.resolve()).then(() =>
        report({ type: 'not-accepting', requestId: message.requestId }),
      );
      break;
    case 'stats': {
      const memory = process.memoryUsage();
      const cpu = process.cpuUsage();
      const delayMs = loopDelay.count > 0 ? Math.round(loopDelay.percentile(99) / 1e4) / 100 : null;
      loopDelay.reset();
      void report({
        type: 'stats',
        requestId: message.requestId,
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        eventLoopDelayMs: delayMs,
        ...running?.stats?.(),
      });
      break;
    }
    case 'metrics':
      void metrics.registry
        .getMetricsAsJSON()
        .then((snapshot) => report({ type: 'metrics', requestId: message.requestId, metrics: snapshot }));
      break;
    case 'scrape':
      break; // the answer to an API worker's own request: its metrics endpoint listens for it
    default:
      unhandled(message);
  }
});

async function begin(configured: ChildConfig): Promise<void> {
  config = configured;
  // Both roles query the database through the repositories: one switch for either.
  setNamedStatements(configured.namedStatements, (error) =>
    log.warn(
      { err: error },
      'a prepared statement was lost between transactions (a pooler in transaction mode?): ' +
        'this process runs unnamed statements from now on; DATABASE_PREPARED_STATEMENTS=off turns them off everywhere',
    ),
  );
  try {
    const start = await starter;
    running = await start(configured, log, report);
    // Memory that a burst of load made V8 commit goes back once the worker is idle again.
    startIdleCollector({ log });
  } catch (error) {
    log.error({ err: error }, 'failed to start');
    // A listen failure was already reported with its own code; anything else is reported here.
    if (!(error as NodeJS.ErrnoException).syscall) {
      await report({ type: 'fatal', code: 'ESTART', message: (error as Error).message });
    }
    process.exit(1);
  }
}

void report({ type: 'loaded' });
