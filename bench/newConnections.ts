/**
 * How long a new connection waits for its first answer while the daemon is under load:
 * every 50 ms a fresh TCP connection (no keep-alive) asks for /healthz, while a `wuzctl
 * bench` scenario keeps 50 keep-alive connections busy:
 *   npm run bench:connections                         (uncached-read, 10 s)
 *   npm run bench:connections -- cached-read --duration 20s --dist
 * With Node's round-robin cluster the supervisor accepts every connection and hands it to
 * a worker, so this is the supervisor's event loop as a client sees it (PGlite runs its
 * queries there); NODE_CLUSTER_SCHED_POLICY=none in the environment measures the other
 * policy (docs/DECISIONS.md, "The cluster stays round-robin").
 */
import http from 'node:http';
import { runBench } from '../src/cli/bench/run.ts';
import {
  durationOption,
  median,
  scenarioArgument,
  seedDemo,
  serve,
  unlimitedEnv,
  withTempDir,
} from './lib.ts';

const scenario = scenarioArgument('uncached-read');
const durationSeconds = durationOption('--duration', '10s') / 1000;
const json = process.argv.includes('--json');
const EVERY_MS = 50;

/** One new connection's /healthz, connect to the end of the answer (ms); null when it failed. */
function fresh(url: URL): Promise<number | null> {
  const began = performance.now();
  return new Promise((resolve) => {
    const request = http.get(
      { host: url.hostname, port: url.port, path: '/healthz', agent: false },
      (response) => {
        response.resume();
        response.on('end', () => resolve(performance.now() - began));
      },
    );
    request.on('error', () => resolve(null));
    request.setTimeout(15_000, () => {
      request.destroy();
      resolve(null);
    });
  });
}

/** New connections every EVERY_MS until `until` settles. */
async function probe(url: URL, until: Promise<unknown>): Promise<{ ms: number[]; failed: number }> {
  const pending: Promise<number | null>[] = [];
  let done = false;
  void until.finally(() => {
    done = true;
  });
  while (!done) {
    pending.push(fresh(url));
    await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
  }
  const results = await Promise.all(pending);
  const ms = results.filter((r): r is number => r !== null).sort((a, b) => a - b);
  return { ms, failed: results.length - ms.length };
}

const quantile = (sorted: number[], q: number) =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) : 0;
const summary = (sorted: number[]) => ({
  n: sorted.length,
  p50: Math.round(median(sorted) * 10) / 10,
  p90: Math.round(quantile(sorted, 0.9) * 10) / 10,
  p99: Math.round(quantile(sorted, 0.99) * 10) / 10,
  max: Math.round(sorted.at(-1) ?? 0),
});

const result = await withTempDir(async (dir) => {
  const env = unlimitedEnv();
  const served = await serve(dir, env);
  try {
    const url = new URL(served.url);
    const seeded = await seedDemo(dir, env);
    const idle = await probe(url, new Promise((resolve) => setTimeout(resolve, 3000)));
    const requests = await scenario.requests({ url: served.url, tenants: seeded.tenants });
    if (!json) process.stderr.write(`new connections during ${scenario.name} (${durationSeconds} s)…\n`);
    const load = runBench(served.url, scenario.name, requests, {
      connections: 50,
      durationSeconds,
      warmupSeconds: 1,
    });
    const loaded = await probe(url, load);
    const bench = await load;
    return {
      scenario: scenario.name,
      schedulingPolicy: process.env.NODE_CLUSTER_SCHED_POLICY ?? 'rr',
      requestsPerSecond: bench.requestsPerSecond,
      idle: { ...summary(idle.ms), failed: idle.failed },
      underLoad: { ...summary(loaded.ms), failed: loaded.failed },
    };
  } finally {
    await served.stop();
  }
});

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const line = (label: string, s: typeof result.idle) =>
    `  ${label.padEnd(12)} n=${s.n} p50 ${s.p50} ms, p90 ${s.p90} ms, p99 ${s.p99} ms, max ${s.max} ms, failed ${s.failed}`;
  console.log(
    `a new connection's first /healthz (cluster policy ${result.schedulingPolicy}; ${result.scenario} at ${result.requestsPerSecond} req/s):`,
  );
  console.log(line('idle', result.idle));
  console.log(line('under load', result.underLoad));
}
