// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read arbitrary JSON bodies
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/daemon/services/freePort.ts';
import { ACTIVE_TOKENS_KEY, FLUSH_EVERY_MS } from '../../src/daemon/telemetry/activeSessions.ts';
import {
  cleanupDaemons,
  type Daemon,
  embeddedEnv,
  embeddedPassword,
  type SeededTenant,
  seedDemo,
  startDaemon,
  statusJson,
  waitFor,
} from '../helpers/daemon.ts';
import { parseExposition, type Sample, total } from '../helpers/metrics.ts';
import { rawRequest } from '../helpers/rawHttp.ts';

// /metrics of a real daemon (embedded Redis and PGlite, two API workers, one queue
// worker): the totals a scrape returns are the whole cluster's, whichever worker answers.

let daemon: Daemon;
const admins: string[] = [];
const users: string[] = [];
const AGENTS = { route: '/api/session/agents', method: 'GET', status: '200' };

/** One request on its own connection, so the cluster spreads them over the workers. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

async function scrape(url = `${daemon.url}/metrics`, headers?: Record<string, string>): Promise<Sample[]> {
  const response = await get(url, headers);
  expect(response.status, response.text).toBe(200);
  return parseExposition(response.text);
}

beforeAll(async () => {
  daemon = await startDaemon({
    env: { ...embeddedEnv, WUZ_RATE_LIMIT: 'off' },
    apiWorkers: 2,
    queueWorkers: 1,
  });
  for (const tenant of await seedDemo(daemon.dataDir, 2)) {
    admins.push(tenant.admin_token);
    users.push(tenant.user_tokens[0]);
  }
});

afterAll(async () => {
  await cleanupDaemons();
});

describe('GET /metrics on the API port', () => {
  it('returns the totals of every API worker, the same whichever worker answers', async () => {
    const before = total(await scrape(), 'http_requests_total', AGENTS);
    const sent = 40;
    const answers = await Promise.all(
      Array.from({ length: sent }, (_, i) =>
        get(`${daemon.url}/api/session/agents`, { authorization: `Bearer ${users[i % 2]}` }),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);

    // Both workers took part, so a per-worker count could not pass for the total.
    const status = (await statusJson(daemon.dataDir)) as any;
    const served = status.children
      .filter((child: any) => child.role === 'api')
      .map((child: any) => {
        const counters = child.cache.routes['/api/session/agents'] ?? { hits: 0, misses: 0 };
        return counters.hits + counters.misses;
      });
    expect(served).toHaveLength(2);
    expect(served.every((n: number) => n > 0)).toBe(true);

    for (let i = 0; i < 4; i++) {
      const samples = await scrape();
      expect(total(samples, 'http_requests_total', AGENTS) - before).toBe(sent);
      expect(total(samples, 'http_request_duration_seconds_count', AGENTS) - before).toBe(sent);
    }
  });

  it("counts cache hits and misses exactly as the cache's own counters do", async () => {
    for (let i = 0; i < 10; i++) {
      await get(`${daemon.url}/api/session/roles`, { authorization: `Bearer ${users[i % 2]}` });
      await get(`${daemon.url}/api/admin/stripe/analytics`, { authorization: `Bearer ${admins[i % 2]}` });
    }
    const [samples, status] = await Promise.all([scrape(), statusJson(daemon.dataDir) as Promise<any>]);
    for (const route of ['/api/session/roles', '/api/admin/stripe/analytics', '/api/session/agents']) {
      const own = status.cache.routes[route];
      expect(own.hits + own.misses).toBeGreaterThan(0);
      expect(total(samples, 'redis_cache_hits_total', { route })).toBe(own.hits);
      expect(total(samples, 'redis_cache_misses_total', { route })).toBe(own.misses);
    }
    expect(total(samples, 'redis_cache_hits_total')).toBeGreaterThan(0);
  });

  it('moves the queue counters and the duration histogram when a job runs', async () => {
    const labels = { queue: 'report' };
    const before = await scrape();
    const response = await fetch(`${daemon.url}/api/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admins[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'usage' }),
    });
    expect(response.status).toBe(202);
    const { job_id: jobId } = (await response.json()) as any;
    await waitFor(
      async () => {
        const job = await fetch(`${daemon.url}/api/jobs/${jobId}/status`, {
          headers: { authorization: `Bearer ${admins[0]}` },
        }).then((r) => r.json() as Promise<any>);
        return job.state === 'completed';
      },
      30_000,
      'the report job',
    );
    const after = await waitFor(
      async () => {
        const samples = await scrape();
        return total(samples, 'queue_jobs_total', { ...labels, state: 'completed' }) >
          total(before, 'queue_jobs_total', { ...labels, state: 'completed' })
          ? samples
          : null;
      },
      10_000,
      'queue_jobs_total{state="completed"} to move',
    );
    const delta = (name: string, where: Record<string, string>) =>
      total(after, name, where) - total(before, name, where);
    expect(delta('queue_jobs_total', { ...labels, state: 'added' })).toBe(1);
    expect(delta('queue_jobs_total', { ...labels, state: 'completed' })).toBe(1);
    expect(delta('queue_job_duration_seconds_count', labels)).toBe(1);
    // Depth gauges come from the supervisor, once per scrape, for every queue and state.
    const depths = after.filter((s) => s.name === 'queue_jobs');
    expect(new Set(depths.map((s) => s.labels.queue))).toEqual(new Set(['campaign', 'import', 'report']));
    expect(total(after, 'queue_jobs', { queue: 'report', state: 'active' })).toBe(0);
  });

  it('reports health, the memory limit, active sessions and per-role process metrics', async () => {
    const samples = await waitFor(
      async () => {
        // Workers write the tokens they saw every 5 s.
        const current = await scrape();
        return total(current, 'active_sessions_total') >= 4 ? current : null;
      },
      15_000,
      'active_sessions_total to count the four tokens used',
    );
    expect(total(samples, 'active_sessions_total')).toBe(4);
    expect(total(samples, 'redis_up')).toBe(1);
    expect(total(samples, 'database_up')).toBe(1);
    expect(total(samples, 'wuzctl_memory_limit_bytes')).toBeGreaterThan(0);
    const roles = new Set(
      samples.filter((s) => s.name === 'process_resident_memory_bytes').map((s) => s.labels.role),
    );
    expect(roles).toEqual(new Set(['supervisor', 'api', 'queue']));
  });

  it("keeps a killed worker's counts in the totals after it is replaced", async () => {
    const before = total(await scrape(), 'http_requests_total', AGENTS);
    const status = (await statusJson(daemon.dataDir)) as any;
    const victim = status.children.find((child: any) => child.role === 'api');
    process.kill(victim.pid, 'SIGKILL');
    await waitFor(
      async () => {
        const now = (await statusJson(daemon.dataDir)) as any;
        const slot = now.children.find((c: any) => c.role === 'api' && c.index === victim.index);
        return slot.state === 'ready' && slot.pid !== victim.pid;
      },
      30_000,
      'the killed worker to be replaced',
    );
    expect(total(await scrape(), 'http_requests_total', AGENTS)).toBe(before);
  });
});

describe('a separate metrics port with METRICS_TOKEN', () => {
  it('serves /metrics there only, and only with the Bearer token', async () => {
    const token = 'metrics-test-token-0123456789';
    const metricsPort = await freePort();
    const other = await startDaemon({
      env: { ...embeddedEnv, METRICS_TOKEN: token },
      args: ['--metrics-port', String(metricsPort)],
      apiWorkers: 1,
      queueWorkers: 0,
    });
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    expect((await get(`${other.url}/metrics`)).status).toBe(404);
    const refused = await get(url);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text).error.code).toBe('unauthorized');
    expect((await get(url, { authorization: 'Bearer wrong-token-0123456789abc' })).status).toBe(401);
    await get(`${other.url}/healthz`);
    const samples = await scrape(url, { authorization: `Bearer ${token}` });
    expect(total(samples, 'http_requests_total', { route: '/healthz' })).toBeGreaterThanOrEqual(1);
    // Compressed as Prometheus asks (gzip), like /metrics on the API port.
    const gzip = await rawRequest(url, {
      headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' },
    });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers.vary).toMatch(/accept-encoding/i);
    expect(gzip.body.toString()).toContain('# HELP http_requests_total');
    const refusedCoding = await rawRequest(url, {
      headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'identity;q=0' },
    });
    expect(refusedCoding.status).toBe(406);
    expect(((await statusJson(other.dataDir)) as any).metricsUrl).toBe(url);
    expect(other.stdout()).not.toContain(token);
    expect(other.stderr()).not.toContain(token);
  });
});

describe('--metrics off', () => {
  it('serves no /metrics and records nothing for it, while the API works', async () => {
    const off = await startDaemon({
      env: embeddedEnv,
      args: ['--metrics', 'off'],
      apiWorkers: 1,
      queueWorkers: 0,
    });
    const [tenant] = (await seedDemo(off.dataDir, 1)) as [SeededTenant];
    const token = tenant.admin_token;
    const metrics = await get(`${off.url}/metrics`);
    expect(metrics.status).toBe(404);
    expect(JSON.parse(metrics.text).error.code).toBe('not_found');
    expect((await get(`${off.url}/api/session/agents`, { authorization: `Bearer ${token}` })).status).toBe(
      200,
    );
    // Past the interval at which a worker writes the tokens it saw, had it kept any.
    await sleep(FLUSH_EVERY_MS + 1000);
    const address = ((await statusJson(off.dataDir)) as any).redis.address as string;
    const [host, port] = address.split(':') as [string, string];
    const password = await embeddedPassword(off.dataDir, 'redis');
    const exists = await execa('redis-cli', [
      '-h',
      host,
      '-p',
      port,
      '--no-auth-warning',
      '-a',
      password,
      'EXISTS',
      ACTIVE_TOKENS_KEY,
    ]);
    expect(exists.stdout.trim()).toBe('0');
  });
});
