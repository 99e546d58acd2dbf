import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { findExecutable } from '../../daemon/services/executables.ts';
import { freePort } from '../../daemon/services/freePort.ts';
import { GateCannotRun } from './gate.ts';

const run = promisify(execFile);

const INSTALL_HINT =
  'install Prometheus: `sudo apt-get install prometheus` (Debian/Ubuntu; brings promtool), or set PROMETHEUS_BIN and PROMTOOL_BIN';

export interface PrometheusBinaries {
  prometheus: string;
  promtool: string;
  version: string;
}

/** Finds prometheus and promtool, or says how to install them. */
export async function findPrometheus(): Promise<PrometheusBinaries> {
  const prometheus = await findExecutable('prometheus', process.env.PROMETHEUS_BIN);
  const promtool = await findExecutable('promtool', process.env.PROMTOOL_BIN);
  if (!prometheus || !promtool) {
    throw new GateCannotRun(`${prometheus ? 'promtool' : 'prometheus'} is not installed`, INSTALL_HINT);
  }
  const { stdout, stderr } = await run(prometheus, ['--version']);
  const version = /version (\S+)/.exec(`${stdout}${stderr}`)?.[1] ?? 'unknown';
  return { prometheus, promtool, version };
}

/** `promtool <args>`: its exit status and what it printed. */
export async function promtool(binary: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(binary, args, { timeout: 60_000 });
    return { ok: true, output: `${stdout}${stderr}`.trim() };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? failed.message}`.trim() };
  }
}

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** A Prometheus server of our own: config and TSDB in `dir`, loopback port, stopped by stop(). */
export class PrometheusServer {
  readonly url: string;
  private readonly child: ChildProcess;
  private log = '';

  private constructor(url: string, child: ChildProcess) {
    this.url = url;
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.log = (this.log + chunk).slice(-4000);
    });
  }

  static async start(binary: string, configFile: string, dir: string): Promise<PrometheusServer> {
    const port = await freePort();
    const child = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      const ready = await fetch(`${server.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return server;
      await sleep(200);
    }
    await server.stop();
    throw new GateCannotRun(
      `prometheus did not start: ${server.log.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }

  /** An instant query; throws with Prometheus's own message when it does not parse. */
  async query(expr: string): Promise<NonNullable<QueryResponse['data']>['result']> {
    const response = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await response.json()) as QueryResponse;
    if (body.status !== 'success' || !body.data) throw new Error(body.error ?? `HTTP ${response.status}`);
    return body.data.result;
  }

  async targets(): Promise<Array<{ health: string; lastError: string; scrapeUrl: string }>> {
    const body = (await (await fetch(`${this.url}/api/v1/targets?state=active`)).json()) as {
      data: { activeTargets: Array<{ health: string; lastError: string; scrapeUrl: string }> };
    };
    return body.data.activeTargets;
  }

  async rules(): Promise<Array<{ name: string; health: string; lastError?: string; type: string }>> {
    const body = (await (await fetch(`${this.url}/api/v1/rules`)).json()) as {
      data: {
        groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; type: string }> }>;
      };
    };
    return body.data.groups.flatMap((group) => group.rules);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
