import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  childEnv,
  cleanupDaemons,
  cliPath,
  type Daemon,
  embeddedEnv,
  seedDemo,
  startDaemon,
  waitFor,
  wuzctl,
} from '../helpers/daemon.ts';

let daemon: Daemon;
let token: string;
let logFile: string;

beforeAll(async () => {
  daemon = await startDaemon({ env: { ...embeddedEnv, LOG_LEVEL: 'info' }, apiWorkers: 1, queueWorkers: 1 });
  logFile = path.join(daemon.dataDir, 'wuzctl.log');
  token = (await seedDemo(daemon.dataDir, 1))[0]?.user_tokens[0] ?? '';
});
afterAll(cleanupDaemons);

/** Asks for a report and waits until the queue worker has logged its completion. */
async function report(): Promise<string> {
  const response = await fetch(`${daemon.url}/api/reports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'usage' }),
  });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  await waitFor(
    async () => (await readFile(logFile, 'utf8')).includes(`"reportId":"${id}"`),
    30_000,
    `report ${id} in the log`,
  );
  return id;
}

const logs = (...args: string[]) => wuzctl(['logs', '--data-dir', daemon.dataDir, ...args]);
const records = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('wuzctl logs', () => {
  it("holds every process's lines in <data-dir>/wuzctl.log, filtered by role, level, time and count", async () => {
    const reportId = await report();

    const queue = await logs('--json', '--role', 'queue');
    expect(queue.exitCode, queue.stderr).toBe(0);
    const queueLines = records(queue.stdout);
    expect(queueLines.length).toBeGreaterThan(0);
    expect(queueLines.every((r) => r.role === 'queue')).toBe(true);
    expect(queueLines.some((r) => r.msg === 'report completed' && r.reportId === reportId)).toBe(true);

    const supervisor = records((await logs('--json', '--role', 'supervisor')).stdout);
    expect(supervisor.some((r) => r.msg === 'ready' && r.pid === daemon.pid)).toBe(true);
    expect(supervisor.every((r) => r.role === 'supervisor')).toBe(true);

    const all = records((await logs('--json', '--lines', 'all')).stdout);
    expect(new Set(all.map((r) => r.role))).toEqual(new Set(['supervisor', 'api', 'queue']));
    const warnings = records((await logs('--json', '--level', 'warn', '--lines', 'all')).stdout);
    expect(warnings.every((r) => (r.level as number) >= 40)).toBe(true);
    expect(warnings.length).toBeLessThan(all.length);

    expect(records((await logs('--json', '-n', '1')).stdout)).toEqual(all.slice(-1));
    const future = await logs('--json', '--since', new Date(Date.now() + 60_000).toISOString());
    expect(future.stdout).toBe('');
    const recent = records((await logs('--json', '--since', '1h')).stdout);
    expect(recent.length).toBe(all.length);

    // Without --json and no terminal: pino-pretty's lines without colour, role and pid first.
    const pretty = await logs('--role', 'supervisor');
    expect(pretty.stdout).toMatch(new RegExp(`INFO: \\[supervisor ${daemon.pid}\\] ready`));
    expect(pretty.stdout).not.toContain('\u001b[');
  });

  it('follows the file across a logrotate move and SIGUSR2', async () => {
    // --since rather than -n 0: what is logged while the follower starts is not missed.
    const since = new Date().toISOString();
    const follower = execa(
      process.execPath,
      [cliPath, 'logs', '-f', '--json', '--since', since, '--data-dir', daemon.dataDir],
      { env: childEnv(), extendEnv: false, reject: false, buffer: false, stdin: 'ignore' },
    );
    let followed = '';
    follower.stdout?.setEncoding('utf8');
    follower.stdout?.on('data', (chunk: string) => {
      followed += chunk;
    });
    try {
      const before = await report();
      await waitFor(() => followed.includes(before), 10_000, 'the first report in the followed output');

      // What logrotate does: move the file away, then signal the daemon (postrotate).
      await rename(logFile, `${logFile}.1`);
      process.kill(daemon.pid, 'SIGUSR2');
      await waitFor(
        async () => (await readFile(logFile, 'utf8').catch(() => '')).includes('log file reopened'),
        10_000,
        'a new wuzctl.log',
      );
      const after = await report();

      await waitFor(
        () => followed.includes(after),
        10_000,
        'the report after rotation in the followed output',
      );
      expect(followed).toMatch(/log file reopened/);
      const lines = records(followed);
      expect(lines.filter((r) => r.reportId === before && r.msg === 'report completed')).toHaveLength(1);
      // The new file has what came after the move; the moved one kept what came before.
      const moved = await readFile(`${logFile}.1`, 'utf8');
      const fresh = await readFile(logFile, 'utf8');
      expect(moved).toContain(before);
      expect(moved).not.toContain(after);
      expect(fresh).toContain(after);
      expect(fresh).not.toContain(before);
    } finally {
      follower.kill('SIGTERM');
      await follower;
    }
  });

  it('says where no log is, with a hint that works (JSON with --json); refuses bad filters with exit 2', async () => {
    const missing = await wuzctl(['logs', '--data-dir', '/tmp/wz-no-such-dir', '--json']);
    expect(missing.exitCode).toBe(1);
    expect(JSON.parse(missing.stderr).error).toMatchObject({
      message: expect.stringContaining('no log at /tmp/wz-no-such-dir/wuzctl.log'),
      hint: 'start one with `wuzctl serve --data-dir /tmp/wz-no-such-dir`',
    });
    for (const bad of [
      ['--role', 'web'],
      ['--level', 'loud'],
      ['--since', 'yesterday-ish'],
      ['-n', '-3'],
    ]) {
      const refused = await logs(...bad);
      expect(refused.exitCode, bad.join(' ')).toBe(2);
      expect(refused.stderr).toMatch(/^error: /);
    }
  });
});
