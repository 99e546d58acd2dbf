import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The monitoring stack without Docker: docker-compose.yml against the Compose
// Specification's JSON schema, monitoring/ through promtool (config, rules and the rules'
// unit tests), and the Grafana dashboards and provisioning against what compose mounts.

const root = fileURLToPath(new URL('../..', import.meta.url));
const monitoring = path.join(root, 'monitoring');
const run = promisify(execFile);

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON documents, read field by field
type Doc = any;

const readYaml = async (file: string): Promise<Doc> => parse(await readFile(path.join(root, file), 'utf8'));
const readJson = async (file: string): Promise<Doc> =>
  JSON.parse(await readFile(path.join(root, file), 'utf8'));

/** Every metric the daemon exposes (the metric contract); dashboards and alerts may use only these. */
const METRICS = new Set([
  'http_requests_total',
  'http_request_duration_seconds_bucket',
  'http_request_duration_seconds_sum',
  'http_request_duration_seconds_count',
  'redis_cache_hits_total',
  'redis_cache_misses_total',
  'redis_errors_total',
  'rate_limit_rejections_total',
  'queue_jobs_total',
  'queue_jobs',
  'queue_job_duration_seconds_bucket',
  'queue_job_duration_seconds_sum',
  'queue_job_duration_seconds_count',
  'active_sessions_total',
  'redis_up',
  'database_up',
  'wuzctl_memory_limit_bytes',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_heap_size_used_bytes',
]);

/**
 * The metric names a PromQL expression reads: label matchers, ranges, grouping clauses,
 * string literals, function calls, numbers and keywords removed, what is left are metrics.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b[a-z_]+\s*\(/g, '(');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  return (stripped.match(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g) ?? []).filter((word) => !keywords.has(word));
}

// ---------------------------------------------------------------------------------------
// promtool

interface PromtoolResult {
  code: number;
  output: string;
}

/** Runs promtool; a missing promtool fails the test (CI installs it), it is never skipped. */
async function promtool(args: string[], cwd = root): Promise<PromtoolResult> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error(
        'promtool was not found on PATH: install it with `apt-get install prometheus` ' +
          '(the Debian package that ships promtool; CI installs it)',
      );
    }
    return {
      code: typeof failure.code === 'number' ? failure.code : -1,
      output: `${failure.stdout}${failure.stderr}`,
    };
  }
}

// ---------------------------------------------------------------------------------------
// docker-compose.yml

/** The host side of a service's bind mounts (short "src:dst[:mode]" or long syntax), with targets. */
function bindMounts(service: Doc): { source: string; target: string }[] {
  return (service.volumes ?? []).flatMap((volume: Doc) => {
    if (typeof volume === 'string') {
      const [source = '', target = ''] = volume.split(':');
      // Named volumes have no slash or dot in front; only host paths are checked.
      return /^[./~]/.test(source) ? [{ source, target }] : [];
    }
    return volume.type === 'bind' ? [{ source: volume.source, target: volume.target }] : [];
  });
}

describe('docker-compose.yml', () => {
  let compose: Doc;

  beforeAll(async () => {
    compose = await readYaml('docker-compose.yml');
  });

  it('is valid against the Compose Specification schema', async () => {
    // The compose-spec project's schema/compose-spec.json, as vendored by the dclint package.
    const require = createRequire(import.meta.url);
    const schemaFile = path.join(
      path.dirname(require.resolve('dclint/package.json')),
      'schemas/compose.schema.json',
    );
    // Its "$schema" is draft-07 under an https URL Ajv does not know by that name; Ajv's
    // default meta-schema is draft-07 already.
    const { $schema, ...schema } = JSON.parse(await readFile(schemaFile, 'utf8'));
    expect($schema).toContain('draft-07');
    expect(schema.title).toBe('Compose Specification');
    const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema);
    const valid = validate(compose);
    const errors = (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
    );
    expect(errors).toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs the daemon, its backing services and the monitoring stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'alertmanager',
      'daemon',
      'grafana',
      'jaeger',
      'postgres',
      'prometheus',
      'redis',
    ]);
  });

  it('mounts only host files that exist in the repo, and builds from files that exist', () => {
    const missing: string[] = [];
    for (const [name, service] of Object.entries<Doc>(compose.services)) {
      for (const { source } of bindMounts(service)) {
        if (!existsSync(path.resolve(root, source))) missing.push(`${name}: ${source}`);
      }
    }
    expect(missing).toEqual([]);
    const build = compose.services.daemon.build;
    const context = typeof build === 'string' ? build : build.context;
    const dockerfile = typeof build === 'string' ? 'Dockerfile' : (build.dockerfile ?? 'Dockerfile');
    expect(existsSync(path.join(root, context, dockerfile))).toBe(true);
  });

  it('copies into the image only paths that exist and that .dockerignore keeps', async () => {
    const dockerfile = await readFile(path.join(root, 'Dockerfile'), 'utf8');
    const ignored = (await readFile(path.join(root, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const sources = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((match) =>
      (match[1] ?? '').trim().split(/\s+/).slice(0, -1),
    );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(path.join(root, source)), source).toBe(true);
      expect(ignored, `${source} is excluded by .dockerignore`).not.toContain(source.replace(/\/$/, ''));
    }
    expect(dockerfile).toMatch(/^FROM node:24-bookworm-slim/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/wuzctl"]');
  });

  it('points the daemon at the compose Redis, PostgreSQL and Jaeger, with metrics on 9464', () => {
    const daemon = compose.services.daemon;
    expect(daemon.environment).toMatchObject({
      REDIS_URL: 'redis://redis:6379',
      DATABASE_URL: 'postgres://wuzctl:wuzctl@postgres:5432/wuzctl',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
    });
    const command = daemon.command.map(String);
    expect(command[0]).toBe('serve');
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(flag('--host')).toBe('0.0.0.0');
    expect(flag('--port')).toBe('3000');
    expect(flag('--metrics-port')).toBe('9464');
    expect(flag('--metrics-host')).toBe('0.0.0.0');
    for (const dependency of ['redis', 'postgres']) {
      expect(daemon.depends_on[dependency]).toEqual({ condition: 'service_healthy' });
      expect(compose.services[dependency].healthcheck.test.length).toBeGreaterThan(0);
    }
  });

  it('gives the daemon and Prometheus the same METRICS_TOKEN, Prometheus as its credentials file', async () => {
    const prometheusConfig = await readYaml('monitoring/prometheus.yml');
    const [job] = prometheusConfig.scrape_configs;
    const tokenFile = job.authorization.credentials_file;
    const mount = compose.services.prometheus.configs.find((c: Doc) => c.target === tokenFile);
    expect(mount, `no config mounted at ${tokenFile}`).toBeDefined();
    const content = compose.configs[mount.source].content;
    expect(content).toMatch(/^\$\{METRICS_TOKEN[:?}]/);
    expect(compose.services.daemon.environment.METRICS_TOKEN).toBe(content);
  });

  it('mounts prometheus.yml and every rule file it names where Prometheus reads them', async () => {
    const prometheusConfig = await readYaml('monitoring/prometheus.yml');
    const prometheus = compose.services.prometheus;
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const mounts = bindMounts(prometheus);
    const targetOf = (source: string) =>
      mounts.find((m) => path.resolve(root, m.source) === path.join(root, source))?.target;
    expect(targetOf('monitoring/prometheus.yml')).toBe('/etc/prometheus/prometheus.yml');
    expect(prometheusConfig.rule_files.length).toBeGreaterThan(0);
    for (const rules of prometheusConfig.rule_files) {
      expect(targetOf(path.join('monitoring', rules))).toBe(path.posix.join('/etc/prometheus', rules));
    }
    // The scrape target is the daemon's metrics listener.
    const [job] = prometheusConfig.scrape_configs;
    const [host, port] = job.static_configs[0].targets[0].split(':');
    expect(compose.services[host]).toBeDefined();
    const command = compose.services[host].command.map(String);
    expect(command[command.indexOf('--metrics-port') + 1]).toBe(port);
  });
});

// ---------------------------------------------------------------------------------------
// Prometheus

describe('monitoring/prometheus.yml and alerts.yml (promtool)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wuz-prom-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is a single wuzctl scrape job with Bearer auth from the token file', async () => {
    const config = await readYaml('monitoring/prometheus.yml');
    expect(config.global).toMatchObject({ scrape_interval: '15s', evaluation_interval: '15s' });
    expect(config.rule_files).toEqual(['alerts.yml']);
    expect(config.scrape_configs).toHaveLength(1);
    expect(config.scrape_configs[0]).toMatchObject({
      job_name: 'wuzctl',
      metrics_path: '/metrics',
      authorization: { type: 'Bearer', credentials_file: '/etc/prometheus/metrics_token' },
      static_configs: [{ targets: ['daemon:9464'] }],
    });
  });

  it('passes `promtool check config --syntax-only` as it is', async () => {
    const result = await promtool(['check', 'config', '--syntax-only', 'monitoring/prometheus.yml']);
    expect(result.code, result.output).toBe(0);
  });

  it('passes the full `promtool check config` (rule files loaded) with a token file in place', async () => {
    // The full check also stats credentials_file, which exists only inside the Prometheus
    // container: check a copy whose credentials_file points at a temporary token instead.
    const original = await readFile(path.join(monitoring, 'prometheus.yml'), 'utf8');
    const containerPath = 'credentials_file: /etc/prometheus/metrics_token';
    expect(original).toContain(containerPath);
    const token = path.join(dir, 'metrics_token');
    await writeFile(token, 'test-token\n');
    await writeFile(
      path.join(dir, 'prometheus.yml'),
      original.replace(containerPath, `credentials_file: ${token}`),
    );
    for (const rules of (await readYaml('monitoring/prometheus.yml')).rule_files) {
      await copyFile(path.join(monitoring, rules), path.join(dir, rules));
    }
    const result = await promtool(['check', 'config', path.join(dir, 'prometheus.yml')]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS: 5 rules found/);
  });

  it('passes `promtool check rules monitoring/alerts.yml`', async () => {
    const result = await promtool(['check', 'rules', 'monitoring/alerts.yml']);
    expect(result.code, result.output).toBe(0);
  });

  it('passes its unit tests: `promtool test rules monitoring/alerts.test.yml`', async () => {
    const result = await promtool(['test', 'rules', 'monitoring/alerts.test.yml']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('has the five alerts, each `<expression> <comparison> <number>`, on contract metrics only', async () => {
    const { groups } = await readYaml('monitoring/alerts.yml');
    expect(groups.map((g: Doc) => g.name)).toEqual(['wuzctl']);
    const rules = groups[0].rules;
    expect(rules.map((r: Doc) => r.alert)).toEqual([
      'HighErrorRate',
      'HighLatencyP95',
      'RedisDown',
      'DatabaseDown',
      'HighMemoryUsage',
    ]);
    for (const rule of rules) {
      expect(rule.expr, rule.alert).toMatch(/^[\s\S]*\S\s*(?:>|<|==|!=|>=|<=)\s*-?\d+(?:\.\d+)?$/);
      expect(rule.labels.severity, rule.alert).toMatch(/^(critical|warning)$/);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.description, rule.alert).toBeTruthy();
      expect(
        metricNames(rule.expr).filter((name) => !METRICS.has(name)),
        rule.alert,
      ).toEqual([]);
    }
    const errorRate = rules.find((r: Doc) => r.alert === 'HighErrorRate');
    expect(errorRate.expr).toContain('or vector(0)');
  });

  it('tests every alert both firing and staying quiet', async () => {
    const { groups } = await readYaml('monitoring/alerts.yml');
    const { tests } = await readYaml('monitoring/alerts.test.yml');
    const cases = tests.flatMap((t: Doc) => t.alert_rule_test ?? []);
    for (const { alert } of groups[0].rules) {
      const mine = cases.filter((c: Doc) => c.alertname === alert);
      expect(
        mine.some((c: Doc) => c.exp_alerts?.length > 0),
        `${alert} has no firing case`,
      ).toBe(true);
      expect(
        mine.some((c: Doc) => (c.exp_alerts ?? []).length === 0),
        `${alert} has no quiet case`,
      ).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Grafana

/** Every panel, rows' nested panels included. */
function allPanels(dashboard: Doc): Doc[] {
  return (dashboard.panels ?? []).flatMap((panel: Doc) => [panel, ...(panel.panels ?? [])]);
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

describe('Grafana dashboards', () => {
  const dashboardsDir = path.join(monitoring, 'grafana', 'dashboards');
  const files = readdirSync(dashboardsDir)
    .filter((file) => file.endsWith('.json'))
    .sort();

  it('are the HTTP, cache and queue dashboards, with distinct uids', async () => {
    expect(files).toEqual(['cache-metrics.json', 'http-metrics.json', 'queue-metrics.json']);
    const uids = await Promise.all(
      files.map(async (file) => (await readJson(`monitoring/grafana/dashboards/${file}`)).uid),
    );
    expect(new Set(uids).size).toBe(files.length);
  });

  describe.each(files)('%s', (file) => {
    let dashboard: Doc;
    let text: string;

    beforeAll(async () => {
      text = await readFile(path.join(dashboardsDir, file), 'utf8');
      dashboard = JSON.parse(text);
    });

    it('picks its Prometheus through a `datasource` variable, never a fixed uid', () => {
      expect(dashboard.templating.list).toContainEqual(
        expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
      );
      expect(text).not.toContain('DS_PROMETHEUS');
      expect(dashboard.__inputs).toBeUndefined();
      for (const panel of allPanels(dashboard)) {
        expect(panel.datasource, `panel "${panel.title}"`).toEqual(DATASOURCE);
        for (const target of panel.targets ?? []) {
          expect(target.datasource, `panel "${panel.title}" ${target.refId}`).toEqual(DATASOURCE);
        }
      }
    });

    it('has a PromQL expr in every target, over contract metrics and $__rate_interval only', () => {
      const panels = allPanels(dashboard).filter((panel) => panel.type !== 'row');
      expect(panels.length).toBeGreaterThan(0);
      for (const panel of panels) {
        expect(panel.targets?.length, `panel "${panel.title}" has no targets`).toBeGreaterThan(0);
        for (const target of panel.targets) {
          const where = `panel "${panel.title}" ${target.refId}`;
          expect(typeof target.expr === 'string' && target.expr.trim() !== '', where).toBe(true);
          const variables = [...target.expr.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]);
          expect(
            variables.filter((v) => v !== '__rate_interval'),
            where,
          ).toEqual([]);
          expect(
            metricNames(target.expr).filter((name) => !METRICS.has(name)),
            where,
          ).toEqual([]);
        }
      }
    });
  });
});

describe('Grafana provisioning', () => {
  let compose: Doc;
  let grafanaMounts: { source: string; target: string }[];
  const mountedAt = (source: string) =>
    grafanaMounts.find((m) => path.resolve(root, m.source) === path.join(root, source))?.target;

  beforeAll(async () => {
    compose = await readYaml('docker-compose.yml');
    grafanaMounts = bindMounts(compose.services.grafana);
  });

  it('is mounted where Grafana reads provisioning', () => {
    expect(mountedAt('monitoring/grafana/provisioning')).toBe('/etc/grafana/provisioning');
  });

  it('provisions the compose Prometheus as the default datasource, uid prometheus', async () => {
    const config = await readYaml('monitoring/grafana/provisioning/datasources/prometheus.yml');
    expect(config.apiVersion).toBe(1);
    expect(config.datasources).toHaveLength(1);
    const [datasource] = config.datasources;
    expect(datasource).toMatchObject({
      uid: 'prometheus',
      type: 'prometheus',
      url: 'http://prometheus:9090',
      isDefault: true,
    });
    const ports = compose.services.prometheus.ports.map(String);
    expect(ports.some((p: string) => p.endsWith(':9090'))).toBe(true);
  });

  it('loads the dashboards from the directory compose mounts them at, into the folder wuzctl', async () => {
    const config = await readYaml('monitoring/grafana/provisioning/dashboards/dashboards.yml');
    expect(config.apiVersion).toBe(1);
    expect(config.providers).toHaveLength(1);
    const [provider] = config.providers;
    expect(provider).toMatchObject({ type: 'file', folder: 'wuzctl' });
    expect(provider.options.path).toBe(mountedAt('monitoring/grafana/dashboards'));
    const home = compose.services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    if (home) {
      expect(path.posix.dirname(home)).toBe(provider.options.path);
      expect(existsSync(path.join(monitoring, 'grafana', 'dashboards', path.posix.basename(home)))).toBe(
        true,
      );
    }
  });
});
