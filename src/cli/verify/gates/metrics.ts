import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { ApiClient } from '../http.ts';
import {
  alertRules,
  dashboardQueries,
  expandGrafanaVariables,
  monitoringFiles,
  scrapeConfigFor,
} from '../monitoring.ts';
import { findPrometheus, PrometheusServer, promtool } from '../prometheus.ts';

/**
 * Gate `metrics`: a real Prometheus scrapes the daemon with the repository's own scrape
 * config and alert rules while a mixed workload runs (cached reads, writes, 4xx, queue
 * jobs). Then, through Prometheus's HTTP API: the target is up, every metric the plan
 * names exists, every dashboard query and every alert's signal parses and returns data.
 * promtool checks the config and rules as shipped. Figure: dashboard queries with data / all.
 */
const settings = z
  .object({
    threshold: z.number().min(0).max(1),
    /** Scrape and rule evaluation interval of the gate's Prometheus. */
    scrapeSeconds: z.number().int().min(1).max(15),
    /** How long the workload runs (the rate windows need several scrapes of it). */
    workloadSeconds: z.number().min(5).max(600),
    /** What `$__rate_interval` becomes: a window holding several scrapes. */
    rateInterval: z.string().regex(/^\d+[smh]$/),
    concurrency: z.number().int().min(1).max(64),
    /** A monitoring folder laid out like the repository's (default: the one shipped). */
    monitoringDir: z.string().min(1).optional(),
  })
  .strict();

export type MetricsGateSettings = z.infer<typeof settings>;

/** The metrics the plan names (tasks 5 and 8), as Prometheus stores them. */
export const PLAN_METRICS = [
  'http_requests_total',
  'http_request_duration_seconds_bucket',
  'redis_cache_hits_total',
  'redis_cache_misses_total',
  'active_sessions_total',
  'queue_jobs_total',
  'queue_jobs',
  'queue_job_duration_seconds_bucket',
  'rate_limit_rejections_total',
  'redis_errors_total',
  'redis_up',
  'database_up',
  'wuzctl_memory_limit_bytes',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'nodejs_eventloop_lag_p99_seconds',
];

export const metricsGate: Gate<MetricsGateSettings> = {
  name: 'metrics',
  description: 'Prometheus scrapes the daemon; every plan metric, dashboard query and alert signal has data',
  unit: 'dashboard queries with data',
  direction: 'min',
  settings,
  defaults: { threshold: 1, scrapeSeconds: 1, workloadSeconds: 12, rateInterval: '10s', concurrency: 4 },
  // Its thousands of requests from one client would pass any plan's limit.
  daemonEnv: { WUZ_RATE_LIMIT: 'off' },
  run: runMetricsGate,
};

async function runMetricsGate(context: GateContext, config: MetricsGateSettings): Promise<GateResult> {
  const binaries = await findPrometheus();
  if (context.tenants.length === 0) throw new GateCannotRun('no demo tenants to drive the workload with');
  const token = process.env.METRICS_TOKEN || undefined;
  const files = monitoringFiles(config.monitoringDir);
  const failures: string[] = [];

  context.progress(`metrics: promtool check config/rules (Prometheus ${binaries.version})`);
  const checks = {
    rules: await promtool(binaries.promtool, ['check', 'rules', files.alertRules]),
    // The shipped config reads its token from the file compose mounts: check the syntax only.
    config: await promtool(binaries.promtool, ['check', 'config', '--syntax-only', files.prometheusConfig]),
  };
  for (const [name, check] of Object.entries(checks)) {
    if (!check.ok) failures.push(`promtool check ${name}: ${check.output}`);
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'wuzctl-prometheus-'));
  let prometheus: PrometheusServer | undefined;
  try {
    const configFile = path.join(dir, 'prometheus.yml');
    await writeFile(
      configFile,
      await scrapeConfigFor(files, context.metricsUrl, token, config.scrapeSeconds, checks.rules.ok),
      {
        mode: 0o600,
      },
    );
    const generated = await promtool(binaries.promtool, ['check', 'config', configFile]);
    if (!generated.ok) failures.push(`promtool check config (generated): ${generated.output}`);

    prometheus = await PrometheusServer.start(binaries.prometheus, configFile, dir);
    context.progress(
      `metrics: Prometheus at ${prometheus.url} scrapes ${context.metricsUrl} every ${config.scrapeSeconds} s`,
    );
    const workload = await runWorkload(context, config);
    // Two more scrapes and rule evaluations after the last request.
    await context.wait('metrics: two more scrapes and rule evaluations', config.scrapeSeconds * 2500);

    const targets = await prometheus.targets();
    const up = targets.length === 1 && targets[0]?.health === 'up';
    if (!up) {
      failures.push(
        `scrape target not up: ${targets.map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`).join('; ') || 'no target'}`,
      );
    }

    const missing: string[] = [];
    for (const name of PLAN_METRICS) {
      const series = await prometheus.query(`count({__name__="${name}", job="wuzctl"})`).catch(() => []);
      if (series.length === 0) missing.push(name);
    }
    if (missing.length) failures.push(`metrics missing: ${missing.join(', ')}`);

    const queries = await dashboardQueries(files);
    const empty: string[] = [];
    const broken: string[] = [];
    for (const query of queries) {
      const label = `${query.dashboard} › ${query.panel}: ${query.expr}`;
      try {
        const result = await prometheus.query(expandGrafanaVariables(query.expr, config.rateInterval));
        if (result.length === 0) empty.push(label);
      } catch (error) {
        broken.push(`${label} (${(error as Error).message})`);
      }
    }
    const withData = queries.length - empty.length - broken.length;
    if (broken.length) failures.push(`${broken.length} dashboard queries do not parse`);
    if (empty.length) failures.push(`${empty.length} dashboard queries return no data`);

    const alerts = await alertRules(files);
    const alertProblems: string[] = [];
    for (const rule of alerts) {
      try {
        if ((await prometheus.query(rule.signal)).length === 0)
          alertProblems.push(`${rule.alert}: no data for ${rule.signal}`);
      } catch (error) {
        alertProblems.push(`${rule.alert}: ${(error as Error).message}`);
      }
    }
    const evaluated = await prometheus.rules();
    for (const rule of evaluated) {
      if (rule.health !== 'ok')
        alertProblems.push(`${rule.name}: rule health ${rule.health} ${rule.lastError ?? ''}`.trim());
    }
    if (evaluated.length !== alerts.length)
      alertProblems.push(`Prometheus loaded ${evaluated.length} rules, alerts.yml has ${alerts.length}`);
    failures.push(...alertProblems);

    const figure = queries.length ? withData / queries.length : 0;
    return {
      gate: 'metrics',
      pass: failures.length === 0 && figure >= config.threshold,
      figure: Math.round(figure * 1000) / 1000,
      threshold: config.threshold,
      unit: 'dashboard queries with data',
      details: {
        summary:
          `${withData}/${queries.length} dashboard queries with data · ${PLAN_METRICS.length - missing.length}/${PLAN_METRICS.length} plan metrics · ` +
          `${alerts.length - new Set(alertProblems.map((p) => p.split(':')[0])).size}/${alerts.length} alert signals with data · ` +
          `target ${up ? 'up' : 'down'} · ${workload.requests} requests, ${workload.jobs} jobs · Prometheus ${binaries.version}`,
        failures,
        prometheus: binaries.version,
        promtool: Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, v.ok ? 'ok' : v.output])),
        target: targets[0] ?? null,
        missing_metrics: missing,
        dashboard_queries: { total: queries.length, with_data: withData, empty, broken },
        alerts: { total: alerts.length, problems: alertProblems },
        workload,
      },
    };
  } finally {
    await prometheus?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Unauthenticated requests per run: well under any failure limit (30 per minute by default). */
const AUTH_FAILURE_SAMPLES = 5;

/**
 * Mixed traffic for the whole run: cached reads across every tenant and user, a write per
 * round (so misses follow), a 404 and an unauthenticated 401, and a report and a CSV
 * import per tenant (queue counters, durations).
 */
async function runWorkload(context: GateContext, config: MetricsGateSettings) {
  const client = new ApiClient(context.url, config.concurrency);
  const tally = { requests: 0, status: {} as Record<string, number>, jobs: 0 };
  const count = (status: number) => {
    tally.requests++;
    tally.status[status] = (tally.status[status] ?? 0) + 1;
  };
  try {
    for (const tenant of context.tenants) {
      const report = await client.request('POST', '/api/reports', tenant.admin_token, { kind: 'usage' });
      count(report.status);
      const csv = 'phone,name\n+5511999990001,Ana\n+5511999990002,Bruno\n';
      const imported = await client.request(
        'POST',
        '/api/imports?filename=gate.csv',
        tenant.admin_token,
        undefined,
        {
          text: csv,
          type: 'text/csv',
        },
      );
      count(imported.status);
      tally.jobs += Number(report.status === 202) + Number(imported.status === 202);
    }
    const holders = context.tenants.flatMap((tenant) => [
      { token: tenant.admin_token, admin: true },
      ...tenant.user_tokens.map((token) => ({ token, admin: false })),
    ]);
    const reads = [
      '/api/session/agents',
      '/api/session/teams',
      '/api/session/roles',
      '/api/user/subscription',
    ];
    const adminReads = ['/api/admin/stripe/settings', '/api/admin/stripe/analytics'];
    const deadline = Date.now() + config.workloadSeconds * 1000;
    let round = 0;
    let unauthenticated = 0;
    context.progress(`metrics: mixed workload for ${config.workloadSeconds} s`);
    const lane = async (lane: number) => {
      while (Date.now() < deadline) {
        const holder = holders[(round++ + lane) % holders.length] as (typeof holders)[number];
        const routes = holder.admin ? [...reads, ...adminReads] : reads;
        for (const route of routes) count((await client.request('GET', route, holder.token)).status);
        if (round % 10 === 0) {
          const team = await client.request('POST', '/api/session/teams', holder.token, {
            name: `gate team ${round}`,
          });
          count(team.status);
        }
        count(
          (
            await client.request(
              'GET',
              '/api/session/agents/00000000-0000-4000-8000-000000000000',
              holder.token,
            )
          ).status,
        );
        // A few 401s show in the metrics; a flood would count against this machine's
        // address on a live daemon (its failure limit), so its real users' typos get 429s.
        if (unauthenticated++ < AUTH_FAILURE_SAMPLES)
          count((await client.request('GET', '/api/session/agents', 'wuz_not-a-real-token')).status);
        await sleep(20);
      }
    };
    await Promise.all(Array.from({ length: config.concurrency }, (_, i) => lane(i)));
    return tally;
  } finally {
    client.close();
  }
}
