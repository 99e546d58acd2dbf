/**
 * What tracing costs (docs/OBSERVABILITY.md, "Tracing overhead"):
 *   npm run bench:tracing                      (3 rounds, 10 s per run, 20 connections)
 *   npm run bench:tracing -- --rounds 1 --duration 5 --json
 * Three daemons per round, interleaved — tracing off, on at the default sampling ratio,
 * on at 1.0 — each driven on a cached GET (/api/session/agents) and a list GET
 * (/api/contacts), plus each one's start-up time to ready. Spans go to a local OTLP/HTTP
 * endpoint that reads and discards them: the figures are the daemon's cost, not a
 * collector's (a decoding receiver on the same two cores would take CPU from the daemon).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { DEFAULT_RATIO } from '../src/daemon/tracing/sampler.ts';
import { cli, type Env, embeddedEnv, median, serve, withTempDir } from './lib.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});

const PATHS = { cached: '/api/session/agents', list: '/api/contacts?limit=50' } as const;
type Setting = 'off' | 'default' | 'full';
const SETTINGS: Setting[] = ['off', 'default', 'full'];

interface Run {
  setting: Setting;
  startupMs: number;
  spansBytes: number;
  paths: Record<keyof typeof PATHS, { requestsPerSecond: number; p99Ms: number; non2xx: number }>;
}

/** An OTLP/HTTP endpoint that answers every export with success and keeps nothing. */
async function discardingCollector(): Promise<{ url: string; bytes(): number; close(): Promise<void> }> {
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bytes: () => bytes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function envFor(setting: Setting, collector: string): Env {
  const env = embeddedEnv();
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  delete env.OTEL_TRACES_SAMPLER;
  delete env.OTEL_TRACES_SAMPLER_ARG;
  if (setting === 'off') return env;
  return {
    ...env,
    OTEL_EXPORTER_OTLP_ENDPOINT: collector,
    ...(setting === 'full' ? { OTEL_TRACES_SAMPLER_ARG: '1' } : {}),
  };
}

async function run(setting: Setting): Promise<Run> {
  const collector = await discardingCollector();
  try {
    return await withTempDir(async (dir) => {
      const env = envFor(setting, collector.url);
      const began = performance.now();
      const served = await serve(dir, env, ['--api-workers', '2', '--rate-limit', 'off']);
      const startupMs = Math.round(performance.now() - began);
      try {
        const seeded = JSON.parse(
          await cli(['seed', '--demo', '--tenants', '3', '--json', '--data-dir', dir], env),
        );
        const token = seeded.tenants[1].admin_token as string;
        const paths = {} as Run['paths'];
        for (const [name, path] of Object.entries(PATHS) as [keyof typeof PATHS, string][]) {
          const result = await autocannon({
            url: `${served.url}${path}`,
            headers: { authorization: `Bearer ${token}` },
            connections: Number(values.connections),
            duration: Number(values.duration),
            excludeErrorStats: true,
          });
          paths[name] = {
            requestsPerSecond: Math.round(result.requests.average),
            p99Ms: result.latency.p99,
            non2xx: result.non2xx,
          };
        }
        return { setting, startupMs, spansBytes: collector.bytes(), paths };
      } finally {
        await served.stop();
      }
    });
  } finally {
    await collector.close();
  }
}

const runs: Run[] = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const setting of SETTINGS) {
    const result = await run(setting);
    runs.push(result);
    if (!values.json) {
      const { cached, list } = result.paths;
      console.error(
        `round ${round} ${setting}: ready in ${result.startupMs} ms; cached ${cached.requestsPerSecond} req/s p99 ${cached.p99Ms} ms; list ${list.requestsPerSecond} req/s p99 ${list.p99Ms} ms; ${Math.round(result.spansBytes / 1024)} KiB of spans`,
      );
    }
  }
}

const summary = Object.fromEntries(
  SETTINGS.map((setting) => {
    const mine = runs.filter((r) => r.setting === setting);
    const of = (path: keyof typeof PATHS) => ({
      requestsPerSecond: median(mine.map((r) => r.paths[path].requestsPerSecond)),
      p99Ms: median(mine.map((r) => r.paths[path].p99Ms)),
    });
    return [
      setting,
      { startupMs: median(mine.map((r) => r.startupMs)), cached: of('cached'), list: of('list') },
    ];
  }),
) as Record<
  Setting,
  {
    startupMs: number;
    cached: { requestsPerSecond: number; p99Ms: number };
    list: { requestsPerSecond: number; p99Ms: number };
  }
>;
const loss = (setting: Setting, path: 'cached' | 'list') =>
  Math.round(
    ((summary.off[path].requestsPerSecond - summary[setting][path].requestsPerSecond) /
      summary.off[path].requestsPerSecond) *
      1000,
  ) / 10;
const overhead = {
  defaultRatio: DEFAULT_RATIO,
  cachedLossPercentAtDefault: loss('default', 'cached'),
  cachedLossPercentAtFull: loss('full', 'cached'),
  listLossPercentAtDefault: loss('default', 'list'),
  listLossPercentAtFull: loss('full', 'list'),
  budgetPercent: 10,
};

if (values.json) console.log(JSON.stringify({ runs, summary, overhead }, null, 2));
else {
  for (const setting of SETTINGS) {
    const s = summary[setting];
    const label =
      setting === 'off' ? 'off' : setting === 'default' ? `on, ratio ${DEFAULT_RATIO}` : 'on, ratio 1.0';
    console.log(
      `tracing ${label}: ready in ${s.startupMs} ms; cached GET ${s.cached.requestsPerSecond} req/s, p99 ${s.cached.p99Ms} ms; list GET ${s.list.requestsPerSecond} req/s, p99 ${s.list.p99Ms} ms`,
    );
  }
  console.log(
    `cached GET: ${overhead.cachedLossPercentAtDefault}% fewer req/s at the default ratio (budget ≤ 10%), ${overhead.cachedLossPercentAtFull}% at 1.0; ` +
      `list GET: ${overhead.listLossPercentAtDefault}% and ${overhead.listLossPercentAtFull}% (medians of ${values.rounds} rounds)`,
  );
}
if (runs.some((r) => r.paths.cached.non2xx > 0 || r.paths.list.non2xx > 0)) {
  console.error('some requests were not answered 2xx: the figures are not comparable');
  process.exitCode = 1;
}
