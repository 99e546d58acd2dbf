import { histogramQuantile } from '../../daemon/alerts/figures.ts';
import type { DaemonSnapshot, RouteFigures } from '../../daemon/supervisor/snapshot.ts';

/** One row of the HTTP panel: a route group over the last interval (never since start). */
export interface RouteRow {
  route: string;
  rps: number;
  errorPercent: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  requests: number;
}

export interface ProcessRow {
  name: string;
  pid: number | null;
  generation: number;
  state: string;
  cpuPercent: number | null;
  rssBytes: number | null;
  eventLoopDelayMs: number | null;
  uptimeSeconds: number | null;
  restarts: number;
}

export interface TopModel {
  at: string;
  intervalSeconds: number;
  header: {
    version: string;
    state: string;
    uptimeSeconds: number;
    url: string;
    redis: string;
    database: string;
    rollout: string | null;
  };
  processes: ProcessRow[];
  http: RouteRow[];
  totalRps: number;
  cache: { route: string; hitRate: number | null; reads: number }[];
  redisErrors: number;
  rateLimited: Record<string, number>;
  /** The tenants refused most in the interval (429s), most first. */
  limitedTenants: { tenant: string; rejected: number }[];
  queues: {
    name: string;
    waiting: number;
    active: number;
    delayed: number;
    failed: number;
    jobsPerSecond: number;
  }[];
  campaigns: {
    id: string;
    tenant: string;
    name: string;
    sent: number;
    total: number;
    failed: number;
    messagesPerSecond: number;
  }[];
  alerts: { name: string; state: string; since: string | null; value: string | null }[] | null;
}

const diff = (now: number, before: number | undefined) =>
  before === undefined || now < before ? now : now - before;

/** A route's histogram over the interval: today's cumulative buckets minus the previous. */
function intervalRoute(now: RouteFigures, before: RouteFigures | undefined, seconds: number): RouteRow {
  const requests = diff(now.requests, before?.requests);
  const errors = diff(now.errors5xx, before?.errors5xx);
  const previous = new Map((before?.buckets ?? []).map((b) => [b.le, b.count]));
  const buckets = now.buckets.map(({ le, count }) => ({
    le: le ?? Number.POSITIVE_INFINITY,
    count: diff(count, previous.get(le)),
  }));
  const ms = (q: number) => {
    const s = histogramQuantile(q, buckets);
    return s === null ? null : Math.round(s * 10_000) / 10;
  };
  return {
    route: now.route,
    requests,
    rps: Math.round((requests / seconds) * 10) / 10,
    errorPercent: requests ? Math.round((errors / requests) * 1000) / 10 : 0,
    p50: ms(0.5),
    p95: ms(0.95),
    p99: ms(0.99),
  };
}

/**
 * What `top` shows between two snapshots: rates and percentiles over that interval (the
 * counters are cumulative and never go down, so a difference is exact; a counter that did
 * go down — a worker's own cache counters after a restart — counts from zero).
 */
export function topModel(before: DaemonSnapshot, now: DaemonSnapshot): TopModel {
  const seconds = Math.max(0.001, (Date.parse(now.at) - Date.parse(before.at)) / 1000);
  const { status } = now;
  const routesBefore = new Map(before.http.map((r) => [r.route, r]));
  const http = now.http
    .map((route) => intervalRoute(route, routesBefore.get(route.route), seconds))
    .filter((row) => row.requests > 0);
  const cpuBefore = new Map(before.status.children.map((c) => [c.pid, c.cpuSeconds]));
  const cpu = (nowSeconds: number | null, beforeSeconds: number | null | undefined) =>
    nowSeconds === null || beforeSeconds === null || beforeSeconds === undefined
      ? null
      : Math.round(((nowSeconds - beforeSeconds) / seconds) * 1000) / 10;
  const processes: ProcessRow[] = [
    {
      name: 'supervisor',
      pid: status.pid,
      generation: 1,
      state: status.state,
      cpuPercent: cpu(now.supervisorCpuSeconds, before.supervisorCpuSeconds),
      rssBytes: status.rssBytes,
      eventLoopDelayMs: null,
      uptimeSeconds: status.uptimeSeconds,
      restarts: 0,
    },
    ...status.children.map((child) => ({
      name: `${child.role}#${child.index}`,
      pid: child.pid,
      generation: child.generation,
      state: child.state,
      cpuPercent: cpu(child.cpuSeconds, cpuBefore.get(child.pid)),
      rssBytes: child.rssBytes,
      eventLoopDelayMs: child.eventLoopDelayMs,
      uptimeSeconds: child.uptimeSeconds,
      restarts: child.restarts,
    })),
  ];
  const cacheBefore = new Map(before.cache.map((c) => [c.route, c]));
  const cache = now.cache.map((c) => {
    const hits = diff(c.hits, cacheBefore.get(c.route)?.hits);
    const misses = diff(c.misses, cacheBefore.get(c.route)?.misses);
    return { route: c.route, reads: hits + misses, hitRate: hits + misses ? hits / (hits + misses) : null };
  });
  const rateLimited = Object.fromEntries(
    Object.entries(now.rateLimited).map(([plan, n]) => [plan, diff(n, before.rateLimited[plan])]),
  );
  const tenantsBefore = before.status.rateLimit.byTenant ?? {};
  const limitedTenants = Object.entries(now.status.rateLimit.byTenant ?? {})
    .map(([tenant, n]) => ({ tenant, rejected: diff(n, tenantsBefore[tenant]) }))
    .filter((t) => t.rejected > 0)
    .sort((a, b) => b.rejected - a.rejected)
    .slice(0, 5);
  const queuesBefore = new Map(before.queues.map((q) => [q.name, q]));
  const queues = now.queues.map((q) => {
    const done = diff(
      q.completed + q.failed,
      (queuesBefore.get(q.name)?.completed ?? 0) + (queuesBefore.get(q.name)?.failed ?? 0),
    );
    return {
      name: q.name,
      waiting: (q.depth?.waiting ?? 0) + (q.depth?.prioritized ?? 0),
      active: q.depth?.active ?? 0,
      delayed: q.depth?.delayed ?? 0,
      failed: q.depth?.failed ?? 0,
      jobsPerSecond: Math.round((done / seconds) * 10) / 10,
    };
  });
  const sentBefore = new Map((before.campaigns ?? []).map((c) => [c.id, c.sent]));
  const campaigns = (now.campaigns ?? []).map((c) => ({
    ...c,
    messagesPerSecond: Math.round((diff(c.sent, sentBefore.get(c.id) ?? c.sent) / seconds) * 10) / 10,
  }));
  const rollout =
    status.rollout?.state === 'running'
      ? `rollout ${status.rollout.id}: ${status.rollout.steps.length}/${status.rollout.plan.length}`
      : null;
  return {
    at: now.at,
    intervalSeconds: Math.round(seconds * 10) / 10,
    header: {
      version: status.version,
      state: status.state,
      uptimeSeconds: status.uptimeSeconds,
      url: status.url,
      redis: status.redis.healthy ? 'healthy' : `down: ${status.redis.error}`,
      database: status.database.healthy ? 'healthy' : `down: ${status.database.error}`,
      rollout,
    },
    processes,
    http,
    totalRps: Math.round(http.reduce((sum, row) => sum + row.rps, 0) * 10) / 10,
    cache,
    redisErrors: diff(now.redisErrors, before.redisErrors),
    rateLimited,
    limitedTenants,
    queues,
    campaigns,
    alerts: status.alerts
      ? status.alerts.alerts.map((a) => ({
          name: a.name,
          state: a.state,
          since: a.since,
          value: a.valueText,
        }))
      : null,
  };
}
