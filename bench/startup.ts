/**
 * Time-to-ready and memory of `wuzctl serve`, embedded and external:
 *   npm run bench                 (all modes)
 *   npm run bench -- --json
 * External mode uses REDIS_URL (default redis://127.0.0.1:6379/14) and a PostgreSQL
 * database it creates and drops (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import pg from 'pg';
import type { DaemonStatus } from '../src/daemon/supervisor/supervisor.ts';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const json = process.argv.includes('--json');
const apiWorkers = 2;

async function rssOf(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : null;
}

async function measure(label: string, dataDir: string, env: Record<string, string | undefined>) {
  const began = performance.now();
  const daemon = execa(
    process.execPath,
    [main, 'serve', '--port', '0', '--data-dir', dataDir, '--api-workers', String(apiWorkers)],
    {
      env: { ...env, LOG_LEVEL: 'warn' },
      extendEnv: false,
      reject: false,
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    daemon.stdout?.on('data', (chunk: Buffer) => {
      out += chunk;
      if (/ready in/.test(out)) resolve();
    });
    void daemon.then((r) => reject(new Error(`${label}: daemon exited (${r.exitCode}): ${r.stderr}`)));
  });
  const readyMs = performance.now() - began;
  const status = JSON.parse(
    (await execa(process.execPath, [main, 'status', '--json', '--data-dir', dataDir], { env })).stdout,
  ) as DaemonStatus;
  const processes = [
    { process: 'supervisor', rss: status.rssBytes },
    ...status.children.map((c) => ({ process: `${c.role}#${c.index}`, rss: c.rssBytes })),
    ...(status.redis.pid ? [{ process: 'redis-server', rss: await rssOf(status.redis.pid) }] : []),
  ];
  const stopBegan = performance.now();
  await execa(process.execPath, [main, 'stop', '--data-dir', dataDir], { env });
  const stopMs = performance.now() - stopBegan;
  await daemon;
  return { mode: label, readyMs: Math.round(readyMs), stopMs: Math.round(stopMs), processes };
}

const baseEnv = { ...process.env };
delete baseEnv.REDIS_URL;
delete baseEnv.DATABASE_URL;
const results = [];

const dir = await mkdtemp(path.join(os.tmpdir(), 'wuzb-'));
try {
  results.push(await measure('embedded (first start, creates the database)', dir, baseEnv));
  results.push(await measure('embedded (restart, existing data dir)', dir, baseEnv));
} finally {
  await rm(dir, { recursive: true, force: true });
}

const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const database = `wuzctl_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const externalDir = await mkdtemp(path.join(os.tmpdir(), 'wuzb-'));
try {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  results.push(
    await measure('external (REDIS_URL + DATABASE_URL)', externalDir, {
      ...baseEnv,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/14',
      DATABASE_URL: url.toString(),
    }),
  );
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  await rm(externalDir, { recursive: true, force: true });
}

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
