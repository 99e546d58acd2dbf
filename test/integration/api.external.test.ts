import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, type Daemon, startDaemon, wuzctl } from '../helpers/daemon.ts';
import { checkRedis, createTestDatabase, REDIS_URL, type TestDatabase } from '../helpers/external.ts';

// The API on an external PostgreSQL (and Redis db 14): data created by the CLI straight
// into DATABASE_URL with no daemon running, then served by a daemon on the same database.

let database: TestDatabase;
let daemon: Daemon;
const env = () => ({ REDIS_URL, DATABASE_URL: database.url });

async function cli(args: string[]): Promise<Record<string, string>> {
  const result = await wuzctl([...args, '--json'], { env: env() });
  expect(result.exitCode, `wuzctl ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout);
}

async function call(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${daemon.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const tokens: Record<string, string> = {};

beforeAll(async () => {
  await checkRedis();
  database = await createTestDatabase();
  for (const slug of ['ext-a', 'ext-b']) {
    expect((await cli(['tenants', 'create', slug, '--plan', 'enterprise'])).slug).toBe(slug);
    await cli(['users', 'create', '--tenant', slug, '--email', `boss@${slug}.test`, '--role', 'admin']);
    tokens[slug] = (await cli(['tokens', 'create', '--user', `boss@${slug}.test`])).token as string;
  }
  daemon = await startDaemon({ env: env(), apiWorkers: 2 });
});

afterAll(async () => {
  await cleanupDaemons();
  await database?.drop();
});

describe('the API on an external PostgreSQL', () => {
  it('serves data the CLI wrote directly to DATABASE_URL', async () => {
    const tenants = (await wuzctl(['tenants', 'list', '--json'], { env: env() })).stdout;
    expect(JSON.parse(tenants).map((t: { slug: string }) => t.slug)).toEqual(['ext-a', 'ext-b']);
    const users = await call(tokens['ext-a'] as string, 'GET', '/api/admin/users');
    expect(users.status).toBe(200);
    expect(users.body.data.map((u: { email: string }) => u.email)).toEqual(['boss@ext-a.test']);
  });

  it('runs each route group and keeps tenants apart', async () => {
    const a = tokens['ext-a'] as string;
    const b = tokens['ext-b'] as string;
    const team = await call(a, 'POST', '/api/session/teams', { name: 'Ops' });
    expect(team.status).toBe(201);
    const role = await call(a, 'POST', '/api/session/roles', { name: 'Lead', permissions: ['agents:write'] });
    expect(role.status).toBe(201);
    const agent = await call(a, 'POST', '/api/session/agents', {
      name: 'Zoë',
      email: 'zoe@ext-a.test',
      team_id: team.body.id,
      role_id: role.body.id,
    });
    expect(agent.status).toBe(201);
    expect((await call(a, 'POST', '/api/contacts', [{ phone: '+4915112345678' }])).status).toBe(201);
    const plan = await call(a, 'POST', '/api/admin/plans', {
      name: 'Gold',
      price_cents: 5000,
      currency: 'eur',
      interval: 'month',
      limits: { max_agents: 5, messages_per_month: 5000 },
    });
    expect(plan.status).toBe(201);
    expect((await call(a, 'POST', '/api/user/subscription', { plan_id: plan.body.id })).status).toBe(201);
    const analytics = await call(a, 'GET', '/api/admin/stripe/analytics');
    expect(analytics.body).toMatchObject({ currency: 'eur', mrr_cents: 5000, subscriptions: { active: 1 } });

    expect((await call(b, 'GET', `/api/session/agents/${agent.body.id}`)).status).toBe(404);
    expect((await call(b, 'DELETE', `/api/session/teams/${team.body.id}`)).status).toBe(404);
    expect((await call(b, 'GET', '/api/session/agents')).body.total).toBe(0);
    expect((await call(b, 'POST', '/api/user/subscription', { plan_id: plan.body.id })).status).toBe(422);
    expect((await call(b, 'GET', '/api/admin/stripe/analytics')).body.mrr_cents).toBe(0);
    expect((await call(a, 'GET', `/api/session/agents/${agent.body.id}`)).body.name).toBe('Zoë');
  });

  it('seeds straight into DATABASE_URL while the daemon serves it; the new tokens work at once', async () => {
    const seeded = JSON.parse(
      (await wuzctl(['seed', '--demo', '--tenants', '1', '--json'], { env: env(), timeoutMs: 120_000 }))
        .stdout,
    );
    expect(seeded.tenants).toHaveLength(1);
    const reply = await call(seeded.tenants[0].admin_token, 'GET', '/api/session/agents');
    expect(reply.status).toBe(200);
    expect(reply.body.total).toBe(8);
  });
});
