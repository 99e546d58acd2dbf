/**
 * Time-to-ready and memory of `wuzctl serve`, embedded and external:
 *   npm run bench                 (all modes)
 *   npm run bench -- --json
 * External mode uses REDIS_URL (default redis://127.0.0.1:6379/14) and a PostgreSQL
 * database it creates and drops (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import { type Env, embeddedEnv, rssOf, serve, statusOf, withExternalServices, withTempDir } from './lib.ts';

const json = process.argv.includes('--json');
const apiWorkers = 2;

async function measure(label: string, dataDir: string, env: Env) {
  const began = performance.now();
  const served = await serve(dataDir, env, ['--api-workers', String(apiWorkers)]);
  const readyMs = performance.now() - began;
  const status = await statusOf(dataDir, env);
  const processes = [
    { process: 'supervisor', rss: status.rssBytes },
    ...status.children.map((c) => ({ process: `${c.role}#${c.index}`, rss: c.rssBytes })),
    ...(status.redis.pid ? [{ process: 'redis-server', rss: await rssOf(status.redis.pid) }] : []),
  ];
  const stopMs = await served.stop();
  return { mode: label, readyMs: Math.round(readyMs), stopMs: Math.round(stopMs), processes };
}

const results: Awaited<ReturnType<typeof measure>>[] = [];
await withTempDir(async (dir) => {
  results.push(await measure('embedded (first start, creates the database)', dir, embeddedEnv()));
  results.push(await measure('embedded (restart, existing data dir)', dir, embeddedEnv()));
});
await withExternalServices((env) =>
  withTempDir(async (dir) => {
    results.push(await measure('external (REDIS_URL + DATABASE_URL)', dir, env));
  }),
);

if (json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const mb = (bytes: number | null) => (bytes === null ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
  for (const r of results) {
    console.log(
      `${r.mode}: ready in ${r.readyMs} ms, stopped in ${r.stopMs} ms (${apiWorkers} api + 1 queue workers)`,
    );
    for (const p of r.processes) console.log(`  ${p.process.padEnd(14)} ${mb(p.rss)}`);
  }
}
