import {
  Counter,
  collectDefaultMetrics,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import { TENANT_PLANS } from '../db/repositories/tenants.ts';
import { QUEUE_NAMES } from '../queues/names.ts';
import { tracingRuntime } from '../tracing/runtime.ts';

/**
 * The metrics every daemon process records (prom-client). Each process keeps its own
 * registry; the supervisor collects them all over IPC and serves the sum (aggregate.ts),
 * so whichever worker a scrape lands on, Prometheus sees cluster-wide totals.
 *
 * Label values come from closed sets only (route templates, status codes, queue and plan
 * names): a client can never create a new series by choosing a URL.
 */
export type ProcessRole = 'supervisor' | 'api' | 'queue';

/** 5 ms to 10 s: an API's useful range, with a 2 s bucket so the "P95 > 2 s" alert is exact. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
/** Jobs range from a few ms (a small report) to minutes (a paced campaign batch). */
export const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300];

export const QUEUE_COUNTER_STATES = ['added', 'completed', 'failed', 'retried'] as const;
export const REDIS_ERROR_COMPONENTS = ['cache', 'rate_limit'] as const;

export interface ProcessMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  cacheHits: Counter<'route'>;
  cacheMisses: Counter<'route'>;
  redisErrors: Counter<'component'>;
  rateLimitRejections: Counter<'limiter' | 'plan'>;
  queueJobs: Counter<'queue' | 'state'>;
  campaignsFinished: Counter<'outcome'>;
  queueJobDuration: Histogram<'queue'>;
  tracingSpans: Counter<'outcome'>;
}

export const TRACING_SPAN_OUTCOMES = ['exported', 'dropped', 'failed'] as const;

/** A registry with the application metrics and, when `role` is given, the process defaults. */
export function createProcessMetrics(role?: ProcessRole): ProcessMetrics {
  const registry = new Registry();
  const registers = [registry];
  const metrics: ProcessMetrics = {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from the request reaching the API worker to the last byte of the response',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    }),
    cacheHits: new Counter({
      name: 'redis_cache_hits_total',
      help: 'Cached reads answered from Redis, by cached route (its path, as in http_requests_total)',
      labelNames: ['route'],
      registers,
    }),
    cacheMisses: new Counter({
      name: 'redis_cache_misses_total',
      help: 'Cached reads that had to load from the database, by cached route',
      labelNames: ['route'],
      registers,
    }),
    redisErrors: new Counter({
      name: 'redis_errors_total',
      help: 'Redis commands of the cache or the rate limiter that failed (the request went on without them)',
      labelNames: ['component'],
      registers,
    }),
    rateLimitRejections: new Counter({
      name: 'rate_limit_rejections_total',
      help: 'Requests refused with 429: limiter "tenant" by tenant plan, "auth_failure" per client IP (plan "none")',
      labelNames: ['limiter', 'plan'],
      registers,
    }),
    queueJobs: new Counter({
      name: 'queue_jobs_total',
      help: 'Jobs added, completed, failed for good, or failed and retried, by queue',
      labelNames: ['queue', 'state'],
      registers,
    }),
    campaignsFinished: new Counter({
      name: 'campaigns_finished_total',
      help: 'Campaigns that finished: outcome "delivered" (every message sent), "partial" (some failed) or "failed" (none delivered)',
      labelNames: ['outcome'],
      registers,
    }),
    queueJobDuration: new Histogram({
      name: 'queue_job_duration_seconds',
      help: 'Processing time of jobs that completed, by queue',
      labelNames: ['queue'],
      buckets: JOB_BUCKETS,
      registers,
    }),
    tracingSpans: new Counter({
      name: 'tracing_spans_total',
      help: 'Spans sent to the OTLP collector ("exported"), dropped because its queue was full ("dropped"), or lost in a failed export ("failed"); all 0 with tracing off',
      labelNames: ['outcome'],
      registers,
      // The tracer counts on its own (it is loaded before this registry exists): read at scrape.
      collect() {
        const counts = tracingRuntime()?.counts;
        if (!counts) return;
        this.reset();
        for (const outcome of TRACING_SPAN_OUTCOMES) this.inc({ outcome }, counts[outcome]);
      },
    }),
  };
  // Series that exist from the start: a dashboard shows 0 instead of "no data", and rate()
  // sees the first increment. (The cache's routes are started by cachedJson.)
  for (const plan of TENANT_PLANS) metrics.rateLimitRejections.inc({ limiter: 'tenant', plan }, 0);
  metrics.rateLimitRejections.inc({ limiter: 'auth_failure', plan: 'none' }, 0);
  for (const component of REDIS_ERROR_COMPONENTS) metrics.redisErrors.inc({ component }, 0);
  for (const outcome of ['delivered', 'partial', 'failed']) metrics.campaignsFinished.inc({ outcome }, 0);
  for (const outcome of TRACING_SPAN_OUTCOMES) metrics.tracingSpans.inc({ outcome }, 0);
  for (const queue of QUEUE_NAMES) {
    for (const state of QUEUE_COUNTER_STATES) metrics.queueJobs.inc({ queue, state }, 0);
    metrics.queueJobDuration.zero({ queue });
  }
  if (role) collectDefaultMetrics({ register: registry, labels: { role } });
  return metrics;
}

let current: ProcessMetrics | undefined;

/**
 * This process's metrics. The first call of a daemon process names its role (which turns
 * on the process defaults); code that merely counts (the cache, the limiter) calls it
 * without one, so it also works in tests and CLI commands that never serve metrics.
 */
export function processMetrics(role?: ProcessRole): ProcessMetrics {
  current ??= createProcessMetrics(role);
  return current;
}

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];
