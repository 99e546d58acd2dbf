import type { Queue } from 'bullmq';
import type pg from 'pg';
import { withTimeout } from '../services/redis.ts';
import type { MetricsSnapshot } from '../telemetry/metrics.ts';
import { queueDepths } from '../telemetry/supervisorGauges.ts';
import type { DaemonStatus } from './supervisor.ts';

/** Cumulative HTTP figures of one route (method + template), summed over the cluster. */
export interface RouteFigures {
  route: string;
  requests: number;
  errors5xx: number;
  errors4xx: number;
  rateLimited: number;
  /** Cumulative counts per bucket upper bound (seconds; +Inf as null). */
  buckets: { le: number | null; count: number }[];
}

export interface QueueFigures {
  name: string;
  /** Right now; null when Redis did not answer. */
  depth: Record<string, number> | null;
  /** Cumulative: jobs completed and failed for good. */
  completed: number;
  failed: number;
}

export interface RunningCampaign {
  id: string;
  tenant: string;
  name: string;
  total: number;
  sent: number;
  failed: number;
}

/**
 * Everything `wuzctl top` shows, in one call: the status plus cumulative counters (the
 * client takes differences between two snapshots for rates and interval percentiles — a
 * counter never goes down, so any two snapshots give a correct interval).
 */
export interface DaemonSnapshot {
  at: string;
  status: DaemonStatus;
  http: RouteFigures[];
  /** Cumulative cache hits and misses per cached route (redis_cache_*_total). */
  cache: { route: string; hits: number; misses: number }[];
  /** Cumulative Redis errors of the cache and the limiter (redis_errors_total). */
  redisErrors: number;
  /** Cumulative 429s per tenant plan (rate_limit_rejections_total, limiter "tenant"). */
  rateLimited: Record<string, number>;
  queues: QueueFigures[];
  campaigns: RunningCampaign[] | null;
  /** The supervisor's own CPU seconds so far (children's are in status.children). */
  supervisorCpuSeconds: number;
}

type Value = { value: number; labels: Record<string, string | number>; metricName?: string };

/** The per-route HTTP counters of an aggregated metrics snapshot. */
export function routeFigures(snapshot: MetricsSnapshot): RouteFigures[] {
  const routes = new Map<string, RouteFigures>();
  const of = (labels: Record<string, string | number>) => {
    const key = `${labels.method} ${labels.route}`;
    let figures = routes.get(key);
    if (!figures) {
      figures = { route: key, requests: 0, errors5xx: 0, errors4xx: 0, rateLimited: 0, buckets: [] };
      routes.set(key, figures);
    }
    return figures;
  };
  for (const metric of snapshot) {
    if (metric.name === 'http_requests_total') {
      for (const { value, labels } of metric.values as Value[]) {
        const figures = of(labels);
        const status = String(labels.status);
        figures.requests += value;
        if (status.startsWith('5')) figures.errors5xx += value;
        else if (status === '429') figures.rateLimited += value;
        else if (status.startsWith('4')) figures.errors4xx += value;
      }
    } else if (metric.name === 'http_request_duration_seconds') {
      for (const { value, labels, metricName } of metric.values as Value[]) {
        if (metricName !== 'http_request_duration_seconds_bucket') continue;
        const figures = of(labels);
        const le = labels.le === '+Inf' ? null : Number(labels.le);
        const bucket = figures.buckets.find((b) => b.le === le);
        if (bucket) bucket.count += value;
        else figures.buckets.push({ le, count: value });
      }
    }
  }
  for (const figures of routes.values()) {
    figures.buckets.sort((a, b) => (a.le ?? Number.POSITIVE_INFINITY) - (b.le ?? Number.POSITIVE_INFINITY));
  }
  return [...routes.values()].sort((a, b) => a.route.localeCompare(b.route));
}

/** A counter's values summed by one label: `{ "/api/session/agents": 12, … }`. */
export function counterBy(
  snapshot: MetricsSnapshot,
  name: string,
  label: string,
  where: Record<string, string> = {},
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { value, labels } of (snapshot.find((m) => m.name === name)?.values ?? []) as Value[]) {
    if (Object.entries(where).some(([key, expected]) => String(labels[key]) !== expected)) continue;
    const key = String(labels[label]);
    out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

/** Cumulative hits and misses per cached route. */
export function cacheFigures(snapshot: MetricsSnapshot): DaemonSnapshot['cache'] {
  const misses = counterBy(snapshot, 'redis_cache_misses_total', 'route');
  return Object.entries(counterBy(snapshot, 'redis_cache_hits_total', 'route')).map(([route, hits]) => ({
    route,
    hits,
    misses: misses[route] ?? 0,
  }));
}

/** Queue depths now, and the cumulative outcomes from the counters. */
export async function queueFigures(queues: Queue[], snapshot: MetricsSnapshot): Promise<QueueFigures[]> {
  const counter = (queue: string, state: string) =>
    (snapshot.find((m) => m.name === 'queue_jobs_total')?.values as Value[] | undefined)
      ?.filter((v) => v.labels.queue === queue && v.labels.state === state)
      .reduce((sum, v) => sum + v.value, 0) ?? 0;
  return Promise.all(
    queues.map(async (queue) => ({
      name: queue.name,
      depth: await queueDepths(queue),
      completed: counter(queue.name, 'completed'),
      failed: counter(queue.name, 'failed'),
    })),
  );
}

/** Campaigns running now, across tenants (the operator's view); null when the database is away. */
export async function runningCampaigns(pool: pg.Pool): Promise<RunningCampaign[] | null> {
  const result = await withTimeout(
    pool.query(
      `SELECT c.id, t.slug AS tenant, c.name, c.total, c.sent, c.failed
         FROM campaigns c JOIN tenants t ON t.id = c.tenant_id
        WHERE c.status = 'running' ORDER BY c.started_at NULLS LAST LIMIT 20`,
    ),
    1000,
    'timed out',
  ).catch(() => null);
  return result ? (result.rows as RunningCampaign[]) : null;
}
