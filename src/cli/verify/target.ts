import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { seedDemo } from '../../daemon/db/seed/demo.ts';
import { modulePath } from '../../paths.ts';
import { DaemonClient } from '../client.ts';
import { forgetCachedTokens, withDatabase } from '../database.ts';
import { CliError, exitCodes } from '../output.ts';
import type { GateContext } from './gate.ts';

/** The daemon the gates run against, with its demo data; close() undoes what we started. */
export interface Target {
  url: string;
  /** An ephemeral daemon's data dir and pid (unset for one we attached to). */
  dataDir?: string;
  pid?: number;
  metricsUrl: string;
  tenants: GateContext['tenants'];
  cacheCounters: GateContext['cacheCounters'];
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 90_000;

/** A setting as progress shows it: passwords in URLs, tokens and keys masked (logs keep CI output). */
function shownValue(key: string, value: string): string {
  if (/TOKEN|PASSWORD|SECRET|_KEY/.test(key)) return '***';
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    // A webhook's path is its token.
    if (key.includes('WEBHOOK')) return `${url.protocol}//${url.host}/…`;
    return url.password || url.username ? url.href : value;
  } catch {
    return value;
  }
}

/**
 * A daemon of our own: free port, temporary data dir, the environment's REDIS_URL and
 * DATABASE_URL when set (else the embedded defaults). Stopped and removed by close().
 */
export async function startEphemeral(
  tenants: number,
  progress: (line: string) => void,
  extraEnv: Record<string, string> = {},
  /**
   * `dataDir`: run in this one, which close() leaves in place (a restart of the same
   * daemon); `args`: more serve flags; `entry`: another copy of the CLI (ScratchRelease).
   */
  options: { dataDir?: string; args?: string[]; entry?: string } = {},
): Promise<Target> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'wuzctl-verify-')));
  const settings = Object.entries(extraEnv).map(([k, v]) => `${k}=${shownValue(k, v)}`);
  progress(`starting an ephemeral daemon in ${dataDir}${settings.length ? ` (${settings.join(' ')})` : ''}`);
  const child = spawn(
    process.execPath,
    [
      options.entry ?? modulePath('cli/main'),
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...extraEnv } },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => {
    running = false;
  });
  const client = new DaemonClient(dataDir);
  const cleanup = async () => {
    if (running) {
      await client.stop().catch(() => child.kill('SIGTERM'));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const { url, metricsUrl } = await waitReady(
      client,
      () => running,
      () => stderr,
    );
    progress(`daemon ready at ${url}${tenants ? `; seeding ${tenants} demo tenants` : ''}`);
    const demo = tenants ? await seed(dataDir, tenants, progress) : [];
    return {
      url,
      dataDir,
      pid: child.pid,
      metricsUrl: metricsUrl ?? `${url}/metrics`,
      tenants: demo,
      cacheCounters: async () => (await client.status()).cache,
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function waitReady(
  client: DaemonClient,
  running: () => boolean,
  stderr: () => string,
): Promise<{ url: string; metricsUrl: string | null }> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!running()) {
      throw new CliError(
        `the ephemeral daemon exited before it was ready: ${stderr().trim().split('\n').slice(-3).join(' | ')}`,
        exitCodes.usage,
      );
    }
    const status = await client.status().catch(() => null);
    if (status?.state === 'ready') return { url: status.url, metricsUrl: status.metricsUrl };
    await sleep(200);
  }
  throw new CliError(
    `the ephemeral daemon was not ready within ${READY_TIMEOUT_MS / 1000} s`,
    exitCodes.usage,
  );
}

async function seed(dataDir: string | undefined, tenants: number, progress: (line: string) => void) {
  const demo = await withDatabase(dataDir, (pool, box) => seedDemo(pool, box, tenants, progress));
  await forgetCachedTokens(
    dataDir,
    demo.flatMap((tenant) => tenant.revoked),
  );
  return demo.map(({ slug, plan, admin_token, user_tokens }) => ({ slug, plan, admin_token, user_tokens }));
}

/** A --url that is not one is refused before any gate runs (some run long without a daemon). */
export function checkUrl(url: string): void {
  try {
    new URL(url);
  } catch {
    throw new CliError(`--url ${url} is not a URL`, exitCodes.usage, 'e.g. --url http://127.0.0.1:3000');
  }
}

const tokensFile = z.object({
  tenants: z.array(
    z.object({
      slug: z.string(),
      plan: z.enum(['free', 'pro', 'enterprise']),
      admin_token: z.string(),
      user_tokens: z.array(z.string()),
    }),
  ),
});

/**
 * A daemon that already runs: `--data-dir` finds it on this machine (its URL, its counters
 * and its database for the demo seed); `--url` alone reaches one anywhere, with tokens
 * from `--tokens FILE` (the output of `wuzctl seed --demo --json`).
 */
export async function attach(
  options: { url?: string; dataDir?: string; tokens?: string },
  tenants: number,
  progress: (line: string) => void,
): Promise<Target> {
  const client = options.dataDir ? new DaemonClient(options.dataDir) : null;
  const status = client ? await client.status() : null;
  const url = options.url ?? status?.url;
  if (!url) throw new CliError('nothing to verify against', exitCodes.usage, 'give --url or --data-dir');
  checkUrl(url);
  let demo: GateContext['tenants'] = [];
  if (options.tokens) {
    const parsed = tokensFile.safeParse(
      JSON.parse(await readFile(options.tokens, 'utf8').catch(() => 'null')),
    );
    if (!parsed.success) {
      throw new CliError(
        `--tokens ${options.tokens} is not the output of \`wuzctl seed --demo --json\``,
        exitCodes.usage,
      );
    }
    demo = parsed.data.tenants;
  } else if (options.dataDir) {
    progress(`seeding ${tenants} demo tenants into the daemon at ${options.dataDir}`);
    demo = await seed(options.dataDir, tenants, progress);
  }
  return {
    url: url.replace(/\/$/, ''),
    metricsUrl: status?.metricsUrl ?? `${url.replace(/\/$/, '')}/metrics`,
    tenants: demo,
    cacheCounters: client ? async () => (await client.status()).cache : null,
    close: async () => {},
  };
}
