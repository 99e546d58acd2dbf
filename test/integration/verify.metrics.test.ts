// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read the gate's JSON
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedEnv, wuzctl } from '../helpers/daemon.ts';

// `wuzctl verify metrics` end to end: a real Prometheus (Debian's package) scrapes an
// ephemeral daemon with the repository's monitoring/ config. CI installs prometheus.

const repoMonitoring = path.resolve(import.meta.dirname, '../../monitoring');

async function configFile(gate: Record<string, unknown>): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'wuzv-')), 'verify.json');
  await writeFile(file, JSON.stringify({ tenants: 2, gates: { metrics: { workloadSeconds: 6, ...gate } } }));
  return file;
}

describe('wuzctl verify metrics', () => {
  it('passes with the shipped monitoring/: target up, plan metrics present, every query has data', async () => {
    const result = await wuzctl(['verify', 'metrics', '--json', '--config', await configFile({})], {
      env: embeddedEnv,
      timeoutMs: 180_000,
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const [gate] = JSON.parse(result.stdout).gates;
    expect(gate).toMatchObject({ gate: 'metrics', pass: true, figure: 1, threshold: 1 });
    expect(gate.details.failures).toEqual([]);
    expect(gate.details.missing_metrics).toEqual([]);
    expect(gate.details.target.health).toBe('up');
    expect(gate.details.promtool).toEqual({ rules: 'ok', config: 'ok' });
    expect(gate.details.dashboard_queries.total).toBeGreaterThanOrEqual(20);
    expect(gate.details.dashboard_queries.with_data).toBe(gate.details.dashboard_queries.total);
    expect(gate.details.alerts).toEqual({ total: 5, problems: [] });
    expect(gate.details.workload.jobs).toBe(4);
    expect(gate.details.workload.status['404']).toBeGreaterThan(0);
    expect(gate.details.workload.status['401']).toBeGreaterThan(0);
  });

  it('fails, naming them, on a dashboard query without data and an alert that does not parse', async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'wuzv-mon-')), 'monitoring');
    await cp(repoMonitoring, dir, { recursive: true });
    const dashboardFile = path.join(dir, 'grafana', 'dashboards', 'http-metrics.json');
    const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8'));
    dashboard.panels.push({
      type: 'timeseries',
      title: 'A metric nobody exports',
      targets: [{ expr: 'sum(rate(wuzctl_no_such_metric_total[$__rate_interval]))', refId: 'A' }],
    });
    await writeFile(dashboardFile, JSON.stringify(dashboard));
    const alertsFile = path.join(dir, 'alerts.yml');
    await writeFile(
      alertsFile,
      (await readFile(alertsFile, 'utf8')).replace('expr: redis_up == 0', 'expr: sum(redis_up[1m]) == 0'),
    );
    const result = await wuzctl(
      [
        'verify',
        'metrics',
        '--json',
        '--config',
        await configFile({ monitoringDir: dir, workloadSeconds: 5 }),
      ],
      { env: embeddedEnv, timeoutMs: 180_000 },
    );
    expect(result.exitCode, result.stderr).toBe(1);
    const [gate] = JSON.parse(result.stdout).gates;
    expect(gate.pass).toBe(false);
    expect(gate.figure).toBeLessThan(1);
    expect(gate.details.dashboard_queries.empty).toEqual([
      'http-metrics.json › A metric nobody exports: sum(rate(wuzctl_no_such_metric_total[$__rate_interval]))',
    ]);
    expect(gate.details.promtool.rules).toMatch(/range vector/);
    expect(gate.details.alerts.problems.some((p: string) => p.startsWith('RedisDown:'))).toBe(true);
  });

  it('exits 2 with an install hint when Prometheus is not there', async () => {
    const result = await wuzctl(['verify', 'metrics', '--config', await configFile({})], {
      env: { ...embeddedEnv, PROMETHEUS_BIN: '/nonexistent/prometheus' },
      timeoutMs: 120_000,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/prometheus is not installed/);
    expect(result.stdout).toMatch(/hint: .*apt-get install prometheus/);
  });
});
