import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { CpuByProcess, labelOf } from '../../src/cli/bench/cpuByProcess.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A real process that keeps one core busy until killed, and says when it runs. */
async function burner(args: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'process.stdout.write("up\\n"); for (;;) {}', ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  await once(child.stdout as NodeJS.ReadableStream, 'data');
  return child;
}

describe('CPU by process (bench)', () => {
  it('charges the CPU of every process this one started, grouped by what it is, per request', async () => {
    await burner(['--', 'childMain.js', '--role', 'api']);
    const cpu = new CpuByProcess();
    expect(cpu.begin()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 600));
    // One that starts inside the window is set-up, not steady state: not counted.
    await burner(['--', 'redis-server']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const shares = cpu.end(1000);
    expect(shares).not.toBeNull();
    const api = shares?.find((s) => s.process === 'api workers');
    expect(api?.count).toBe(1);
    // A busy loop: at most one core (however busy the machine is, it got some of one).
    expect(api?.cores).toBeGreaterThan(0.05);
    expect(api?.cores).toBeLessThan(1.2);
    expect(Math.abs((api?.usPerRequest ?? 0) - (api?.cores ?? 0) * 1000)).toBeLessThanOrEqual(5); // cores is rounded
    expect(shares?.some((s) => s.process === 'redis-server')).toBe(false);
    // This process is the load generator; it was mostly waiting, and is listed anyway.
    expect(shares?.some((s) => s.process === 'load generator (wuzctl bench)')).toBe(true);
  });

  it('names the processes of a daemon and of the floor', () => {
    expect(labelOf('/usr/bin/redis-server 127.0.0.1:6379 /tmp/x/redis.conf')).toBe('redis-server');
    expect(labelOf('/n/node /app/dist/daemon/childMain.js --data-dir /d --role api --index 1')).toBe(
      'api workers',
    );
    expect(labelOf('/n/node /app/dist/daemon/childMain.js --role queue')).toBe('queue worker');
    expect(labelOf('/n/node /app/dist/cli/bench/floorServer.js')).toBe('floor (express + ioredis)');
    expect(labelOf('/n/node /app/dist/cli/bench/floorServer.js redis')).toBe('floor (express + ioredis)');
    expect(labelOf('/n/node /app/src/cli/bench/floorServer.ts pg')).toBe('floor (express + pg)');
    expect(labelOf('node /app/dist/cli/main.js serve --port 0')).toBe('supervisor');
    expect(labelOf('/usr/lib/chromium/chromium --headless')).toBe('chromium');
  });
});
