import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../../paths.ts';

/** The repository's monitoring/ folder: what docker-compose.yml mounts into Prometheus and Grafana. */
export const defaultMonitoringDir = path.join(packageRoot, 'monitoring');

/** The files of a monitoring folder laid out like the repository's. */
export function monitoringFiles(dir = defaultMonitoringDir) {
  return {
    dir,
    prometheusConfig: path.join(dir, 'prometheus.yml'),
    alertRules: path.join(dir, 'alerts.yml'),
    dashboards: path.join(dir, 'grafana', 'dashboards'),
  };
}
type MonitoringFiles = ReturnType<typeof monitoringFiles>;

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: Array<{ expr?: string }>;
}

/** Every PromQL expression of every dashboard, nested row panels included. */
export async function dashboardQueries(files: MonitoringFiles): Promise<DashboardQuery[]> {
  const names = (await readdir(files.dashboards)).filter((file) => file.endsWith('.json')).sort();
  const queries: DashboardQuery[] = [];
  for (const file of names) {
    const dashboard = JSON.parse(await readFile(path.join(files.dashboards, file), 'utf8')) as {
      panels?: Panel[];
    };
    const walk = (panels: Panel[] = []) => {
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          if (target.expr)
            queries.push({ dashboard: file, panel: panel.title ?? '(untitled)', expr: target.expr });
        }
        walk(panel.panels);
      }
    };
    walk(dashboard.panels);
  }
  return queries;
}

/**
 * Grafana's variables as a real scrape would see them: `$__rate_interval` becomes a window
 * that holds several scrapes, `$__interval` the step.
 */
export function expandGrafanaVariables(expr: string, rateInterval: string): string {
  return expr.replace(/\$\{?(?:__rate_interval|__interval|__range)\}?/g, rateInterval);
}

export interface AlertRule {
  alert: string;
  expr: string;
  /** The expression without its trailing threshold comparison: what must return data. */
  signal: string;
}

/**
 * `a / b > 0.01` → `a / b`. alerts.yml keeps every expr in the form `<expression>
 * <comparison> <number>`, so the last top-level comparison is the threshold: an alert
 * that is quiet returns nothing, but the signal it watches must still be there.
 */
export function alertSignal(expr: string): string | null {
  const match = /^([\s\S]*\S)\s*(?:==|!=|>=|<=|>|<)\s*(?:bool\s+)?-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\s*$/i.exec(
    expr.trim(),
  );
  return match ? (match[1] as string) : null;
}

export async function alertRules(files: MonitoringFiles): Promise<AlertRule[]> {
  const file = parse(await readFile(files.alertRules, 'utf8')) as {
    groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
  };
  return file.groups.flatMap((group) =>
    group.rules
      .filter((rule) => rule.alert)
      .map((rule) => ({
        alert: rule.alert as string,
        expr: rule.expr,
        signal: alertSignal(rule.expr) ?? rule.expr,
      })),
  );
}

/**
 * monitoring/prometheus.yml turned toward one daemon: its job keeps everything but the
 * target (the daemon's metrics address), the credentials (the token itself when there is
 * one, instead of compose's file), the intervals (seconds, not minutes, for a short run)
 * and the rule file (absolute, since the config is written elsewhere).
 */
export async function scrapeConfigFor(
  files: MonitoringFiles,
  metricsUrl: string,
  token: string | undefined,
  intervalSeconds: number,
  withRules = true,
): Promise<string> {
  const config = parse(await readFile(files.prometheusConfig, 'utf8')) as {
    global?: Record<string, unknown>;
    rule_files?: string[];
    alerting?: unknown;
    scrape_configs: Array<Record<string, unknown>>;
  };
  // The compose stack's Alertmanager is not there: the gate's Prometheus would only log failed sends.
  delete config.alerting;
  const url = new URL(metricsUrl);
  const job = config.scrape_configs.find((scrape) => scrape.job_name === 'wuzctl');
  if (!job) throw new Error(`${files.prometheusConfig} has no scrape job named wuzctl`);
  job.static_configs = [{ targets: [url.host] }];
  job.metrics_path = url.pathname;
  job.scheme = url.protocol.replace(':', '');
  if (token) job.authorization = { type: 'Bearer', credentials: token };
  else delete job.authorization;
  config.scrape_configs = [job];
  const interval = `${intervalSeconds}s`;
  config.global = {
    ...config.global,
    scrape_interval: interval,
    scrape_timeout: interval,
    evaluation_interval: interval,
  };
  config.rule_files = withRules ? (config.rule_files ?? []).map((file) => path.resolve(files.dir, file)) : [];
  return stringify(config);
}
