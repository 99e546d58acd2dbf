import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { DemoTenant } from '../../src/daemon/db/seed/demo.ts';
import type { DaemonStatus } from '../../src/daemon/supervisor/supervisor.ts';

/** Absolute path of the CLI entry point, run from source with the test's own Node (24). */
export const cliPath = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

const URL_PATTERN = /http:\/\/127\.0\.0\.1:(\d+)/;
const READY_TIMEOUT_MS = 30_000;

type Env = Record<string, string | undefined>;

/**
 * The environment a child gets: process.env merged with `env`, where an `undefined`
 * value removes the variable (so `{ REDIS_URL: undefined }` forces embedded mode).
 */
export function childEnv(env: Env = {}): Record<string, string> {
  const merged: Env = { ...process.env, LOG_LEVEL: 'warn', ...env };
  // A TTY-less child never colours, but be explicit so assertions on plain text hold.
  merged.NO_COLOR = '1';
  // Do not let a developer's WUZ_* settings leak into the tests unless asked for.
  for (const key of Object.keys(merged)) {
    const own = /^(WUZ_|OTEL_|ALERT_|SMTP_)/.test(key);
    if (own && !(key in env)) delete merged[key];
  }
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return merged as Record<string, string>;
}

/** The environment of embedded mode: no REDIS_URL / DATABASE_URL. */
export const embeddedEnv: Env = { REDIS_URL: undefined, DATABASE_URL: undefined };

// ---------------------------------------------------------------------------------------
// Temporary data dirs

const tempDirs = new Set<string>();

/** A fresh data dir with a short path (the control socket path must stay under ~100 chars). */
export async function tempDataDir(): Promise<string> {
  const base = os.tmpdir().length > 40 ? '/tmp' : os.tmpdir();
  const dir = await mkdtemp(path.join(base, 'wz-'));
  tempDirs.add(dir);
  return dir;
}

async function removeTempDirs(): Promise<void> {
  for (const dir of tempDirs) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    tempDirs.delete(dir);
  }
}

// ---------------------------------------------------------------------------------------
// Process helpers

/** True when no process has this pid any more (kill(pid, 0) throws ESRCH). */
export function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Polls `predicate` until it returns a truthy value, which is returned; throws after timeoutMs. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 10_000,
  message = 'condition',
): Promise<NonNullable<T>> {
  const began = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - began > timeoutMs) {
      const detail = lastError ? ` (last error: ${(lastError as Error).message ?? lastError})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${detail}`);
    }
    await sleep(100);
  }
}

export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs one `wuzctl` command to completion; never throws on a non-zero exit. */
export async function wuzctl(
  args: string[],
  opts: { env?: Env; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  const result = await execa(process.execPath, [cliPath, ...args], {
    env: childEnv(opts.env),
    extendEnv: false,
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    cwd: opts.cwd,
    stdin: 'ignore',
  });
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
}

/** A demo tenant as the seed prints it; at least two user tokens (TOKEN_HOLDERS in db/seed/demo.ts). */
export type SeededTenant = Pick<DemoTenant, 'slug' | 'plan' | 'admin_token'> & {
  user_tokens: [string, string, ...string[]];
};

/** `wuzctl seed --demo` into a daemon's data: its tenants with their tokens; throws with stderr on failure. */
export async function seedDemo(
  dataDir: string,
  tenants: number,
  env: Env = embeddedEnv,
): Promise<SeededTenant[]> {
  const args = ['seed', '--demo', '--tenants', String(tenants), '--json', '--data-dir', dataDir];
  const result = await wuzctl(args, { env });
  if (result.exitCode !== 0) throw new Error(`wuzctl seed failed (${result.exitCode}): ${result.stderr}`);
  return JSON.parse(result.stdout).tenants as SeededTenant[];
}

// The daemon's own types: a field the status gains or renames reaches the tests at once.
export type { ChildStatus } from '../../src/daemon/supervisor/children.ts';
export type { DaemonStatus } from '../../src/daemon/supervisor/supervisor.ts';

/** `wuzctl status --json` parsed; throws with the CLI's stderr when it fails. */
export async function statusJson(dataDir: string): Promise<DaemonStatus> {
  const result = await wuzctl(['status', '--data-dir', dataDir, '--json'], { timeoutMs: 20_000 });
  if (result.exitCode !== 0) {
    throw new Error(`wuzctl status exited ${result.exitCode}: ${result.stderr || result.stdout}`);
  }
  return JSON.parse(result.stdout) as DaemonStatus;
}

/** Every pid a status names: supervisor, children and the managed redis-server. */
export function pidsOf(status: DaemonStatus): number[] {
  return [
    status.pid,
    ...status.children.map((c) => c.pid).filter((p): p is number => typeof p === 'number'),
    ...(status.redis.pid ? [status.redis.pid] : []),
  ];
}

// ---------------------------------------------------------------------------------------
// Daemons

export interface Daemon {
  url: string;
  port: number;
  dataDir: string;
  process: ResultPromise;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Sends SIGTERM and waits for the exit; resolves with the exit code (null if signalled). */
  stop(): Promise<number | null | undefined>;
}

interface Tracked {
  daemon: Daemon;
  /** Pids seen in status (children, redis), killed as a last resort at cleanup. */
  knownPids: Set<number>;
}

const tracked = new Set<Tracked>();

/** Records every pid of a status so cleanup can kill leftovers even if the supervisor is gone. */
export function remember(daemon: Daemon, status: DaemonStatus): void {
  for (const entry of tracked) {
    if (entry.daemon === daemon) for (const pid of pidsOf(status)) entry.knownPids.add(pid);
  }
}

export interface StartOptions {
  args?: string[];
  env?: Env;
  dataDir?: string;
  apiWorkers?: number;
  queueWorkers?: number;
  readyTimeoutMs?: number;
  /** Another CLI entry (a copy of the code: ScratchRelease) instead of this checkout's. */
  entry?: string;
}

/** Starts `wuzctl serve` in the foreground and resolves once its banner shows the URL. */
export async function startDaemon(options: StartOptions = {}): Promise<Daemon> {
  const dataDir = options.dataDir ?? (await tempDataDir());
  const args = [
    options.entry ?? cliPath,
    'serve',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--api-workers',
    String(options.apiWorkers ?? 2),
    '--queue-workers',
    String(options.queueWorkers ?? 1),
    ...(options.args ?? []),
  ];
  const subprocess = execa(process.execPath, args, {
    env: childEnv(options.env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    buffer: false,
  });
  let out = '';
  let err = '';
  subprocess.stdout?.setEncoding('utf8');
  subprocess.stderr?.setEncoding('utf8');
  subprocess.stdout?.on('data', (chunk: string) => {
    out += chunk;
  });
  subprocess.stderr?.on('data', (chunk: string) => {
    err += chunk;
  });

  let exited = false;
  let exitCode: number | null | undefined;
  const done = subprocess.then((result) => {
    exited = true;
    exitCode = result.exitCode ?? null;
    return exitCode;
  });

  const daemon: Daemon = {
    url: '',
    port: 0,
    dataDir,
    process: subprocess,
    pid: subprocess.pid ?? 0,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (!exited) subprocess.kill('SIGTERM');
      const timer = setTimeout(() => subprocess.kill('SIGKILL'), 30_000);
      try {
        return await done;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  const entry: Tracked = { daemon, knownPids: new Set(daemon.pid ? [daemon.pid] : []) };
  tracked.add(entry);

  const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
  const began = Date.now();
  while (!URL_PATTERN.test(out)) {
    if (exited) {
      throw new Error(
        `wuzctl serve exited (code ${exitCode}) before it was ready\n--- stdout\n${out}\n--- stderr\n${err}`,
      );
    }
    if (Date.now() - began > timeoutMs) {
      throw new Error(
        `wuzctl serve was not ready within ${timeoutMs} ms\n--- stdout\n${out}\n--- stderr\n${err}`,
      );
    }
    await sleep(50);
  }
  const match = URL_PATTERN.exec(out) as RegExpExecArray;
  daemon.port = Number(match[1]);
  daemon.url = `http://127.0.0.1:${daemon.port}`;
  // Remember the children and redis now, so cleanup can reach them whatever happens next.
  await statusJson(dataDir)
    .then((status) => remember(daemon, status))
    .catch(() => {});
  return daemon;
}

/** Remembers the data dir of a daemon started with `--detach`, so cleanup stops it. */
const detachedDirs = new Set<string>();
export function trackDetached(dataDir: string): void {
  detachedDirs.add(dataDir);
}

/**
 * Stops every daemon started by this file: SIGTERM first, SIGKILL after a grace period,
 * then SIGKILL for any child or redis-server pid seen in a status. Call it in afterAll/afterEach.
 */
export async function cleanupDaemons(): Promise<void> {
  for (const dir of detachedDirs) {
    const status = await statusJson(dir).catch(() => null);
    if (status) {
      await wuzctl(['stop', '--data-dir', dir, '--timeout', '20'], { timeoutMs: 30_000 });
      for (const pid of pidsOf(status)) if (!pidGone(pid)) safeKill(pid, 'SIGKILL');
    }
    detachedDirs.delete(dir);
  }
  for (const entry of tracked) {
    const { daemon } = entry;
    const status = await statusJson(daemon.dataDir).catch(() => null);
    if (status && status.pid === daemon.pid) for (const pid of pidsOf(status)) entry.knownPids.add(pid);
    const stopped = daemon.stop();
    const settled = await Promise.race([stopped.then(() => true), sleep(20_000).then(() => false)]);
    if (!settled) daemon.process.kill('SIGKILL');
    for (const pid of entry.knownPids) if (!pidGone(pid)) safeKill(pid, 'SIGKILL');
    tracked.delete(entry);
  }
  await removeTempDirs();
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** GET a URL and parse the JSON body. */
export async function getJson(url: string): Promise<{ status: number; body: unknown; contentType: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: response.status, body, contentType: response.headers.get('content-type') ?? '' };
}

/** A password the daemon generated for its embedded Redis or database (`<data-dir>/secrets/`). */
export async function embeddedPassword(dataDir: string, service: 'redis' | 'database'): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return (await readFile(path.join(dataDir, 'secrets', `${service}.password`), 'utf8')).trim();
}

/** A connection URL of the daemon's embedded database, password included. */
export async function embeddedDatabaseUrl(dataDir: string, address: string): Promise<string> {
  return `postgres://postgres:${encodeURIComponent(await embeddedPassword(dataDir, 'database'))}@${address}`;
}
