// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read arbitrary JSON bodies
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
  seedDemo,
  startDaemon,
  statusJson,
  waitFor,
  wuzctl,
} from '../helpers/daemon.ts';
import { ownRedis } from '../helpers/redis.ts';

// Three API workers behind one port, limits small enough to reach, and a redis-server of
// the test's own so that it can be stopped. Each request opens its own connection, so the
// cluster spreads them over the workers: the count must still be exact.

const LIMITS = {
  RATE_LIMIT_FREE: '20',
  RATE_LIMIT_PRO: '40',
  RATE_LIMIT_ENTERPRISE: '80',
  RATE_LIMIT_UNAUTHENTICATED: '5',
};

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

let daemon: Daemon;
let redis: ResultPromise;
let redisPort: number;
let redisDir: string;
let env: Record<string, string | undefined>;
const tokens: Record<string, string> = {};
/** A user token per tenant that no test sends before the auth-failure test: never in the auth cache. */
const unusedTokens: Record<string, string> = {};

function get(path: string, token: string | null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${daemon.url}${path}`,
      { agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? JSON.parse(text) : null,
          }),
        );
      },
    );
    req.on('error', reject);
  });
}

beforeAll(async () => {
  redisDir = await mkdtemp(path.join(os.tmpdir(), 'wz-rl-redis-'));
  redisPort = await freePort();
  redis = (await ownRedis(redisPort, redisDir)).server;
  env = { ...embeddedEnv, REDIS_URL: `redis://127.0.0.1:${redisPort}`, ...LIMITS };
  daemon = await startDaemon({ env, apiWorkers: 3, queueWorkers: 0 });
  for (const tenant of await seedDemo(daemon.dataDir, 5, env)) {
    tokens[tenant.slug] = tenant.admin_token;
    unusedTokens[tenant.slug] = tenant.user_tokens[0];
  }
});

afterAll(async () => {
  await cleanupDaemons();
  redis?.kill('SIGKILL');
  await rm(redisDir, { recursive: true, force: true });
});

describe('per-tenant rate limits', () => {
  it('accepts exactly the plan’s limit across three workers, then 429 with Retry-After and a JSON error', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => get('/api/session/teams', tokens['demo-1'] as string)),
    );
    const ok = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    expect(ok).toHaveLength(20);
    expect(limited).toHaveLength(30);
    // Every remaining count from 19 down to 0 was handed out exactly once.
    expect(ok.map((a) => Number(a.headers['x-ratelimit-remaining'])).sort((x, y) => y - x)).toEqual(
      Array.from({ length: 20 }, (_, k) => 19 - k),
    );
    for (const answer of limited) {
      expect(answer.body.error.code).toBe('rate_limited');
      expect(answer.body.error.message).toMatch(/free plan allows 20 requests per 60 s/);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    const status = await statusJson(daemon.dataDir);
    expect((status as any).rateLimit.rejected.free).toBeGreaterThanOrEqual(30);
  });

  it('leaves other tenants untouched and counts their headers down one by one', async () => {
    const first = await get('/api/session/teams', tokens['demo-4'] as string); // free, like demo-1
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-limit']).toBe('20');
    expect(first.headers['x-ratelimit-remaining']).toBe('19');
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    expect(first.headers['ratelimit-policy']).toMatch(/"free"; q=20; w=60/);
    expect(first.headers.ratelimit).toMatch(/"free"; r=19; t=\d+/);
    const second = await get('/api/session/agents', tokens['demo-4'] as string);
    expect(second.headers['x-ratelimit-remaining']).toBe('18');
    const pro = await get('/api/session/teams', tokens['demo-2'] as string);
    expect(pro.status).toBe(200);
    expect(pro.headers['x-ratelimit-limit']).toBe('40');
    // demo-1 is still limited meanwhile.
    expect((await get('/api/session/teams', tokens['demo-1'] as string)).status).toBe(429);
  });

  it('applies a plan change at once (wuzctl tenants set-plan)', async () => {
    expect((await get('/api/session/teams', tokens['demo-3'] as string)).headers['x-ratelimit-limit']).toBe(
      '80',
    );
    const moved = await wuzctl(
      ['tenants', 'set-plan', 'demo-3', 'free', '--json', '--data-dir', daemon.dataDir],
      { env },
    );
    expect(moved.exitCode, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toEqual({ slug: 'demo-3', plan: 'free', previous: 'enterprise' });
    const after = await get('/api/session/teams', tokens['demo-3'] as string);
    expect(after.headers['x-ratelimit-limit']).toBe('20');
    const unknown = await wuzctl(['tenants', 'set-plan', 'demo-3', 'gold', '--data-dir', daemon.dataDir], {
      env,
    });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown plan "gold"/);
  });

  it('limits failed authentications per address, without locking out any valid token', async () => {
    // demo-5 uses the API once: its token's lookup is now cached.
    expect((await get('/api/session/teams', tokens['demo-5'] as string)).status).toBe(200);
    const bad = `wuz_000000000000_${'a'.repeat(43)}`;
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push((await get('/api/session/teams', bad)).status);
    expect(answers).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const refused = await get('/api/session/teams', null);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/too many failed authentications/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // From the same address, the cached valid token still passes…
    expect((await get('/api/session/teams', tokens['demo-5'] as string)).status).toBe(200);
    // …and so does one never used before (not in the auth cache): a token that verifies passes.
    expect((await get('/api/session/teams', unusedTokens['demo-3'] as string)).status).toBe(200);
    // Probes are never limited.
    const probes = await Promise.all(Array.from({ length: 30 }, () => get('/healthz', null)));
    expect(probes.every((p) => p.status === 200 && p.headers['x-ratelimit-limit'] === undefined)).toBe(true);
    expect(
      ((await statusJson(daemon.dataDir)) as any).rateLimit.rejectedUnauthenticated,
    ).toBeGreaterThanOrEqual(3);
  });

  it('fails open while Redis is down, and limits again once it is back', async () => {
    redis.kill('SIGKILL');
    await redis.catch(() => {});
    // demo-1 is over its limit, but with no Redis to count in, requests pass.
    await waitFor(
      async () => (await get('/api/session/teams', tokens['demo-1'] as string)).status === 200,
      15_000,
      'fail open',
    );
    const during = await Promise.all(
      Array.from({ length: 10 }, () => get('/api/session/teams', tokens['demo-1'] as string)),
    );
    expect(during.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(((await statusJson(daemon.dataDir)) as any).rateLimit.errors).toBeGreaterThan(0);
    redis = (await ownRedis(redisPort, redisDir)).server;
    // A new Redis starts empty: the window starts over and the limit holds again — on every
    // API worker (each reconnects on its own), so several requests in a row must be counted.
    await waitFor(
      async () => {
        const answers = await Promise.all(
          Array.from({ length: 6 }, () => get('/api/session/teams', tokens['demo-2'] as string)),
        );
        return answers.every((a) => a.headers['x-ratelimit-limit'] === '40');
      },
      15_000,
      'the limiter to count again on every worker',
    );
    const again = await Promise.all(
      Array.from({ length: 30 }, () => get('/api/session/teams', tokens['demo-4'] as string)),
    );
    expect(again.filter((a) => a.status === 200)).toHaveLength(20);
  });
});
