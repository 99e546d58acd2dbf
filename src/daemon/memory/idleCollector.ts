import inspector from 'node:inspector';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.ts';

/**
 * Gives memory back once a process is idle again. Under load V8 grows the heap it has
 * committed (new pages for the young and old generations) and keeps them afterwards: an API
 * worker went 117 → 243 MB RSS in 20 s of `wuzctl bench mixed cached-read`, and was still at
 * 243 MB minutes later — only ~39 MB of it live. Nothing in an idle Node process asks V8 for
 * a collection that shrinks the heap (its memory reducer waits for allocations that never
 * come). One full collection that also releases the pages (the inspector's
 * `HeapProfiler.collectGarbage`, V8's "all available garbage") took that worker back to
 * 139 MB in ~70 ms.
 *
 * So every `intervalMs` the process looks at its event loop's utilization and its RSS: when
 * the loop was nearly idle for `idleLooks` looks in a row (~20 s) and RSS is `growthBytes`
 * above what the last collection left, it collects once. The collection pauses the process
 * (~50–200 ms): a request that arrives then waits for it, so only a process quiet for a
 * while is collected, and only once per burst. The first look after start has no baseline:
 * start-up's own garbage (module loading) goes at the first quiet moment (an API worker
 * 115 → 97 MB). A process whose memory is live, or that never goes quiet, is never
 * collected twice for nothing: the baseline is what the collection left.
 */
export interface IdleCollectorOptions {
  /** How often to look (default 10 s; each process spreads it by ±25 %). */
  intervalMs?: number;
  /** The event loop's utilization over an interval below which the process was idle. */
  idleUtilization?: number;
  /** How many idle intervals in a row before a collection. */
  idleLooks?: number;
  /** RSS above the last collection's result that is worth a collection. */
  growthBytes?: number;
  log: Logger;
}

export const IDLE_COLLECTOR_DEFAULTS = {
  intervalMs: 10_000,
  idleUtilization: 0.05,
  idleLooks: 2,
  growthBytes: 16 * 1024 * 1024,
} as const;

/**
 * The decision, apart from the clock and the collector: idle for long enough (`idleStreak`
 * intervals in a row), and grown enough since the last collection.
 */
export function shouldCollect(
  idleStreak: number,
  rss: number,
  baseline: number,
  options: Required<Omit<IdleCollectorOptions, 'log'>>,
): boolean {
  return idleStreak >= options.idleLooks && rss - baseline >= options.growthBytes;
}

/** A full collection that releases what it frees; false where Node has no inspector. */
export async function collectAllGarbage(): Promise<boolean> {
  let session: inspector.Session;
  try {
    session = new inspector.Session();
    session.connect();
  } catch {
    return false; // a Node built without the inspector (ERR_INSPECTOR_NOT_AVAILABLE)
  }
  try {
    await new Promise<void>((resolve, reject) =>
      session.post('HeapProfiler.collectGarbage', (error) => (error ? reject(error) : resolve())),
    );
    return true;
  } finally {
    session.disconnect();
  }
}

export interface IdleCollection {
  rssBefore: number;
  rssAfter: number;
  ms: number;
}

export interface IdleCollector {
  /** Collections so far. */
  readonly collections: number;
  /** What the last one did. */
  readonly last: IdleCollection | undefined;
  stop(): void;
}

export function startIdleCollector(options: IdleCollectorOptions): IdleCollector {
  const settings = {
    intervalMs: options.intervalMs ?? IDLE_COLLECTOR_DEFAULTS.intervalMs,
    idleUtilization: options.idleUtilization ?? IDLE_COLLECTOR_DEFAULTS.idleUtilization,
    idleLooks: options.idleLooks ?? IDLE_COLLECTOR_DEFAULTS.idleLooks,
    growthBytes: options.growthBytes ?? IDLE_COLLECTOR_DEFAULTS.growthBytes,
  };
  const { log } = options;
  let baseline = 0;
  let collections = 0;
  let lastCollection: IdleCollection | undefined;
  let busy = false;
  let idleStreak = 0;
  let last = performance.eventLoopUtilization();
  // A daemon's processes start together: without a spread they would all collect in the
  // same instant, on the same cores (four collections of ~100 ms at once took ~200 ms each).
  const intervalMs = Math.round(settings.intervalMs * (0.75 + Math.random() * 0.5));
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    idleStreak = utilization < settings.idleUtilization ? idleStreak + 1 : 0;
    const before = process.memoryUsage.rss();
    if (busy || !shouldCollect(idleStreak, before, baseline, settings)) return;
    busy = true;
    idleStreak = 0;
    const began = performance.now();
    collectAllGarbage()
      .then((collected) => {
        if (!collected) return timer.close(); // nothing to do it with: stop looking
        collections += 1;
        baseline = process.memoryUsage.rss();
        lastCollection = { rssBefore: before, rssAfter: baseline, ms: performance.now() - began };
        const mb = (bytes: number) => Math.round(bytes / 1048576);
        log.debug(
          { rssBeforeMb: mb(before), rssAfterMb: mb(baseline), ms: Math.round(lastCollection.ms) },
          'idle: memory returned',
        );
      })
      .catch((error: unknown) => log.warn({ err: error }, 'idle collection failed'))
      .finally(() => {
        busy = false;
        // The collection's own time is not the application's load.
        last = performance.eventLoopUtilization();
      });
  }, intervalMs);
  timer.unref(); // never what keeps a stopping process alive
  return {
    get collections() {
      return collections;
    },
    get last() {
      return lastCollection;
    },
    stop: () => timer.close(),
  };
}
