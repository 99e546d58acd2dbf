import type pg from 'pg';
import { prng } from '../../../random.ts';
import type { SecretBox } from '../../security/secretBox.ts';
import { type Queryable, withTransaction } from '../queryable.ts';
import { createPlan, type Plan } from '../repositories/plans.ts';
import { saveStripeSettings } from '../repositories/stripeSettings.ts';
import { createTenant, findTenantBySlug, TENANT_PLANS, type TenantPlan } from '../repositories/tenants.ts';
import { createToken, revokeNamedTokens } from '../repositories/tokens.ts';
import { createUser, type User } from '../repositories/users.ts';
import { seedDemoJobs } from './demoJobs.ts';

/**
 * Realistic demo data for workloads, benchmarks and gates: tenants on every plan, their
 * plans, six months of subscriptions with churn, agents/teams/roles and contacts, and for
 * the first user (user01) the background work a demo shows: campaigns of every outcome
 * and one paused to resume, imports and reports (demoJobs.ts). Deterministic (a PRNG
 * seeded by the tenant slug) and idempotent: a tenant that exists is left as it is. Only
 * the tokens rotate: their secrets are not stored, so a re-run revokes the previous demo
 * tokens and issues new ones it can print.
 */
export interface DemoTenant {
  slug: string;
  plan: TenantPlan;
  created: boolean;
  admin_token: string;
  user_tokens: string[];
  /** Prefixes of the demo tokens this run revoked: the auth cache must forget them. */
  revoked: string[];
}

export const DEMO_TOKEN_NAME = 'demo';
const TOKEN_HOLDERS = 3;
const CUSTOMERS: Record<TenantPlan, number> = { free: 12, pro: 24, enterprise: 40 };
const CONTACTS_PER_HOLDER = 150;
const DAY = 86_400_000;

const FIRST = [
  'Ana',
  'Bruno',
  'Carla',
  'Diego',
  'Elisa',
  'Fábio',
  'Gabi',
  'Hugo',
  'Iara',
  'João',
  'Kátia',
  'Luís',
];
const LAST = [
  'Silva',
  'Souza',
  'Costa',
  'Santos',
  'Oliveira',
  'Pereira',
  'Lima',
  'Gomes',
  'Ribeiro',
  'Almeida',
];
const CITIES = ['São Paulo', 'Rio de Janeiro', 'Belo Horizonte', 'Curitiba', 'Recife', 'Porto Alegre'];

export async function seedDemo(
  pool: pg.Pool,
  box: SecretBox,
  tenants: number,
  progress: (message: string) => void = () => {},
): Promise<DemoTenant[]> {
  const results: DemoTenant[] = [];
  for (let i = 1; i <= tenants; i++) {
    const slug = `demo-${i}`;
    const plan = TENANT_PLANS[(i - 1) % TENANT_PLANS.length] as TenantPlan;
    const created = await withTransaction(pool, async (db) => {
      // Serialises concurrent seeds of the same tenant.
      await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`seed:${slug}`]);
      if (await findTenantBySlug(db, slug)) return false;
      progress(
        `${slug}: creating (${plan}): users, plans, subscriptions, agents, contacts; user01's campaigns, imports, reports`,
      );
      await seedTenant(db, box, slug, i, plan);
      return true;
    });
    if (!created) progress(`${slug}: exists, kept as it is`);
    results.push({ slug, plan, created, ...(await rotateTokens(pool, slug)) });
  }
  return results;
}

const holderEmails = (slug: string) => [
  `admin@${slug}.example`,
  ...Array.from({ length: TOKEN_HOLDERS }, (_, k) => `user${String(k + 1).padStart(2, '0')}@${slug}.example`),
];

async function rotateTokens(
  pool: pg.Pool,
  slug: string,
): Promise<{ admin_token: string; user_tokens: string[]; revoked: string[] }> {
  return withTransaction(pool, async (db) => {
    const { rows } = await db.query<{ id: string; tenant_id: string; email: string }>(
      `SELECT u.id, u.tenant_id, u.email FROM users u JOIN tenants t ON t.id = u.tenant_id
        WHERE t.slug = $1 AND u.email = ANY($2::text[])`,
      [slug, holderEmails(slug)],
    );
    const byEmail = new Map(rows.map((row) => [row.email, row]));
    const tenantId = rows[0]?.tenant_id as string;
    const revoked = await revokeNamedTokens(
      db,
      tenantId,
      rows.map((r) => r.id),
      DEMO_TOKEN_NAME,
    );
    const tokens: string[] = [];
    for (const email of holderEmails(slug)) {
      const user = byEmail.get(email);
      if (!user) throw new Error(`demo user ${email} is missing: drop tenant ${slug} and seed again`);
      tokens.push((await createToken(db, { tenantId, userId: user.id, name: DEMO_TOKEN_NAME })).token);
    }
    return { admin_token: tokens[0] as string, user_tokens: tokens.slice(1), revoked };
  });
}

async function seedTenant(
  db: Queryable,
  box: SecretBox,
  slug: string,
  index: number,
  plan: TenantPlan,
): Promise<void> {
  const random = prng(slug);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const tenant = await createTenant(db, { name: `Demo Reseller ${index}`, slug, plan });
  const admin = await createUser(db, {
    tenantId: tenant.id,
    email: `admin@${slug}.example`,
    name: `Admin ${index}`,
    role: 'admin',
  });

  const plans = [
    await createPlan(db, tenant.id, {
      name: 'Starter',
      price_cents: 2900,
      currency: 'usd',
      interval: 'month',
      limits: { max_agents: 3, messages_per_month: 1000 },
      trial_days: 14,
      stripe_price_id: `price_${slug}_starter`,
    }),
    await createPlan(db, tenant.id, {
      name: 'Pro',
      price_cents: 9900,
      currency: 'usd',
      interval: 'month',
      limits: { max_agents: 10, messages_per_month: 10_000 },
      stripe_price_id: `price_${slug}_pro`,
    }),
    await createPlan(db, tenant.id, {
      name: 'Business',
      price_cents: 99_000,
      currency: 'usd',
      interval: 'year',
      limits: { max_agents: 50, messages_per_month: 100_000 },
      stripe_price_id: `price_${slug}_business`,
    }),
  ] as [Plan, Plan, Plan];
  const key = (n: number) =>
    Array.from({ length: n }, () =>
      pick([...'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789']),
    ).join('');
  await saveStripeSettings(db, box, tenant.id, {
    publishable_key: `pk_test_${key(24)}`,
    secret_key: `sk_test_${key(24)}`,
    webhook_secret: `whsec_${key(32)}`,
    currency: 'usd',
  });

  const customers: User[] = [];
  for (let k = 1; k <= CUSTOMERS[plan]; k++) {
    const email = `user${String(k).padStart(2, '0')}@${slug}.example`;
    customers.push(
      await createUser(db, {
        tenantId: tenant.id,
        email,
        name: `${pick(FIRST)} ${pick(LAST)}`,
        role: 'user',
      }),
    );
  }

  // Subscriptions: the token holders on fixed plans (so demos are predictable), the rest
  // spread over six months with trials, past-due and ~15% churn.
  const now = Date.now();
  const subs: Array<[string, string, string, number, number | null]> = [];
  customers.forEach((user, k) => {
    if (k < TOKEN_HOLDERS) {
      const fixed = [
        [plans[1], 'active'],
        [plans[0], 'trialing'],
        [plans[2], 'active'],
      ][k] as [Plan, string];
      subs.push([user.id, fixed[0].id, fixed[1], now - (k + 1) * 20 * DAY, null]);
      return;
    }
    const chosen = random() < 0.5 ? plans[0] : random() < 0.8 ? plans[1] : plans[2];
    const createdAt = now - Math.floor(random() * 180 * DAY);
    const roll = random();
    if (now - createdAt < 14 * DAY && chosen.trial_days > 0)
      subs.push([user.id, chosen.id, 'trialing', createdAt, null]);
    else if (roll < 0.15)
      subs.push([
        user.id,
        chosen.id,
        'canceled',
        createdAt,
        createdAt + Math.floor(random() * (now - createdAt)),
      ]);
    else if (roll < 0.23) subs.push([user.id, chosen.id, 'past_due', createdAt, null]);
    else subs.push([user.id, chosen.id, 'active', createdAt, null]);
  });
  await db.query(
    `INSERT INTO subscriptions (tenant_id, user_id, plan_id, status, created_at, updated_at,
                                current_period_start, current_period_end, canceled_at)
     SELECT $1, s.user_id, s.plan_id, s.status, s.created_at, s.created_at,
            -- the period that contains now (or the cancellation), one plan interval long
            coalesce(s.canceled_at, now()) - (p.interval_length * ((extract(epoch FROM coalesce(s.canceled_at, now()) - s.created_at)
              / extract(epoch FROM p.interval_length))::numeric % 1)),
            coalesce(s.canceled_at, now()) + p.interval_length * (1 - ((extract(epoch FROM coalesce(s.canceled_at, now()) - s.created_at)
              / extract(epoch FROM p.interval_length))::numeric % 1)),
            s.canceled_at
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[], $6::timestamptz[])
              AS s(user_id, plan_id, status, created_at, canceled_at)
       JOIN (SELECT id, CASE WHEN interval = 'year' THEN interval '1 year' ELSE interval '1 month' END AS interval_length
               FROM plans WHERE tenant_id = $1) p ON p.id = s.plan_id`,
    [
      tenant.id,
      subs.map((s) => s[0]),
      subs.map((s) => s[1]),
      subs.map((s) => s[2]),
      subs.map((s) => new Date(s[3])),
      subs.map((s) => (s[4] === null ? null : new Date(s[4]))),
    ],
  );

  // Agents, teams, roles and contacts for the people who hold demo tokens.
  const holders: Array<[User, number]> = [
    [admin, 8],
    ...customers.slice(0, TOKEN_HOLDERS).map((u, k) => [u, [5, 3, 12][k] as number] as [User, number]),
  ];
  let phoneSerial = index * 1_000_000;
  for (const [user, agentCount] of holders) {
    const owner = [tenant.id, user.id];
    const teams = await db.query<{ id: string }>(
      `INSERT INTO teams (tenant_id, owner_id, name) SELECT $1, $2, unnest($3::text[]) RETURNING id`,
      [...owner, ['Sales', 'Support']],
    );
    const roles = await db.query<{ id: string }>(
      `INSERT INTO roles (tenant_id, owner_id, name, permissions)
       SELECT $1, $2, r.name, r.permissions::text[]
         FROM unnest($3::text[], $4::text[]) AS r(name, permissions) RETURNING id`,
      [
        ...owner,
        ['Supervisor', 'Agent', 'Viewer'],
        [
          '{contacts:read,contacts:write,campaigns:read,campaigns:write,campaigns:send,agents:read,agents:write,reports:read,inbox:read,inbox:reply}',
          '{contacts:read,campaigns:read,inbox:read,inbox:reply}',
          '{contacts:read,campaigns:read,reports:read}',
        ],
      ],
    );
    const agents = Array.from({ length: agentCount }, (_, k) => {
      const first = pick(FIRST);
      return {
        name: `${first} ${pick(LAST)}`,
        email: `agent${k + 1}.${user.email.split('@')[0]}@${slug}.example`,
        status: pick(['active', 'active', 'active', 'away', 'inactive']),
        team: teams.rows[k % 2]?.id,
        role: roles.rows[k === 0 ? 0 : 1 + (k % 2)]?.id,
      };
    });
    await db.query(
      `INSERT INTO agents (tenant_id, owner_id, name, email, status, team_id, role_id)
       SELECT $1, $2, a.name, a.email, a.status, a.team_id, a.role_id
         FROM unnest($3::text[], $4::text[], $5::text[], $6::uuid[], $7::uuid[]) AS a(name, email, status, team_id, role_id)`,
      [
        ...owner,
        agents.map((a) => a.name),
        agents.map((a) => a.email),
        agents.map((a) => a.status),
        agents.map((a) => a.team),
        agents.map((a) => a.role),
      ],
    );
    const contacts = Array.from({ length: CONTACTS_PER_HOLDER }, () => {
      const first = pick(FIRST);
      phoneSerial += 1;
      return {
        phone: `+55119${String(phoneSerial).padStart(8, '0')}`,
        name: `${first} ${pick(LAST)}`,
        variables: JSON.stringify({ first_name: first, city: pick(CITIES) }),
      };
    });
    await db.query(
      `INSERT INTO contacts (tenant_id, owner_id, phone, name, variables, created_at)
       SELECT $1, $2, c.phone, c.name, c.variables, now() - (c.n || ' minutes')::interval
         FROM unnest($3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS c(phone, name, variables, n)`,
      [...owner, contacts.map((c) => c.phone), contacts.map((c) => c.name), contacts.map((c) => c.variables)],
    );
  }

  // Campaigns, imports and reports as finished jobs leave them, for the first user (the
  // first of the printed user tokens). Drawn after everything above, which stays as it was.
  const first = customers[0] as User;
  await seedDemoJobs(db, box, { tenantId: tenant.id, userId: first.id }, slug, random, now);
}
