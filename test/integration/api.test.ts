// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read arbitrary JSON bodies
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupDaemons,
  type Daemon,
  embeddedDatabaseUrl,
  embeddedEnv,
  startDaemon,
  statusJson,
  wuzctl,
} from '../helpers/daemon.ts';

// One daemon (embedded Redis and PGlite) serves every test of this file; data is made
// through the CLI, as an operator would, and read back through real HTTP.

interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

let daemon: Daemon;

async function call(
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${daemon.url}${path}`, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

async function cli(args: string[]): Promise<any> {
  const result = await wuzctl([...args, '--data-dir', daemon.dataDir, '--json'], { env: embeddedEnv });
  expect(result.exitCode, `wuzctl ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout);
}

function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.body.error.code).toBe(code);
  expect(typeof reply.body.error.message).toBe('string');
  expect(reply.body.error.message.length).toBeGreaterThan(0);
}

interface TenantTokens {
  slug: string;
  admin: string;
  user: string;
  otherUser: string;
}

async function tenantWithUsers(slug: string): Promise<TenantTokens> {
  await cli(['tenants', 'create', `Tenant ${slug}`, '--slug', slug, '--plan', 'pro']);
  const tokens: string[] = [];
  for (const [email, role] of [
    [`admin@${slug}.test`, 'admin'],
    [`user@${slug}.test`, 'user'],
    [`other@${slug}.test`, 'user'],
  ]) {
    await cli(['users', 'create', '--tenant', slug, '--email', email as string, '--role', role as string]);
    tokens.push((await cli(['tokens', 'create', '--user', email as string, '--tenant', slug])).token);
  }
  return { slug, admin: tokens[0] as string, user: tokens[1] as string, otherUser: tokens[2] as string };
}

let a: TenantTokens;
let b: TenantTokens;

beforeAll(async () => {
  daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 2 });
  a = await tenantWithUsers('tenant-a');
  b = await tenantWithUsers('tenant-b');
});
afterAll(cleanupDaemons);

describe('authentication and authorization', () => {
  it('tells a token who it belongs to (GET /api/me)', async () => {
    const admin = await call(a.admin, 'GET', '/api/me');
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({
      user: { email: 'admin@tenant-a.test', role: 'admin' },
      tenant: { slug: 'tenant-a', plan: 'pro' },
    });
    const user = await call(b.user, 'GET', '/api/me');
    expect(user.body).toMatchObject({
      user: { email: 'user@tenant-b.test', role: 'user' },
      tenant: { slug: 'tenant-b' },
    });
    expect(user.body.tenant.id).not.toBe(admin.body.tenant.id);
    expectError(await call(null, 'GET', '/api/me'), 401, 'unauthorized');
  });

  it.each([
    ['no header', null],
    ['a malformed token', 'not-a-token'],
    ['an unknown token', 'wuz_0123456789ab_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
  ])('answers 401 for %s', async (_label, token) => {
    expectError(await call(token, 'GET', '/api/session/agents'), 401, 'unauthorized');
  });

  it('answers 401 once a token is revoked, at once', async () => {
    const created = await cli(['tokens', 'create', '--user', `user@${a.slug}.test`, '--tenant', a.slug]);
    expect((await call(created.token, 'GET', '/api/session/teams')).status).toBe(200);
    await cli(['tokens', 'revoke', created.id]);
    expectError(await call(created.token, 'GET', '/api/session/teams'), 401, 'unauthorized');
  });

  it('keeps users out of every admin route (403) and lets admins in', async () => {
    for (const [method, path] of [
      ['GET', '/api/admin/stripe/settings'],
      ['PUT', '/api/admin/stripe/settings'],
      ['GET', '/api/admin/stripe/analytics'],
      ['GET', '/api/admin/plans'],
      ['POST', '/api/admin/plans'],
      ['GET', '/api/admin/users'],
    ] as const) {
      expectError(await call(a.user, method, path, method === 'GET' ? undefined : {}), 403, 'forbidden');
    }
    expect((await call(a.admin, 'GET', '/api/admin/users')).status).toBe(200);
  });

  it('stores tokens only as hashes', async () => {
    const { address } = (await statusJson(daemon.dataDir)).database;
    const client = new pg.Client({ connectionString: await embeddedDatabaseUrl(daemon.dataDir, address) });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT prefix, encode(secret_hash, $1) AS hash FROM api_tokens', [
        'escape',
      ]);
      const secret = a.user.slice('wuz_'.length + 12 + 1);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(`${row.prefix}${row.hash}`).not.toContain(secret);
    } finally {
      await client.end();
    }
  });
});

describe('request errors', () => {
  it('answers an unknown route with a JSON 404', async () => {
    expectError(await call(a.user, 'GET', '/api/no/such/thing'), 404, 'not_found');
  });

  it('answers 415 to a body that is not JSON', async () => {
    const response = await fetch(`${daemon.url}/api/session/teams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.user}`, 'content-type': 'text/plain' },
      body: 'name=x',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'unsupported_media_type',
    );
  });

  it('answers 413 to a body over 1 MB and 400 to broken JSON', async () => {
    expectError(
      await call(
        a.user,
        'POST',
        '/api/session/teams',
        undefined,
        JSON.stringify({ name: 'x'.repeat(1_100_000) }),
      ),
      413,
      'payload_too_large',
    );
    expectError(await call(a.user, 'POST', '/api/session/teams', undefined, '{"name":'), 400, 'invalid_json');
  });

  const malformed: Array<[string, string, unknown]> = [
    ['missing field', '/api/session/teams', {}],
    ['wrong type', '/api/session/teams', { name: 42 }],
    ['extra field', '/api/session/teams', { name: 'ok', admin: true }],
    ['huge string', '/api/session/teams', { name: 'x'.repeat(10_000) }],
    ['blank name', '/api/session/teams', { name: '   ' }],
    ['NUL byte', '/api/session/teams', { name: 'a\u0000b' }],
    ['array body', '/api/session/teams', [{ name: 'x' }]],
    ['unknown permission', '/api/session/roles', { name: 'r', permissions: ['root'] }],
    ['repeated permission', '/api/session/roles', { name: 'r', permissions: ['inbox:read', 'inbox:read'] }],
    ['bad email', '/api/session/agents', { name: 'Ag', email: 'not-an-email' }],
    ['bad status', '/api/session/agents', { name: 'Ag', email: 'ag@x.test', status: 'sleeping' }],
    [
      'team id not a uuid',
      '/api/session/agents',
      { name: 'Ag', email: 'ag@x.test', team_id: "1' OR '1'='1" },
    ],
    ['bad phone', '/api/contacts', { phone: '12345' }],
    ['variables not strings', '/api/contacts', { phone: '+5511912345678', variables: { a: { b: 1 } } }],
    ['empty batch', '/api/contacts', []],
  ];
  it.each(malformed)('answers 400 with details to a body with %s', async (_label, path, body) => {
    const reply = await call(a.user, 'POST', path, body);
    expectError(reply, 400, 'invalid_request');
    expect(Array.isArray(reply.body.error.details)).toBe(true);
  });

  it('stores unicode and SQL metacharacters verbatim', async () => {
    for (const name of ["'; DROP TABLE teams; --", 'فريق الدعم', 'Équipe 😀']) {
      const created = await call(a.user, 'POST', '/api/session/teams', { name });
      expect(created.status).toBe(201);
      expect(created.body.name).toBe(name);
    }
    const list = await call(a.user, 'GET', '/api/session/teams?q=DROP');
    expect(list.body.data.map((t: { name: string }) => t.name)).toEqual(["'; DROP TABLE teams; --"]);
  });
});

describe('agents, teams and roles', () => {
  it('runs the whole life cycle with pagination, filters, conflicts and in-use deletes', async () => {
    const team = await call(b.user, 'POST', '/api/session/teams', { name: 'Sales' });
    expect(team.status).toBe(201);
    expect(team.body).toMatchObject({ name: 'Sales', id: expect.any(String) });
    expectError(await call(b.user, 'POST', '/api/session/teams', { name: 'sales' }), 409, 'conflict');
    const role = await call(b.user, 'POST', '/api/session/roles', {
      name: 'Agent',
      permissions: ['inbox:read'],
    });
    expect(role.status).toBe(201);

    for (let i = 1; i <= 3; i++) {
      const agent = await call(b.user, 'POST', '/api/session/agents', {
        name: `Agent ${i}`,
        email: `agent${i}@b.test`,
        status: i === 3 ? 'away' : 'active',
        team_id: team.body.id,
        role_id: role.body.id,
      });
      expect(agent.status).toBe(201);
    }
    expectError(
      await call(b.user, 'POST', '/api/session/agents', { name: 'Dup', email: 'AGENT1@b.test' }),
      409,
      'conflict',
    );
    const page = await call(b.user, 'GET', '/api/session/agents?per_page=2&page=2');
    expect(page.body).toMatchObject({ page: 2, per_page: 2, total: 3 });
    expect(page.body.data).toHaveLength(1);
    const away = await call(b.user, 'GET', '/api/session/agents?status=away');
    expect(away.body.data.map((x: { email: string }) => x.email)).toEqual(['agent3@b.test']);

    const inUse = await call(b.user, 'DELETE', `/api/session/teams/${team.body.id}`);
    expectError(inUse, 409, 'conflict');
    expect(inUse.body.error.details.agents).toBe(3);

    const first = (await call(b.user, 'GET', '/api/session/agents?q=agent1')).body.data[0];
    const patched = await call(b.user, 'PATCH', `/api/session/agents/${first.id}`, {
      status: 'inactive',
      team_id: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ status: 'inactive', team_id: null });
    expect((await call(b.user, 'DELETE', `/api/session/agents/${first.id}`)).status).toBe(204);
    expectError(await call(b.user, 'GET', `/api/session/agents/${first.id}`), 404, 'not_found');
  });

  it('refuses a team of another user (422) and hides one user’s agents from another (404)', async () => {
    const foreignTeam = await call(b.otherUser, 'POST', '/api/session/teams', { name: 'Theirs' });
    expectError(
      await call(b.user, 'POST', '/api/session/agents', {
        name: 'X',
        email: 'x@b.test',
        team_id: foreignTeam.body.id,
      }),
      422,
      'unprocessable',
    );
    const mine = (await call(b.user, 'GET', '/api/session/agents')).body.data[0];
    expectError(
      await call(b.otherUser, 'PATCH', `/api/session/agents/${mine.id}`, { name: 'Stolen' }),
      404,
      'not_found',
    );
    expect((await call(b.otherUser, 'GET', '/api/session/agents')).body.total).toBe(0);
  });
});

describe('contacts', () => {
  it('creates one, a batch with duplicates skipped, refuses a bad batch whole, searches and deletes', async () => {
    const one = await call(a.user, 'POST', '/api/contacts', { phone: '+55 11 91234-0001', name: 'Ana' });
    expect(one.status).toBe(201);
    expect(one.body.phone).toBe('+5511912340001');
    expectError(await call(a.user, 'POST', '/api/contacts', { phone: '+5511912340001' }), 409, 'conflict');

    const batch = await call(a.user, 'POST', '/api/contacts', [
      { phone: '+5511912340001' },
      { phone: '+5511912340002', name: 'Bia', variables: { city: 'Recife' } },
      { phone: '+5511912340002' },
    ]);
    expect(batch.status).toBe(201);
    expect(batch.body.created).toHaveLength(1);
    expect(batch.body.skipped.map((s: { index: number }) => s.index)).toEqual([0, 2]);

    const bad = await call(a.user, 'POST', '/api/contacts', [{ phone: '+5511912340003' }, { phone: 'nope' }]);
    expectError(bad, 400, 'invalid_request');
    expect(bad.body.error.message).toMatch(/^body\.1\.phone/);
    expect((await call(a.user, 'GET', '/api/contacts?q=0003')).body.total).toBe(0);

    const found = await call(a.user, 'GET', '/api/contacts?q=bia');
    expect(found.body.data).toMatchObject([{ name: 'Bia', variables: { city: 'Recife' } }]);
    expect((await call(a.user, 'DELETE', `/api/contacts/${one.body.id}`)).status).toBe(204);
    expect((await call(a.user, 'GET', '/api/contacts')).body.total).toBe(1);
  });
});

describe('plans, subscriptions and Stripe settings', () => {
  let pro: { id: string };
  let small: { id: string };

  it('lets an admin create plans (409 on a duplicate name) and list them', async () => {
    const created = await call(a.admin, 'POST', '/api/admin/plans', {
      name: 'Pro',
      price_cents: 9900,
      currency: 'USD',
      interval: 'month',
      limits: { max_agents: 10, messages_per_month: 10000 },
      trial_days: 7,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ currency: 'usd', limits: { max_agents: 10 }, trial_days: 7 });
    pro = created.body;
    small = (
      await call(a.admin, 'POST', '/api/admin/plans', {
        name: 'Tiny',
        price_cents: 0,
        currency: 'usd',
        interval: 'year',
        limits: { max_agents: 0, messages_per_month: 100 },
      })
    ).body;
    expectError(
      await call(a.admin, 'POST', '/api/admin/plans', {
        ...created.body,
        id: undefined,
        created_at: undefined,
      }),
      409,
      'conflict',
    );
    const list = await call(a.admin, 'GET', '/api/admin/plans');
    expect(list.body.data.map((p: { name: string }) => p.name).sort()).toEqual(['Pro', 'Tiny']);
  });

  it("lists the tenant's plans to its users (GET /api/user/plans), never another tenant's", async () => {
    expectError(await call(a.user, 'GET', '/api/admin/plans'), 403, 'forbidden');
    const forUser = await call(a.user, 'GET', '/api/user/plans');
    expect(forUser.status).toBe(200);
    expect(forUser.body).toMatchObject({ page: 1, total: 2 });
    expect(forUser.body.data.map((p: { name: string }) => p.name).sort()).toEqual(['Pro', 'Tiny']);
    const otherTenant = await call(b.user, 'GET', '/api/user/plans');
    expect(otherTenant.body).toMatchObject({ data: [], total: 0, per_page: 1 });
  });

  it('subscribes, refuses the same plan and a plan below usage, cancels at period end once', async () => {
    // No subscription is an answer (200, null), not a 404 — and a cached one: the second read hits.
    const none = await call(a.otherUser, 'GET', '/api/user/subscription');
    expect(none.status, JSON.stringify(none.body)).toBe(200);
    expect(none.body).toBeNull();
    const noneAgain = await call(a.otherUser, 'GET', '/api/user/subscription');
    expect(noneAgain.status).toBe(200);
    expect(noneAgain.body).toBeNull();
    expect(noneAgain.headers.get('x-cache')).toBe('HIT');
    const subscribed = await call(a.otherUser, 'POST', '/api/user/subscription', { plan_id: pro.id });
    expect(subscribed.status).toBe(201);
    expect(subscribed.body).toMatchObject({
      status: 'trialing',
      plan: { name: 'Pro' },
      usage: { agents: 0 },
    });
    // The subscribe invalidated the cached null: the very next read shows the subscription.
    const shown = await call(a.otherUser, 'GET', '/api/user/subscription');
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual(subscribed.body);
    expectError(
      await call(a.otherUser, 'POST', '/api/user/subscription', { plan_id: pro.id }),
      409,
      'conflict',
    );
    expectError(
      await call(a.otherUser, 'POST', '/api/user/subscription', { plan_id: b.slug }),
      422,
      'unprocessable',
    );
    await call(a.otherUser, 'POST', '/api/session/agents', { name: 'Ag', email: 'ag@a.test' });
    const usage = await call(a.otherUser, 'GET', '/api/user/subscription');
    expect(usage.body.usage.agents).toBe(1);
    expectError(
      await call(a.otherUser, 'POST', '/api/user/subscription', { plan_id: small.id }),
      422,
      'unprocessable',
    );

    const canceled = await call(a.otherUser, 'DELETE', '/api/user/subscription');
    expect(canceled.status).toBe(200);
    expect(canceled.body.cancel_at_period_end).toBe(true);
    const afterCancel = await call(a.otherUser, 'GET', '/api/user/subscription');
    expect(afterCancel.status).toBe(200);
    expect(afterCancel.body).toMatchObject({ id: subscribed.body.id, cancel_at_period_end: true });
    expectError(await call(a.otherUser, 'DELETE', '/api/user/subscription'), 409, 'conflict');
    // Someone with no subscription still cannot cancel one.
    expect((await call(a.user, 'GET', '/api/user/subscription')).body).toBeNull();
    expectError(await call(a.user, 'DELETE', '/api/user/subscription'), 404, 'not_found');
  });

  it('keeps Stripe secrets server-side and validates keys', async () => {
    const before = await call(a.admin, 'GET', '/api/admin/stripe/settings');
    expect(before.body).toMatchObject({ configured: false, secret_key_last4: null });
    expectError(
      await call(a.admin, 'PUT', '/api/admin/stripe/settings', {
        publishable_key: 'pk_test_abcdefgh',
        currency: 'usd',
      }),
      422,
      'unprocessable',
    );
    const secret = 'sk_test_SECRETvalue1234WXYZ';
    const saved = await call(a.admin, 'PUT', '/api/admin/stripe/settings', {
      publishable_key: 'pk_test_abcdefgh',
      secret_key: secret,
      webhook_secret: 'whsec_hooksecret9f3a',
      currency: 'BRL',
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      configured: true,
      secret_key_last4: 'WXYZ',
      webhook_secret_last4: '9f3a',
      currency: 'brl',
    });
    const after = await call(a.admin, 'GET', '/api/admin/stripe/settings');
    expect(after.body.currency).toBe('brl');
    expect(JSON.stringify(after.body)).not.toContain('SECRET');
    expectError(
      await call(a.admin, 'PUT', '/api/admin/stripe/settings', {
        publishable_key: 'pk_live_abcdefgh',
        currency: 'usd',
      }),
      422,
      'unprocessable',
    );
  });
});

describe('analytics', () => {
  it('matches a hand-computed data set', async () => {
    const t = await tenantWithUsers('tenant-analytics');
    const { address } = (await statusJson(daemon.dataDir)).database;
    const db = new pg.Client({ connectionString: await embeddedDatabaseUrl(daemon.dataDir, address) });
    await db.connect();
    try {
      const tenantId = (await db.query('SELECT id FROM tenants WHERE slug = $1', [t.slug])).rows[0].id;
      const plan = async (name: string, cents: number, interval: string) =>
        (
          await db.query(
            `INSERT INTO plans (tenant_id, name, price_cents, currency, interval, max_agents, messages_per_month)
             VALUES ($1, $2, $3, 'usd', $4, 10, 1000) RETURNING id`,
            [tenantId, name, cents, interval],
          )
        ).rows[0].id;
      const monthly = await plan('Monthly', 1000, 'month');
      const yearly = await plan('Yearly', 12_000, 'year');
      await plan('Unused', 500, 'month');
      const users: string[] = [];
      for (let i = 0; i < 6; i++) {
        users.push(
          (
            await db.query(
              `INSERT INTO users (tenant_id, email, role) VALUES ($1, $2, 'user') RETURNING id`,
              [tenantId, `u${i}@an.test`],
            )
          ).rows[0].id,
        );
      }
      const sub = (
        user: number,
        planId: string,
        status: string,
        createdDaysAgo: number,
        canceledDaysAgo?: number,
      ) =>
        db.query(
          `INSERT INTO subscriptions (tenant_id, user_id, plan_id, status, created_at, current_period_start,
                                      current_period_end, canceled_at)
           VALUES ($1, $2, $3, $4, now() - $5 * interval '1 day', now(), now() + interval '1 month',
                   CASE WHEN $6::int IS NULL THEN NULL ELSE now() - $6 * interval '1 day' END)`,
          [tenantId, users[user], planId, status, createdDaysAgo, canceledDaysAgo ?? null],
        );
      await sub(0, monthly, 'active', 60); //    live 30 d ago; MRR 1000
      await sub(1, monthly, 'past_due', 45); //  live 30 d ago; MRR 1000
      await sub(2, yearly, 'active', 2); //      new; MRR 12000/12 = 1000
      await sub(3, monthly, 'trialing', 0); //   new today; no MRR
      await sub(4, yearly, 'canceled', 90, 10); // live 30 d ago, churned 10 d ago
      await sub(5, monthly, 'canceled', 100, 50); // canceled before the window: neither
    } finally {
      await db.end();
    }
    const reply = await call(t.admin, 'GET', '/api/admin/stripe/analytics');
    expect(reply.status).toBe(200);
    const body = reply.body;
    // MRR = 1000 + 1000 + 1000 = 3000 cents; ARR = 36000.
    expect(body).toMatchObject({
      currency: 'usd',
      mrr_cents: 3000,
      arr_cents: 36_000,
      subscriptions: { active: 2, trialing: 1, past_due: 1, canceled: 2 },
    });
    // Live 30 days ago: users 0, 1, 4 (3); canceled since: user 4 (1) → 1/3.
    expect(body.churn_rate_30d).toBe(0.3333);
    expect(body.revenue_by_plan).toEqual([
      { plan_id: expect.any(String), plan: 'Monthly', subscriptions: 2, mrr_cents: 2000 },
      { plan_id: expect.any(String), plan: 'Yearly', subscriptions: 1, mrr_cents: 1000 },
      { plan_id: expect.any(String), plan: 'Unused', subscriptions: 0, mrr_cents: 0 },
    ]);
    const days = body.new_subscriptions_per_day as Array<{ date: string; count: number }>;
    expect(days).toHaveLength(30);
    const dayAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    expect(days.at(-1)?.date).toBe(dayAgo(0));
    const byDate = Object.fromEntries(days.map((d) => [d.date, d.count]));
    expect(byDate[dayAgo(0)]).toBe(1);
    expect(byDate[dayAgo(2)]).toBe(1);
    expect(days.reduce((sum, d) => sum + d.count, 0)).toBe(2);
  });
});

describe('tenant isolation', () => {
  it('never lets tenant B see, change or delete tenant A’s rows, through any route', async () => {
    const team = (await call(a.user, 'POST', '/api/session/teams', { name: 'A only' })).body;
    const role = (await call(a.user, 'POST', '/api/session/roles', { name: 'A role', permissions: [] })).body;
    const agent = (
      await call(a.user, 'POST', '/api/session/agents', { name: 'A agent', email: 'a-agent@a.test' })
    ).body;
    const contact = (await call(a.user, 'POST', '/api/contacts', { phone: '+5511988887777' })).body;
    const plan = (await call(a.admin, 'GET', '/api/admin/plans')).body.data[0];

    for (const [kind, id] of [
      ['teams', team.id],
      ['roles', role.id],
      ['agents', agent.id],
    ]) {
      expectError(await call(b.user, 'GET', `/api/session/${kind}/${id}`), 404, 'not_found');
      expectError(
        await call(b.user, 'PATCH', `/api/session/${kind}/${id}`, { name: 'pwned' }),
        404,
        'not_found',
      );
      expectError(await call(b.user, 'DELETE', `/api/session/${kind}/${id}`), 404, 'not_found');
      const list = await call(b.admin, 'GET', `/api/session/${kind}`);
      expect(JSON.stringify(list.body)).not.toContain(id);
    }
    expectError(await call(b.user, 'DELETE', `/api/contacts/${contact.id}`), 404, 'not_found');
    expect(JSON.stringify((await call(b.user, 'GET', '/api/contacts?q=88887777')).body.data)).toBe('[]');
    expectError(
      await call(b.user, 'POST', '/api/user/subscription', { plan_id: plan.id }),
      422,
      'unprocessable',
    );
    expectError(
      await call(b.user, 'POST', '/api/session/agents', { name: 'X', email: 'x@b2.test', team_id: team.id }),
      422,
      'unprocessable',
    );
    for (const path of [
      '/api/admin/plans',
      '/api/admin/users',
      '/api/admin/stripe/settings',
      '/api/admin/stripe/analytics',
    ]) {
      const reply = await call(b.admin, 'GET', path);
      expect(reply.status).toBe(200);
      expect(JSON.stringify(reply.body)).not.toContain(plan.id);
      expect(JSON.stringify(reply.body)).not.toContain(a.slug);
      expect(JSON.stringify(reply.body)).not.toContain('WXYZ');
    }

    // A's rows are untouched.
    expect((await call(a.user, 'GET', `/api/session/teams/${team.id}`)).body.name).toBe('A only');
    expect((await call(a.user, 'GET', `/api/session/agents/${agent.id}`)).body.name).toBe('A agent');
    expect((await call(a.user, 'GET', '/api/contacts?q=88887777')).body.total).toBe(1);
  });
});

describe('the response cache', () => {
  it('serves a repeated read as a HIT and never a stale one after a write, from any worker', async () => {
    const path = '/api/session/roles?per_page=100';
    const first = await call(a.otherUser, 'GET', path);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect((await call(a.otherUser, 'GET', path)).headers.get('x-cache')).toBe('HIT');
    // Many writes and reads, spread over both API workers by the kernel: each read must
    // show every write before it.
    for (let i = 0; i < 10; i++) {
      expect(
        (await call(a.otherUser, 'POST', '/api/session/roles', { name: `R${i}`, permissions: [] })).status,
      ).toBe(201);
      const read = await call(a.otherUser, 'GET', path);
      expect(read.body.data.map((r: { name: string }) => r.name)).toContain(`R${i}`);
      expect(read.body.total).toBe(i + 1);
    }
    // Another user of the same tenant, and another tenant, never get these entries.
    expect((await call(a.user, 'GET', path)).body.data.map((r: { name: string }) => r.name)).not.toContain(
      'R0',
    );
    expect((await call(b.user, 'GET', path)).body.data.map((r: { name: string }) => r.name)).not.toContain(
      'R0',
    );
  });

  it('counts hits and misses in the daemon status', async () => {
    const status = await statusJson(daemon.dataDir);
    const { cache } = status;
    expect(cache.hits).toBeGreaterThan(0);
    expect(cache.misses).toBeGreaterThan(0);
    expect(Object.keys(cache.routes)).toContain('/api/session/roles');
  });
});
