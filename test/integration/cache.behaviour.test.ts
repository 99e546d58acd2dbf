// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read arbitrary JSON bodies
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/daemon/services/freePort.ts';
import {
  cleanupDaemons,
  type Daemon,
  embeddedEnv,
  seedDemo,
  startDaemon,
  statusJson,
  waitFor,
} from '../helpers/daemon.ts';
import { ownRedis } from '../helpers/redis.ts';

// The response cache against real Redis, three API workers, and a redis-server of the
// test's own (so it can be stopped). Every request opens its own connection, so the
// cluster spreads them over the workers. Limits are off: these tests count cache events.

interface Answer {
  status: number;
  cache: string | undefined;
  body: any;
}

let daemon: Daemon;
let redis: ResultPromise;
let redisPort: number;
let redisDir: string;
let env: Record<string, string | undefined>;
const admin: Record<string, string> = {};
const user: Record<string, string> = {};

function call(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${daemon.url}${path}`,
      {
        method,
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cache: res.headers['x-cache'] as string | undefined,
            body: text ? JSON.parse(text) : null,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
const get = (path: string, token: string) => call('GET', path, token);

async function routeCounters(route: string) {
  const status = (await statusJson(daemon.dataDir)) as any;
  return status.cache.routes[route] ?? { hits: 0, misses: 0, loads: 0, errors: 0 };
}

beforeAll(async () => {
  redisDir = await mkdtemp(path.join(os.tmpdir(), 'wz-cache-redis-'));
  redisPort = await freePort();
  redis = (await ownRedis(redisPort, redisDir)).server;
  env = {
    ...embeddedEnv,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    WUZ_RATE_LIMIT: 'off',
    // Roles expire fast, for the TTL test; the rest keep their defaults.
    WUZ_CACHE_TTL: 'roles=2',
  };
  daemon = await startDaemon({ env, apiWorkers: 3, queueWorkers: 0 });
  for (const tenant of await seedDemo(daemon.dataDir, 2, env)) {
    admin[tenant.slug] = tenant.admin_token;
    user[tenant.slug] = tenant.user_tokens[0];
  }
});

afterAll(async () => {
  await cleanupDaemons();
  redis?.kill('SIGKILL');
  await rm(redisDir, { recursive: true, force: true });
});

/** Reads until some worker answers HIT: the entry is in Redis. */
async function primed(path: string, token: string): Promise<Answer> {
  let answer = await get(path, token);
  for (let i = 0; i < 5 && answer.cache !== 'HIT'; i++) answer = await get(path, token);
  expect(answer.cache).toBe('HIT');
  return answer;
}

describe('the response cache', () => {
  it('expires an entry after its TTL', async () => {
    const token = user['demo-1'] as string;
    await primed('/api/session/roles?ttl-test=1', token);
    await sleep(2500);
    expect((await get('/api/session/roles?ttl-test=1', token)).cache).toBe('MISS');
    expect((await get('/api/session/roles?ttl-test=1', token)).cache).toBe('HIT');
  });

  it('shows every write through the API in the next read, for each mutation route', async () => {
    const a = admin['demo-1'] as string;
    const u = user['demo-1'] as string;
    const teams = (await get('/api/session/teams', u)).body.data;
    const roles = (await get('/api/session/roles', u)).body.data;
    const agents = (await get('/api/session/agents', u)).body.data;
    const cases: Array<[string, string, () => Promise<Answer>, (body: any) => boolean]> = [
      [
        'team rename',
        '/api/session/teams',
        () => call('PATCH', `/api/session/teams/${teams[0].id}`, u, { name: 'Renamed team' }),
        (b) => b.data.some((t: any) => t.name === 'Renamed team'),
      ],
      [
        'team create',
        '/api/session/teams',
        () => call('POST', '/api/session/teams', u, { name: 'New team' }),
        (b) => b.data.some((t: any) => t.name === 'New team'),
      ],
      [
        'role rename',
        '/api/session/roles',
        () => call('PATCH', `/api/session/roles/${roles[2].id}`, u, { name: 'Renamed role' }),
        (b) => b.data.some((r: any) => r.name === 'Renamed role'),
      ],
      [
        'agent rename',
        '/api/session/agents',
        () => call('PATCH', `/api/session/agents/${agents[0].id}`, u, { name: 'Renamed agent' }),
        (b) => b.data.some((x: any) => x.name === 'Renamed agent'),
      ],
      [
        'agent delete → usage',
        '/api/user/subscription',
        () => call('DELETE', `/api/session/agents/${agents[1].id}`, u),
        (b) => b.usage.agents === agents.length - 1,
      ],
      [
        'stripe settings',
        '/api/admin/stripe/settings',
        () =>
          call('PUT', '/api/admin/stripe/settings', a, {
            publishable_key: 'pk_test_cachetest0001',
            currency: 'eur',
          }),
        (b) => b.publishable_key === 'pk_test_cachetest0001',
      ],
      [
        'settings → analytics',
        '/api/admin/stripe/analytics',
        async () => ({ status: 200, cache: undefined, body: null }),
        (b) => JSON.stringify(b).includes('eur'),
      ],
    ];
    for (const [name, path, write, holds] of cases) {
      const token = path.startsWith('/api/admin') ? a : u;
      if (name !== 'settings → analytics') {
        const before = await primed(path, token);
        expect(holds(before.body), `${name}: already true before the write`).toBe(false);
        const written = await write();
        expect(written.status, `${name}: ${JSON.stringify(written.body)}`).toBeLessThan(300);
      }
      for (let i = 0; i < 3; i++)
        expect(holds((await get(path, token)).body), `${name}: read ${i} after the write`).toBe(true);
    }
  });

  it('shows a plan change in the subscription and the tenant’s analytics', async () => {
    const a = admin['demo-2'] as string;
    const u = user['demo-2'] as string;
    const plans = (await get('/api/admin/plans', a)).body.data;
    const before = await primed('/api/user/subscription', u);
    await primed('/api/admin/stripe/analytics', a);
    const target = plans.find(
      (p: any) => p.id !== before.body.plan.id && p.limits.max_agents >= before.body.usage.agents,
    );
    const analyticsBefore = JSON.stringify((await get('/api/admin/stripe/analytics', a)).body);
    expect((await call('POST', '/api/user/subscription', u, { plan_id: target.id })).status).toBe(200);
    expect((await get('/api/user/subscription', u)).body.plan.id).toBe(target.id);
    const analyticsAfter = await get('/api/admin/stripe/analytics', a);
    // The plan change stored the tenant's new analytics as it bumped them: a hit, and new.
    expect(analyticsAfter.cache).toBe('HIT');
    expect(JSON.stringify(analyticsAfter.body)).not.toBe(analyticsBefore);
  });

  it('caches "no subscription" (200, null) and shows a subscribe, then a cancel, at once on every worker', async () => {
    // The demo seeds no subscription for a tenant's admin.
    const a = admin['demo-1'] as string;
    const none = await primed('/api/user/subscription', a);
    expect(none.status).toBe(200);
    expect(none.body).toBeNull();
    const agents = (await get('/api/session/agents', a)).body.total;
    const plans = (await get('/api/admin/plans', a)).body.data;
    const target = plans.find((p: any) => p.limits.max_agents >= agents);
    const subscribed = await call('POST', '/api/user/subscription', a, { plan_id: target.id });
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(201);
    // Each read opens its own connection, so the three workers answer in turn.
    for (let i = 0; i < 6; i++) {
      const read = await get('/api/user/subscription', a);
      expect(read.status, `read ${i} after subscribing`).toBe(200);
      expect(read.body?.plan?.id, `read ${i} after subscribing`).toBe(target.id);
      expect(read.body.cancel_at_period_end).toBe(false);
    }
    const canceled = await call('DELETE', '/api/user/subscription', a);
    expect(canceled.status).toBe(200);
    expect(canceled.body.cancel_at_period_end).toBe(true);
    for (let i = 0; i < 6; i++) {
      const read = await get('/api/user/subscription', a);
      expect(read.body, `read ${i} after canceling`).toMatchObject({
        id: subscribed.body.id,
        cancel_at_period_end: true,
      });
    }
    expect((await call('DELETE', '/api/user/subscription', a)).status).toBe(409);
  });

  it('never serves a stale read after a write, from any of the workers (50 rounds)', async () => {
    const u = user['demo-2'] as string;
    const team = (await get('/api/session/teams', u)).body.data[0];
    for (let round = 0; round < 50; round++) {
      const name = `Round ${round}`;
      expect((await call('PATCH', `/api/session/teams/${team.id}`, u, { name })).status).toBe(200);
      const reads = await Promise.all(Array.from({ length: 3 }, () => get('/api/session/teams', u)));
      for (const read of reads) expect(read.body.data.find((t: any) => t.id === team.id).name).toBe(name);
    }
  });

  it('keeps cached responses to their tenant and user', async () => {
    const path = '/api/session/agents?page=1&per_page=5';
    const owners = [user['demo-1'], admin['demo-1'], user['demo-2'], admin['demo-2']] as string[];
    const own = await Promise.all(owners.map(async (token) => (await primed(path, token)).body));
    const emails = own.map((body) => body.data.map((agent: any) => agent.email).join());
    expect(new Set(emails).size).toBe(4);
    for (const [k, token] of owners.entries()) {
      const again = await get(path, token);
      expect(again.cache).toBe('HIT');
      expect(again.body.data.map((agent: any) => agent.email).join()).toBe(emails[k]);
    }
  });

  it('loads a missing entry once for 100 concurrent requests on three workers', async () => {
    const token = admin['demo-1'] as string;
    const before = await routeCounters('/api/admin/stripe/analytics');
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => get('/api/admin/stripe/analytics?stampede=1', token)),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    const after = await routeCounters('/api/admin/stripe/analytics');
    expect(after.loads - before.loads).toBe(1);
    expect(after.hits + after.misses - before.hits - before.misses).toBe(100);
  });

  it('answers from the database while Redis is down, and caches again once it is back', async () => {
    const u = user['demo-1'] as string;
    const team = (await get('/api/session/teams', u)).body.data[0];
    await primed('/api/session/teams', u);
    redis.kill('SIGKILL');
    await redis.catch(() => {});
    // Reads and writes go on: 200s with the database's data, nothing cached.
    await waitFor(
      async () => (await get('/api/session/teams', u)).cache === 'MISS',
      15_000,
      'reads to bypass the cache',
    );
    expect(
      (await call('PATCH', `/api/session/teams/${team.id}`, u, { name: 'Written in the outage' })).status,
    ).toBe(200);
    const during = await Promise.all(Array.from({ length: 10 }, () => get('/api/session/teams', u)));
    for (const read of during) {
      expect(read.status).toBe(200);
      expect(read.body.data.find((t: any) => t.id === team.id).name).toBe('Written in the outage');
    }
    expect((await routeCounters('/api/session/teams')).errors).toBeGreaterThan(0);
    redis = (await ownRedis(redisPort, redisDir)).server;
    await waitFor(
      async () => (await get('/api/session/teams', u)).cache === 'HIT',
      20_000,
      'the cache to serve hits again',
    );
    const back = await get('/api/session/teams', u);
    expect(back.body.data.find((t: any) => t.id === team.id).name).toBe('Written in the outage');
  });
});
