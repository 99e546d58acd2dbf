/**
 * Latency and throughput of the API under autocannon, embedded and external database:
 *   npm run bench:api                          (GET /api/session/agents, 10 s, 20 connections)
 *   npm run bench:api -- --duration 30 --connections 50 --scenario uncached-read --json
 *   npm run bench:api -- --mode embedded --cache both      (cached endpoint with and without the cache)
 *   npm run bench:api -- --mode embedded --rate-limit both (the limiter's cost: on, with a limit
 *                                                            too high to reach, vs off)
 *   npm run bench:metrics   (= --mode embedded --metrics both --rounds 3: the metrics
 *                            middleware's cost on the cached endpoint, runs interleaved)
 *   npm run bench:api -- --scenario uncached-read --floor  (its floor in the same run: pg-floor,
 *                            or redis-floor for cached-read; the ratio is printed)
 * Each mode starts its own daemon on a temporary data dir, seeds the demo data and runs
 * `wuzctl bench <scenario>` against it (a user of demo-1; its /healthz floor too): this
 * script only varies the daemon's settings. Latency counts 2xx only; non-2xx responses
 * are reported separately and make the run exit 1.
 */

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchReport } from '../src/cli/commands/bench.ts';
import { cli, type Env, embeddedEnv, median, serve, withExternalServices, withTempDir } from './lib.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    /** A scenario of wuzctl bench: cached-read (GET /api/session/agents), uncached-read, … */
    scenario: { type: 'string', default: 'cached-read' },
    'api-workers': { type: 'string', default: '2' },
    mode: { type: 'string', default: 'both' },
    cache: { type: 'string', default: 'on' },
    'rate-limit': { type: 'string', default: 'off' },
    metrics: { type: 'string', default: 'on' },
    /** Repeat every combination, interleaved, and report medians: a 2-core box is noisy. */
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    /** Run the scenario's floor first (redis-floor for cached-read, else pg-floor) and report the ratio. */
    floor: { type: 'boolean', default: false },
  },
});
const floorName = values.scenario === 'cached-read' ? 'redis-floor' : 'pg-floor';

interface Figure {
  mode: string;
  cache: string;
  rateLimit: string;
  metrics: string;
  path: string;
  requestsPerSecond: number;
  /** Against the /healthz floor wuzctl bench measured on the same daemon. */
  ratioToFloor: number | null;
  /** With --floor: against the scenario's floor (redis-floor or pg-floor), measured in the same run. */
  ratioToScenarioFloor?: number | null;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
}

async function run(
  mode: string,
  baseEnv: Env,
  cache: string,
  rateLimit: string,
  metrics: string,
): Promise<Figure> {
  // With the limiter on, every request is counted in Redis but none is refused: its cost alone.
  const env =
    rateLimit === 'on' ? { ...baseEnv, RATE_LIMIT_FREE: '10000000', RATE_LIMIT_PRO: '10000000' } : baseEnv;
  return withTempDir(async (dir) => {
    const served = await serve(dir, env, [
      '--api-workers',
      values['api-workers'] as string,
      '--cache',
      cache,
      '--rate-limit',
      rateLimit,
      '--metrics',
      metrics,
    ]);
    try {
      const seedText = await cli(['seed', '--demo', '--tenants', '3', '--json', '--data-dir', dir], env);
      // wuzctl bench does the measuring: this script only varies the daemon's settings.
      const tokens = path.join(dir, 'tokens.json');
      await writeFile(tokens, seedText);
      const report = JSON.parse(
        await cli(
          [
            'bench',
            ...(values.floor ? [floorName] : []),
            scenario,
            // The data dir finds the daemon and, for pg-floor, its database.
            '--data-dir',
            dir,
            '--tokens',
            tokens,
            '--connections',
            values.connections as string,
            '--duration',
            `${values.duration}s`,
            '--warmup',
            '0s',
            '--json',
          ],
          env,
        ),
      ) as BenchReport;
      const result = report.results.find((r) => r.scenario === scenario) as BenchReport['results'][number];
      return {
        mode,
        cache,
        rateLimit,
        metrics,
        path: scenario,
        requestsPerSecond: result.requestsPerSecond,
        ratioToFloor: result.ratioToFloor,
        ...(values.floor && {
          ratioToScenarioFloor:
            floorName === 'redis-floor' ? result.ratioToRedisFloor : result.ratioToPgFloor,
        }),
        p50Ms: result.latencyMs.p50,
        p99Ms: result.latencyMs.p99,
        non2xx: Object.values(result.non2xx).reduce((a, b) => a + b, 0),
        errors: result.errors,
        total: result.requests,
      };
    } finally {
      await served.stop();
    }
  });
}

const scenario = values.scenario as string;
const both = (value: string) => (value === 'both' ? ['on', 'off'] : [value]);
const figures: Figure[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const cache of both(values.cache as string)) {
    for (const rateLimit of both(values['rate-limit'] as string)) {
      for (const metrics of both(values.metrics as string)) {
        if (values.mode !== 'external')
          figures.push(await run('embedded (PGlite)', embeddedEnv(), cache, rateLimit, metrics));
        if (values.mode !== 'embedded') {
          figures.push(
            await withExternalServices((env) => run('external PostgreSQL', env, cache, rateLimit, metrics)),
          );
        }
      }
    }
  }
}

/** With --metrics both: the middleware's cost, median req/s with it against without it. */
function metricsOverhead() {
  if (values.metrics !== 'both') return null;
  const rps = (metrics: string) =>
    median(figures.filter((f) => f.metrics === metrics).map((f) => f.requestsPerSecond));
  const on = rps('on');
  const off = rps('off');
  return { medianOn: on, medianOff: off, overheadPercent: Math.round(((off - on) / off) * 1000) / 10 };
}
const overhead = metricsOverhead();

if (values.json)
  console.log(JSON.stringify(overhead ? { figures, metricsOverhead: overhead } : figures, null, 2));
else {
  for (const f of figures) {
    console.log(
      `${f.mode}, cache ${f.cache}, rate limit ${f.rateLimit}, metrics ${f.metrics}: ${f.path} — ${f.requestsPerSecond} req/s (${f.ratioToFloor}× /healthz${f.ratioToScenarioFloor != null ? `, ${f.ratioToScenarioFloor}× ${floorName}` : ''}), p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms ` +
        `(${f.total} requests, ${f.non2xx} non-2xx, ${f.errors} errors; ${values.connections} connections, ${values.duration} s, ${values['api-workers']} api workers)`,
    );
  }
  if (overhead) {
    console.log(
      `metrics middleware: ${overhead.medianOn} req/s with, ${overhead.medianOff} without (medians of ${values.rounds} rounds) — ` +
        `overhead ${overhead.overheadPercent}% (budget < 5%)`,
    );
  }
}
if (figures.some((f) => f.non2xx > 0 || f.errors > 0)) process.exitCode = 1;
