/** What every benchmark needs: a real `wuzctl serve`, the CLI, and a throwaway external database. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import pg from 'pg';
import { UNREACHABLE_LIMITS } from '../src/cli/bench/limits.ts';
import type { PlannedRequest } from '../src/cli/bench/mixed.ts';
import { runBench } from '../src/cli/bench/run.ts';
import { SCENARIOS, type Scenario } from '../src/cli/bench/scenarios.ts';
import { parseDuration } from '../src/cli/duration.ts';
import type { GateContext } from '../src/cli/verify/gate.ts';
import type { DaemonStatus } from '../src/daemon/supervisor/supervisor.ts';

/**
 * The CLI the benchmarks run: the sources, or with `--dist` what `npx wuzctl` runs (dist/,
 * built by `npm run build`; V8's compile cache applies to it, not to type-stripped sources).
 */
export const main = fileURLToPath(
  new URL(process.argv.includes('--dist') ? '../dist/cli/main.js' : '../src/cli/main.ts', import.meta.url),
);

export type Env = Record<string, string | undefined>;

/** `--name value` on the script's command line, else `fallback`. */
export function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}

/** Refuses a script's bad argument the way the CLI does: the error, a hint, exit 2. */
function refuse(message: string, hint: string): never {
  console.error(`error: ${message}\nhint: ${hint}`);
  process.exit(2);
}

/** `--name 30s` (the CLI's durations: ms, s, m, h…) in milliseconds. */
export function durationOption(name: string, fallback: string): number {
  const text = option(name, fallback);
  const ms = parseDuration(text);
  if (ms === null || ms <= 0)
    refuse(`${name} ${JSON.stringify(text)} is not a duration`, `e.g. ${name} ${fallback}`);
  return ms;
}

/** `--name 50`: a whole number ≥ 1. */
export function countOption(name: string, fallback: string): number {
  const text = option(name, fallback);
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1)
    refuse(`${name} ${JSON.stringify(text)} is not a whole number ≥ 1`, `e.g. ${name} ${fallback}`);
  return count;
}

/** The scenario named by the script's first bare argument (the campaign has no request list). */
export function scenarioArgument(fallback: string): Scenario {
  const name =
    process.argv.slice(2).find((arg, i, all) => !arg.startsWith('--') && !all[i - 1]?.startsWith('--')) ??
    fallback;
  const usable = SCENARIOS.filter((s) => s.name !== 'campaign');
  const scenario = usable.find((s) => s.name === name);
  if (!scenario)
    refuse(`no scenario ${JSON.stringify(name)}`, `one of ${usable.map((s) => s.name).join(', ')}`);
  return scenario;
}

/** Embedded mode with the tenant limits too high to reach: every request served, none refused. */
export function unlimitedEnv(): Env {
  return { ...embeddedEnv(), ...UNREACHABLE_LIMITS };
}

/** Seeds the demo tenants; their tokens, and the CLI's JSON as it printed it. */
export async function seedDemo(
  dataDir: string,
  env: Env,
): Promise<{ tenants: GateContext['tenants']; json: string }> {
  const json = await cli(['seed', '--demo', '--json', '--data-dir', dataDir], env);
  return { tenants: (JSON.parse(json) as { tenants: GateContext['tenants'] }).tenants, json };
}

/** A process's resident memory (bytes) from /proc; null when it is gone or not Linux. */
export async function rssOf(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : null;
}

/** The caller's environment without REDIS_URL / DATABASE_URL: embedded mode. */
export function embeddedEnv(): Env {
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  return env;
}

export interface Served {
  url: string;
  daemon: ResultPromise;
  stop(): Promise<number>;
}

/** Starts `wuzctl serve` on a free port and resolves once its banner says it is ready. */
export async function serve(dataDir: string, env: Env, args: string[] = []): Promise<Served> {
  const daemon = execa(process.execPath, [main, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
    env: { ...env, LOG_LEVEL: 'warn' },
    extendEnv: false,
    reject: false,
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    daemon.stdout?.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /http:\/\/[\d.]+:\d+/.exec(out);
      if (match && /ready in/.test(out)) resolve(match[0]);
    });
    void daemon.then((r) => reject(new Error(`daemon exited (${r.exitCode}): ${r.stderr}`)));
  });
  return {
    url,
    daemon,
    async stop() {
      const began = performance.now();
      await execa(process.execPath, [main, 'stop', '--data-dir', dataDir], { env });
      await daemon;
      return performance.now() - began;
    },
  };
}

export async function cli(args: string[], env: Env): Promise<string> {
  const { stdout } = await execa(process.execPath, [main, ...args], { env, extendEnv: false });
  return stdout;
}

export async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wuzb-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * External mode: REDIS_URL (default db 14 of the local Redis) and a PostgreSQL database
 * created for the run and dropped after it (BENCH_PG_URL names the maintenance database).
 */
export async function withExternalServices<T>(work: (env: Env) => Promise<T>): Promise<T> {
  const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const database = `wuzctl_bench_${process.pid}_${Date.now() % 100000}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    return await work({
      ...embeddedEnv(),
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/14',
      DATABASE_URL: url.toString(),
    });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

/** The daemon's services: the machine's with `external` (a database of its own, dropped after), else embedded. */
export function withServices<T>(external: boolean, work: (env: Env) => Promise<T>): Promise<T> {
  return external ? withExternalServices(work) : work(embeddedEnv());
}

/** `wuzctl status --json` of the daemon in `dataDir`. */
export async function statusOf(dataDir: string, env: Env): Promise<DaemonStatus> {
  return JSON.parse(await cli(['status', '--json', '--data-dir', dataDir], env)) as DaemonStatus;
}

/** Unmeasured load first (3 s): the caches fill and V8 optimizes what the load runs. */
export async function warmUp(
  url: string,
  scenario: Scenario,
  requests: PlannedRequest[],
  connections: number,
) {
  process.stderr.write(`warming up (${scenario.name}, 3 s)…\n`);
  await runBench(url, scenario.name, requests, { connections, durationSeconds: 3, warmupSeconds: 0 });
}

/** The middle value (the mean of the two middle ones for an even count): runs on a 2-core box are noisy. */
export function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
