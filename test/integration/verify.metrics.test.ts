// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read the gate's JSON
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, embeddedEnv, seedDemo, startDaemon, wuzctl } from '../helpers/daemon.ts';

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

describe('gates against a live daemon touch only what they need', () => {
  afterAll(cleanupDaemons);

  it('verify metrics leaves the failure limit of this machine alone; verify bundle seeds and rotates nothing', async () => {
    const daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 1, queueWorkers: 1 });
    const [tenant] = await seedDemo(daemon.dataDir, 1);
    const metrics = await wuzctl(
      ['verify', 'metrics', '--json', '--data-dir', daemon.dataDir, '--config', await configFile({})],
      { env: embeddedEnv, timeoutMs: 180_000 },
    );
    expect(metrics.exitCode, metrics.stderr + metrics.stdout).toBe(0);
    const [gate] = JSON.parse(metrics.stdout).gates;
    expect(gate.details.workload.status['401']).toBeGreaterThan(0);
    // Its few 401s stayed under the failure limit: no failed authentication was refused.
    const status = JSON.parse((await wuzctl(['status', '--json', '--data-dir', daemon.dataDir])).stdout);
    expect(status.rateLimit.rejectedUnauthenticated).toBe(0);
    // A mistyped token from this machine is still told 401, not locked out with a 429.
    const typo = await fetch(`${daemon.url}/api/session/agents`, {
      headers: { authorization: `Bearer wuz_${'0'.repeat(12)}_${'x'.repeat(43)}` },
    });
    expect(typo.status).toBe(401);

    // The gate seeded for itself (rotating the demo tokens); the bundle gate must not.
    const [seeded] = await seedDemo(daemon.dataDir, 1);
    const bundle = await wuzctl(['verify', 'bundle', '--json', '--data-dir', daemon.dataDir], {
      env: embeddedEnv,
      timeoutMs: 180_000,
    });
    expect(bundle.exitCode, bundle.stderr + bundle.stdout).toBe(0);
    expect(bundle.stderr).not.toMatch(/seeding/);
    const stillValid = await fetch(`${daemon.url}/api/session/agents`, {
      headers: { authorization: `Bearer ${seeded?.admin_token}` },
    });
    // Authenticated (the metrics gate's load may have spent demo-1's plan budget: 429 then).
    expect(stillValid.status, await stillValid.text()).not.toBe(401);
    expect(stillValid.headers.get('x-ratelimit-limit')).toBe('100');
    expect(tenant?.slug).toBe('demo-1');
  });
});
