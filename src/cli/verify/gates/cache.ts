import { z } from 'zod';
import type { CacheSummary } from '../../../daemon/cache/summary.ts';
import { prng, shuffled, zipf } from '../../../random.ts';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { ApiClient, percentile, round, type Timed } from '../http.ts';

/**
 * Gate `cache`: a seeded, reproducible workload through the real API — many tenants and
 * users, Zipf-distributed, reads of the six cached endpoints mixed with writes — and the
 * hit rate the daemon itself counted. Every write is followed by a read that must show it,
 * and every later read of that identity must too: a stale answer fails the gate.
 */
const settings = z
  .object({
    threshold: z.number().min(0).max(1),
    requests: z.number().int().min(100).max(1_000_000),
    concurrency: z.number().int().min(1).max(256),
    writeRatio: z.number().min(0).max(0.5),
    zipfExponent: z.number().min(0).max(3),
    seed: z.string().min(1),
    /** Optional: fail unless a miss's p50 is at least this many times a hit's. 0 = report only. */
    minHitSpeedup: z.number().min(0),
  })
  .strict();

export type CacheGateSettings = z.infer<typeof settings>;

export const READ_ROUTES = {
  settings: '/api/admin/stripe/settings',
  analytics: '/api/admin/stripe/analytics',
  subscription: '/api/user/subscription',
  agents: '/api/session/agents',
  teams: '/api/session/teams',
  roles: '/api/session/roles',
} as const;
export type ReadRoute = keyof typeof READ_ROUTES;
type ListRoute = 'agents' | 'teams' | 'roles';
export type WriteKind = 'renameTeam' | 'renameRole' | 'renameAgent' | 'stripeSettings' | 'changePlan';

interface Plan {
  id: string;
  name: string;
  max_agents: number;
}

/** One token holder and what the workload knows of their data. */
export interface Identity {
  label: string;
  token: string;
  admin: boolean;
  reads: ReadRoute[];
  writes: WriteKind[];
  ids: Record<ListRoute, string[]>;
  agentCount: number;
  plans: Plan[];
  planId: string | null;
  /** The last completed write per route: any read that starts after it must show it. */
  expect: Partial<Record<ReadRoute, { describe: string; holds: (body: unknown) => boolean }>>;
  writing: Promise<void> | null;
  /** Bumped when a write begins: a read that overlapped one is not held to either value. */
  writesBegun: number;
}

export type Op =
  | { identity: Identity; read: ReadRoute; variant: string }
  | { identity: Identity; write: WriteKind };

interface Tally {
  requests: number;
  hitMs: number[];
  missMs: number[];
  serverErrors: number;
  unexpected: string[];
  stale: string[];
  checkedReads: number;
  writes: number;
  rateLimited: number;
}

const defaults: CacheGateSettings = {
  threshold: 0.7,
  requests: 20000,
  concurrency: 16,
  writeRatio: 0.05,
  zipfExponent: 1.1,
  seed: 'wuzctl-verify',
  minHitSpeedup: 0,
};

export const cacheGate: Gate<CacheGateSettings> = {
  name: 'cache',
  description: 'Redis response cache: hit rate of a Zipf read/write workload, no stale reads, no 5xx',
  unit: 'hit rate',
  direction: 'min',
  settings,
  defaults,
  daemonEnv: { WUZ_RATE_LIMIT: 'off' },
  run: runCacheGate,
};

async function runCacheGate(context: GateContext, config: CacheGateSettings): Promise<GateResult> {
  if (!context.cacheCounters) {
    throw new GateCannotRun(
      'the hit rate is read from the daemon’s own counters, and its control socket is out of reach',
      'run without --url (an ephemeral daemon), or add --data-dir of the daemon behind --url',
    );
  }
  if (context.tenants.length === 0) throw new GateCannotRun('no demo tenants to drive the workload with');
  const readCounters = context.cacheCounters;
  const before = await readCounters();
  if (!before.enabled) {
    throw new GateCannotRun('the daemon runs with the cache off', 'start it with --cache on (the default)');
  }

  const writer = new ApiClient(context.url, config.concurrency);
  const reader = new ApiClient(context.url, config.concurrency);
  try {
    context.progress(`cache: discovering ${context.tenants.length} tenants' data`);
    const identities = await discover(reader, context.tenants);
    const ops = plan(identities, config);
    const tally: Tally = {
      requests: 0,
      hitMs: [],
      missMs: [],
      serverErrors: 0,
      unexpected: [],
      stale: [],
      checkedReads: 0,
      writes: 0,
      rateLimited: 0,
    };
    const start = await readCounters();
    context.progress(
      `cache: ${config.requests} operations, ${identities.length} identities, ${config.concurrency} connections`,
    );
    const began = performance.now();
    let next = 0;
    let done = 0;
    const lane = async () => {
      while (next < ops.length) {
        const op = ops[next++] as Op;
        await execute(op, reader, writer, tally);
        if (++done % Math.ceil(ops.length / 10) === 0) context.progress(`cache: ${done}/${ops.length}`);
      }
    };
    await Promise.all(Array.from({ length: config.concurrency }, lane));
    const seconds = (performance.now() - began) / 1000;
    const end = await readCounters();
    return verdict(config, tally, delta(start, end), seconds, identities.length);
  } finally {
    writer.close();
    reader.close();
  }
}

/** Reads each identity's ids, plans and subscription through routes the workload does not use. */
export async function discover(client: ApiClient, tenants: GateContext['tenants']): Promise<Identity[]> {
  const identities: Identity[] = [];
  for (const tenant of tenants) {
    const plans = await must(client.request('GET', '/api/admin/plans?per_page=100', tenant.admin_token));
    const users = await must(client.request('GET', '/api/admin/users?per_page=100', tenant.admin_token));
    const planList = (
      plans.body as { data: Array<{ id: string; name: string; limits: { max_agents: number } }> }
    ).data.map((p) => ({ id: p.id, name: p.name, max_agents: p.limits.max_agents }));
    // The users list names each one's live plan (subscriptions that are canceled are not shown).
    const subscriptionOf = new Map(
      (
        users.body as {
          data: Array<{ email: string; subscription: { status: string; plan: string } | null }>;
        }
      ).data.map((u) => [u.email, u.subscription]),
    );
    const holders = [tenant.admin_token, ...tenant.user_tokens];
    for (const [k, token] of holders.entries()) {
      const admin = k === 0;
      const email = admin
        ? `admin@${tenant.slug}.example`
        : `user${String(k).padStart(2, '0')}@${tenant.slug}.example`;
      const ids = {} as Record<ListRoute, string[]>;
      let agentCount = 0;
      for (const route of ['agents', 'teams', 'roles'] as const) {
        const list = await must(client.request('GET', `${READ_ROUTES[route]}?per_page=100`, token));
        const body = list.body as { data: Array<{ id: string }>; total: number };
        ids[route] = body.data.map((row) => row.id);
        if (route === 'agents') agentCount = body.total;
      }
      const subscription = subscriptionOf.get(email);
      const subscribed = Boolean(subscription && subscription.status !== 'canceled');
      const reads: ReadRoute[] = ['agents', 'teams', 'roles'];
      if (admin) reads.push('settings', 'analytics');
      if (subscribed) reads.push('subscription');
      const writes: WriteKind[] = [];
      if (ids.teams.length) writes.push('renameTeam');
      if (ids.roles.length) writes.push('renameRole');
      if (ids.agents.length) writes.push('renameAgent');
      if (admin) writes.push('stripeSettings');
      if (subscribed && planList.filter((p) => p.max_agents >= agentCount).length > 1)
        writes.push('changePlan');
      identities.push({
        label: `${tenant.slug}/${admin ? 'admin' : `user${String(k).padStart(2, '0')}`}`,
        token,
        admin,
        reads,
        writes,
        ids,
        agentCount,
        plans: planList,
        planId: subscribed ? (planList.find((p) => p.name === subscription?.plan)?.id ?? null) : null,
        expect: {},
        writing: null,
        writesBegun: 0,
      });
    }
  }
  return identities;
}

/** The reproducible sequence: same seed, same operations in the same order. */
export function plan(
  identities: Identity[],
  config: Pick<CacheGateSettings, 'seed' | 'zipfExponent' | 'requests' | 'writeRatio'>,
): Op[] {
  const random = prng(config.seed);
  // Which identity is "hot" is part of the seed too: rank order is a seeded shuffle.
  const ranked = shuffled(identities, random);
  const pickIdentity = zipf(ranked.length, config.zipfExponent, random);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const ops: Op[] = [];
  for (let i = 0; i < config.requests; i++) {
    const identity = ranked[pickIdentity()] as Identity;
    if (random() < config.writeRatio && identity.writes.length > 0) {
      ops.push({ identity, write: pick(identity.writes) });
      continue;
    }
    const read = pick(identity.reads);
    // Lists are also asked for page by page, as a UI does: another key of the same tags.
    const variant =
      (read === 'agents' || read === 'teams' || read === 'roles') && random() < 0.15
        ? '?page=1&per_page=10'
        : '';
    ops.push({ identity, read, variant });
  }
  return ops;
}

let serial = 0;

async function execute(op: Op, reader: ApiClient, writer: ApiClient, tally: Tally): Promise<void> {
  const { identity } = op;
  if ('read' in op) {
    // Only a read that began after the identity's last write finished (and with none in
    // flight) is held to it; one racing a write may rightly see either value.
    const expectation = identity.writing ? undefined : identity.expect[op.read];
    const begun = identity.writesBegun;
    const answer = await call(reader, tally, 'GET', `${READ_ROUTES[op.read]}${op.variant}`, identity.token);
    if (!answer) return;
    record(tally, answer);
    if (expectation && op.variant === '' && identity.writesBegun === begun) {
      tally.checkedReads++;
      if (!expectation.holds(answer.body))
        tally.stale.push(`${identity.label} ${op.read}: ${expectation.describe}`);
    }
    return;
  }
  while (identity.writing) await identity.writing;
  let finish = () => {};
  identity.writesBegun++;
  identity.writing = new Promise<void>((resolve) => {
    finish = resolve;
  });
  try {
    await write(op.write, identity, reader, writer, tally);
  } finally {
    identity.writing = null;
    finish();
  }
}

async function write(
  kind: WriteKind,
  identity: Identity,
  reader: ApiClient,
  writer: ApiClient,
  tally: Tally,
): Promise<void> {
  const n = ++serial;
  const pick = (list: string[]) => list[n % list.length] as string;
  let route: ReadRoute;
  let expectation: { describe: string; holds: (body: unknown) => boolean };
  let answer: Timed | null;
  const listHas = (id: string, field: string, value: unknown) => (body: unknown) =>
    (body as { data?: Array<Record<string, unknown>> }).data?.some(
      (row) => row.id === id && row[field] === value,
    ) ?? false;
  switch (kind) {
    case 'renameTeam':
    case 'renameRole':
    case 'renameAgent': {
      route = kind === 'renameTeam' ? 'teams' : kind === 'renameRole' ? 'roles' : 'agents';
      const id = pick(identity.ids[route as ListRoute]);
      const name = `${route.slice(0, -1)} ${n}`;
      answer = await call(writer, tally, 'PATCH', `${READ_ROUTES[route]}/${id}`, identity.token, { name });
      expectation = { describe: `${id} should be named "${name}"`, holds: listHas(id, 'name', name) };
      break;
    }
    case 'stripeSettings': {
      route = 'settings';
      const key = `pk_test_verify${String(n).padStart(10, '0')}`;
      answer = await call(writer, tally, 'PUT', READ_ROUTES.settings, identity.token, {
        publishable_key: key,
        currency: 'usd',
      });
      expectation = {
        describe: `publishable_key should be ${key}`,
        holds: (body) => (body as { publishable_key?: string }).publishable_key === key,
      };
      break;
    }
    case 'changePlan': {
      route = 'subscription';
      const fits = identity.plans.filter(
        (p) => p.id !== identity.planId && p.max_agents >= identity.agentCount,
      );
      const target = fits[n % fits.length] as Plan;
      answer = await call(writer, tally, 'POST', READ_ROUTES.subscription, identity.token, {
        plan_id: target.id,
      });
      if (answer && answer.status < 300) identity.planId = target.id;
      expectation = {
        describe: `plan should be ${target.id}`,
        holds: (body) => (body as { plan?: { id?: string } }).plan?.id === target.id,
      };
      break;
    }
  }
  tally.writes++;
  if (!answer || answer.status >= 300) return;
  identity.expect[route] = expectation;
  // The read that follows the write goes through the other pool: another connection,
  // often another API worker.
  const check = await call(reader, tally, 'GET', READ_ROUTES[route], identity.token);
  if (!check) return;
  record(tally, check);
  tally.checkedReads++;
  if (!expectation.holds(check.body))
    tally.stale.push(`${identity.label} ${route} right after the write: ${expectation.describe}`);
}

async function call(
  client: ApiClient,
  tally: Tally,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Timed | null> {
  tally.requests++;
  try {
    const answer = await client.request(method, path, token, body);
    if (answer.status >= 500) tally.serverErrors++;
    if (answer.status === 429) tally.rateLimited++;
    if (answer.status >= 300) {
      tally.unexpected.push(
        `${method} ${path} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`,
      );
      return null;
    }
    return answer;
  } catch (error) {
    tally.unexpected.push(`${method} ${path} → ${(error as Error).message}`);
    return null;
  }
}

function record(tally: Tally, answer: Timed): void {
  if (answer.cache === 'HIT') tally.hitMs.push(answer.ms);
  else if (answer.cache === 'MISS') tally.missMs.push(answer.ms);
}

async function must(promise: Promise<Timed>): Promise<Timed> {
  const answer = await promise;
  if (answer.status !== 200) {
    throw new GateCannotRun(
      `the daemon refused the workload's set-up call (${answer.status}): ${JSON.stringify(answer.body)}`,
    );
  }
  return answer;
}

function delta(start: CacheSummary, end: CacheSummary) {
  const routes: Record<string, { hits: number; misses: number; loads: number; errors: number }> = {};
  for (const [route, counters] of Object.entries(end.routes)) {
    const was = start.routes[route] ?? { hits: 0, misses: 0, loads: 0, errors: 0 };
    routes[route] = {
      hits: counters.hits - was.hits,
      misses: counters.misses - was.misses,
      loads: counters.loads - was.loads,
      errors: counters.errors - was.errors,
    };
  }
  return {
    hits: end.hits - start.hits,
    misses: end.misses - start.misses,
    loads: end.loads - start.loads,
    errors: end.errors - start.errors,
    routes,
  };
}

function verdict(
  config: CacheGateSettings,
  tally: Tally,
  counted: ReturnType<typeof delta>,
  seconds: number,
  identities: number,
): GateResult {
  const reads = counted.hits + counted.misses;
  const hitRate = reads > 0 ? counted.hits / reads : 0;
  const hitP50 = percentile(tally.hitMs, 50);
  const missP50 = percentile(tally.missMs, 50);
  const speedup = hitP50 && missP50 ? missP50 / hitP50 : null;
  const failures: string[] = [];
  if (hitRate < config.threshold)
    failures.push(`hit rate ${hitRate.toFixed(3)} is below ${config.threshold}`);
  if (tally.serverErrors > 0) failures.push(`${tally.serverErrors} responses were 5xx`);
  if (tally.stale.length > 0) failures.push(`${tally.stale.length} stale reads`);
  if (tally.unexpected.length > 0) failures.push(`${tally.unexpected.length} requests failed`);
  if (tally.rateLimited > 0) {
    failures.push(
      `${tally.rateLimited} requests were rate limited (429): verify the cache on a daemon started with --rate-limit off`,
    );
  }
  if (config.minHitSpeedup > 0 && (speedup ?? 0) < config.minHitSpeedup) {
    failures.push(`a miss is ${speedup?.toFixed(1) ?? '?'}× a hit, below the ${config.minHitSpeedup}× asked`);
  }
  return {
    gate: 'cache',
    pass: failures.length === 0,
    figure: round(hitRate, 4),
    threshold: config.threshold,
    unit: 'hit rate',
    details: {
      summary:
        `${counted.hits}/${reads} reads hit · hit p50 ${round(hitP50, 1)} ms, miss p50 ${round(missP50, 1)} ms` +
        ` (${round(speedup, 1)}×) · ${tally.stale.length} stale of ${tally.checkedReads} checked · ` +
        `${tally.serverErrors} 5xx · ${round(tally.requests / seconds, 0)} req/s`,
      failures,
      requests: tally.requests,
      writes: tally.writes,
      identities,
      seconds: round(seconds, 1),
      requests_per_second: round(tally.requests / seconds, 0),
      daemon: { hits: counted.hits, misses: counted.misses, loads: counted.loads, errors: counted.errors },
      routes: Object.fromEntries(
        Object.entries(counted.routes)
          .filter(([route]) => route !== 'invalidate')
          .map(([route, c]) => [
            route,
            { ...c, hitRate: round(c.hits + c.misses ? c.hits / (c.hits + c.misses) : null, 4) },
          ]),
      ),
      latency_ms: {
        hit: { count: tally.hitMs.length, p50: round(hitP50), p99: round(percentile(tally.hitMs, 99)) },
        miss: { count: tally.missMs.length, p50: round(missP50), p99: round(percentile(tally.missMs, 99)) },
        miss_to_hit_p50: round(speedup, 1),
      },
      stale_checks: tally.checkedReads,
      stale: tally.stale.slice(0, 10),
      server_errors: tally.serverErrors,
      failed_requests: tally.unexpected.slice(0, 10),
    },
  };
}
