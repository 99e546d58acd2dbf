/**
 * Memory of an embedded `wuzctl serve`, per process, at four moments: at "ready", idle,
 * right after a load, and idle again after it (does the memory come back?):
 *   npm run bench:memory
 *   npm run bench:memory -- --load 60s --idle 40s --connections 50 --json
 *   npm run bench:memory -- --dist          (dist/, as `npx wuzctl serve` runs it)
 * The load is `wuzctl bench mixed` against the daemon, with limits too high to reach (its
 * tenants' requests are all served, none refused). "Idle" waits long enough for every
 * process's idle collector to have seen two quiet looks in a row (memory/idleCollector.ts:
 * every 10 s ± 25 %).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchReport } from '../src/cli/commands/bench.ts';
import {
  cli,
  durationOption,
  option,
  rssOf,
  seedDemo,
  serve,
  statusOf,
  unlimitedEnv,
  withTempDir,
} from './lib.ts';

const load = `${durationOption('--load', '60s') / 1000}s`;
const idleMs = durationOption('--idle', '40s');
const connections = option('--connections', '50');
const json = process.argv.includes('--json');
const apiWorkers = 2;

type Moment = 'ready' | 'idle' | 'after load' | 'idle after load';
const MOMENTS: Moment[] = ['ready', 'idle', 'after load', 'idle after load'];

/** RSS by process: the supervisor (with PGlite in it), each worker, redis-server. */
async function snapshot(dataDir: string, env: Record<string, string | undefined>) {
  const status = await statusOf(dataDir, env);
  const rss: Record<string, number | null> = { supervisor: status.rssBytes };
  for (const child of status.children) rss[`${child.role}#${child.index}`] = child.rssBytes;
  if (status.redis.pid) rss['redis-server'] = await rssOf(status.redis.pid);
  return rss;
}

const idle = () => new Promise((resolve) => setTimeout(resolve, idleMs));
const progress = (text: string) => json || process.stderr.write(`${text}\n`);

const result = await withTempDir(async (dir) => {
  const env = unlimitedEnv();
  const served = await serve(dir, env, ['--api-workers', String(apiWorkers)]);
  try {
    const rss: Partial<Record<Moment, Record<string, number | null>>> = {};
    rss.ready = await snapshot(dir, env);
    progress(`ready; idle ${idleMs / 1000} s…`);
    await idle();
    rss.idle = await snapshot(dir, env);
    const tokens = path.join(dir, 'tokens.json');
    await writeFile(tokens, (await seedDemo(dir, env)).json, { mode: 0o600 });
    progress(`load: wuzctl bench mixed for ${load} at ${connections} connections…`);
    const bench = JSON.parse(
      await cli(
        ['bench', 'mixed', '--url', served.url, '--tokens', tokens, '--data-dir', dir].concat([
          '--duration',
          load,
          '--connections',
          connections,
          '--json',
        ]),
        env,
      ),
    ) as BenchReport;
    rss['after load'] = await snapshot(dir, env);
    progress(`idle ${idleMs / 1000} s…`);
    await idle();
    rss['idle after load'] = await snapshot(dir, env);
    const mixed = bench.results.find((r) => r.scenario === 'mixed');
    return { load, connections: Number(connections), mixedRequestsPerSecond: mixed?.requestsPerSecond, rss };
  } finally {
    await served.stop();
  }
});

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const mb = (bytes: number | null | undefined) =>
    bytes == null ? '-' : `${(bytes / 1048576).toFixed(0)} MB`;
  console.log(
    `RSS by process (embedded, ${apiWorkers} API workers; load: bench mixed ${result.load} at ${result.connections} connections, ${Math.round(result.mixedRequestsPerSecond ?? 0)} req/s)`,
  );
  console.log(`  ${'process'.padEnd(14)}${MOMENTS.map((m) => m.padStart(17)).join('')}`);
  for (const process of Object.keys(result.rss.ready ?? {})) {
    console.log(
      `  ${process.padEnd(14)}${MOMENTS.map((m) => mb(result.rss[m]?.[process]).padStart(17)).join('')}`,
    );
  }
}
