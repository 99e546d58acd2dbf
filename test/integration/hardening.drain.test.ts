import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, embeddedEnv, seedDemo, startDaemon } from '../helpers/daemon.ts';

afterAll(cleanupDaemons);

interface Outcome {
  ok: number;
  /** Errors by code: a reset (ECONNRESET, "socket hang up", EPIPE) means a request may or may not have run. */
  errors: Record<string, number>;
}

/** One keep-alive client looping requests until the server refuses new connections. */
async function clientLoop(url: string, token: string, outcome: Outcome, stop: { value: boolean }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let i = 0;
  while (!stop.value) {
    i++;
    const write = i % 3 === 0;
    const result = await new Promise<string>((resolve) => {
      const body = write
        ? JSON.stringify({
            name: `drain ${Math.random()}`,
            phone: `+55119${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
          })
        : '';
      const req = http.request(
        `${url}${write ? '/api/contacts' : '/api/session/agents'}`,
        {
          agent,
          method: write ? 'POST' : 'GET',
          headers: {
            authorization: `Bearer ${token}`,
            ...(write
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
              : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
          res.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      req.end(body);
    });
    if (/^\d+$/.test(result)) {
      outcome.ok++;
      continue;
    }
    outcome.errors[result] = (outcome.errors[result] ?? 0) + 1;
    // The listener is gone: nothing more to learn from this client.
    if (result === 'ECONNREFUSED') break;
  }
  agent.destroy();
}

describe('graceful stop under keep-alive load', () => {
  it('SIGTERM with 20 busy keep-alive clients: every request gets its answer or a refused connection, zero resets', async () => {
    const daemon = await startDaemon({
      env: { ...embeddedEnv, RATE_LIMIT_FREE: '1000000' },
      apiWorkers: 2,
      queueWorkers: 0,
      args: ['--shutdown-timeout', '15'],
    });
    const [tenant] = await seedDemo(daemon.dataDir, 1);
    const token = tenant?.admin_token ?? '';
    const outcome: Outcome = { ok: 0, errors: {} };
    const stop = { value: false };
    const loops = Array.from({ length: 20 }, () => clientLoop(daemon.url, token, outcome, stop));
    // Load first, then the signal, while requests are in flight on every socket.
    while (outcome.ok < 2000) await new Promise((resolve) => setTimeout(resolve, 20));
    const exitCode = daemon.stop();
    const timer = setTimeout(() => {
      stop.value = true;
    }, 20_000);
    expect(await exitCode).toBe(0);
    stop.value = true;
    clearTimeout(timer);
    await Promise.all(loops);
    const resets = Object.entries(outcome.errors).filter(([code]) => code !== 'ECONNREFUSED');
    expect(outcome.ok).toBeGreaterThan(2000);
    expect(Object.fromEntries(resets)).toEqual({});
  });
});
