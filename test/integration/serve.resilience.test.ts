import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/daemon/services/freePort.ts';
import {
  cleanupDaemons,
  type Daemon,
  embeddedEnv,
  getJson,
  pidGone,
  type SeededTenant,
  seedDemo,
  startDaemon,
  statusJson,
  waitFor,
} from '../helpers/daemon.ts';
import { ownRedis } from '../helpers/redis.ts';

describe('serve: a dependency outage shows in /readyz and heals', () => {
  let daemon: Daemon;
  let redis: ResultPromise;
  let redisPort: number;
  let redisDir: string;
  let token: string;

  /** A report request as the demo user; the answer within 10 s, or the fetch throws. */
  const requestReport = () =>
    fetch(`${daemon.url}/api/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'usage' }),
      signal: AbortSignal.timeout(10_000),
    });
  const reportCount = async () => {
    const reply = await fetch(`${daemon.url}/api/reports`, { headers: { authorization: `Bearer ${token}` } });
    return ((await reply.json()) as { total: number }).total;
  };

  beforeAll(async () => {
    redisDir = await mkdtemp(path.join(os.tmpdir(), 'wz-redis-'));
    redisPort = await freePort();
    redis = (await ownRedis(redisPort, redisDir)).server;
    daemon = await startDaemon({
      env: { ...embeddedEnv, REDIS_URL: `redis://127.0.0.1:${redisPort}` },
      apiWorkers: 1,
      queueWorkers: 1,
    });
    const [tenant] = await seedDemo(daemon.dataDir, 1, {
      ...embeddedEnv,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    token = (tenant as SeededTenant).user_tokens[0];
  });
  afterAll(async () => {
    await cleanupDaemons();
    redis?.kill('SIGKILL');
    await rm(redisDir, { recursive: true, force: true });
  });

  it('answers 503 with the Redis reason while Redis is down, and 200 once it is back', async () => {
    expect((await getJson(`${daemon.url}/readyz`)).status).toBe(200);

    redis.kill('SIGKILL');
    await redis;
    const down = await waitFor(
      async () => {
        const reply = await getJson(`${daemon.url}/readyz`);
        return reply.status === 503 ? reply : null;
      },
      15_000,
      '/readyz to report 503',
    );
    expect(down.body).toMatchObject({ status: 'not ready', checks: { database: 'ok' } });
    expect((down.body as { checks: { redis: string } }).checks.redis).toMatch(/^error: /);
    // Liveness is not readiness: the process itself is fine.
    expect((await getJson(`${daemon.url}/healthz`)).status).toBe(200);
    const status = await statusJson(daemon.dataDir);
    expect(status.redis.healthy).toBe(false);

    // The worker's first job comes during the outage (its queues are opened on demand):
    // a prompt 503, and the report it would have made is not left behind.
    const before = await reportCount();
    const refused = await requestReport();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('queue_unavailable');
    expect(await reportCount()).toBe(before);

    redis = (await ownRedis(redisPort, redisDir)).server;
    await waitFor(
      async () => (await getJson(`${daemon.url}/readyz`)).status === 200,
      20_000,
      '/readyz to recover',
    );
    // Every process reconnects on its own backoff (at most 2 s apart): the supervisor's
    // client may come back a moment after the worker that answered /readyz.
    await waitFor(
      async () => (await statusJson(daemon.dataDir)).redis.healthy === true,
      10_000,
      '`wuzctl status` to see Redis healthy again',
    );
    // And once Redis is back, the same request is taken.
    const accepted = await requestReport();
    expect(accepted.status, await accepted.clone().text()).toBe(202);
    expect(await reportCount()).toBe(before + 1);
  });
});

describe('serve (embedded): the managed redis-server is supervised', () => {
  let daemon: Daemon;
  afterAll(cleanupDaemons);

  it('restarts a killed redis-server and becomes ready again', async () => {
    daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 1 });
    const before = await statusJson(daemon.dataDir);
    const oldPid = before.redis.pid;
    expect(oldPid).toBeTypeOf('number');
    process.kill(oldPid as number, 'SIGKILL');
    await waitFor(() => pidGone(oldPid as number), 5_000, 'redis-server to die');

    const after = await waitFor(
      async () => {
        const status = await statusJson(daemon.dataDir);
        return status.redis.pid && status.redis.pid !== oldPid && status.redis.healthy ? status : null;
      },
      30_000,
      'a new healthy redis-server',
    );
    expect(after.redis.mode).toBe('embedded');
    await waitFor(
      async () => (await getJson(`${daemon.url}/readyz`)).status === 200,
      20_000,
      '/readyz to recover',
    );
  });
});

describe('serve: SIGTERM with idle keep-alive connections', () => {
  afterAll(cleanupDaemons);

  it('closes idle keep-alive sockets instead of waiting for them, and exits 0', async () => {
    const daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 1, args: ['--shutdown-timeout', '20'] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const sockets: import('node:net').Socket[] = [];
    agent.on('free', (socket) => sockets.push(socket));
    // Four parallel requests leave four idle keep-alive sockets open on the server.
    await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<void>((resolve, reject) => {
            http
              .get(`${daemon.url}/healthz`, { agent }, (res) => {
                res.resume();
                res.on('end', resolve);
              })
              .on('error', reject);
          }),
      ),
    );
    expect(sockets.length).toBeGreaterThan(0);
    const closed = sockets.map(
      (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );

    const began = Date.now();
    const exitCode = await daemon.stop();
    const tookMs = Date.now() - began;
    expect(exitCode, daemon.stderr()).toBe(0);
    // The server's keep-alive timeout is 65 s and the shutdown timeout 20 s: an exit
    // well before either means the idle sockets were closed, not waited out.
    expect(tookMs).toBeLessThan(15_000);
    await Promise.all(closed);
    agent.destroy();
  });
});
