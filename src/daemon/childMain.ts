/**
 * Entry point of every supervised child (API worker or queue worker). The supervisor
 * passes the resolved configuration in the environment and drives it over IPC.
 */
import type { RunningChild } from './api/worker.ts';
import { startApiWorker } from './api/worker.ts';
import { CHILD_CONFIG_ENV, type ChildConfig, isToChild } from './ipc.ts';
import { createLogger } from './logger.ts';
import { processMetrics } from './telemetry/metrics.ts';
import { startQueueWorker } from './workers/queueWorker.ts';

const parsed = JSON.parse(process.env[CHILD_CONFIG_ENV] ?? 'null') as ChildConfig | null;
if (!parsed || !process.send) {
  console.error('wuzctl: this file is started by `wuzctl serve`, not by hand');
  process.exit(2);
}
const config: ChildConfig = parsed;
const log = createLogger(config.role, config.logLevel);
// First: the role labels this process's default metrics.
const metrics = processMetrics(config.role);
const report = (message: object) =>
  new Promise<void>((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));

let running: RunningChild | undefined;
let stopping: Promise<void> | undefined;

function shutdown(reason: string): Promise<void> {
  stopping ??= (async () => {
    log.debug({ reason }, 'shutting down');
    const forced = setTimeout(() => {
      log.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    await running?.shutdown();
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
process.on('message', (message) => {
  if (!isToChild(message)) return;
  if (message.type === 'shutdown') void shutdown('supervisor request');
  if (message.type === 'stop-accepting') {
    void (running?.stopAccepting?.() ?? Promise.resolve()).then(() =>
      report({ type: 'not-accepting', requestId: message.requestId }),
    );
  }
  if (message.type === 'stats') {
    const memory = process.memoryUsage();
    void report({
      type: 'stats',
      requestId: message.requestId,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      ...running?.stats?.(),
    });
  }
  if (message.type === 'metrics') {
    void metrics.registry
      .getMetricsAsJSON()
      .then((snapshot) => report({ type: 'metrics', requestId: message.requestId, metrics: snapshot }));
  }
});

const start = config.role === 'api' ? startApiWorker : startQueueWorker;
try {
  running = await start(config, log, report);
} catch (error) {
  log.error({ err: error }, 'failed to start');
  // A listen failure was already reported with its own code; anything else is reported here.
  if (!(error as NodeJS.ErrnoException).syscall) {
    await report({ type: 'fatal', code: 'ESTART', message: (error as Error).message });
  }
  process.exit(1);
}
