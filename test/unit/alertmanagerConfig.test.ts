import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// monitoring/alertmanager.yml through the real amtool (Alertmanager 0.25, the version
// docker-compose.yml runs), and docs/RUNBOOK.md against the alerts of monitoring/alerts.yml:
// notifications link to the runbook section named after their alert.

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML documents, read field by field
type Doc = any;

const readYaml = async (file: string): Promise<Doc> => parse(await readFile(path.join(root, file), 'utf8'));

interface AmtoolResult {
  code: number;
  output: string;
}

/** Runs amtool; a missing amtool fails the test (CI installs it), it is never skipped. */
async function amtool(args: string[]): Promise<AmtoolResult> {
  try {
    const { stdout, stderr } = await run('amtool', args, { cwd: root, timeout: 30_000 });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error(
        'amtool was not found on PATH: install it with `apt-get install prometheus-alertmanager` ' +
          '(the Debian package that ships amtool; CI installs it)',
      );
    }
    return {
      code: typeof failure.code === 'number' ? failure.code : -1,
      output: `${failure.stdout ?? ''}${failure.stderr ?? ''}`,
    };
  }
}

/** The receivers amtool routes a label set to, in routing-tree order. */
async function routeOf(labels: Record<string, string>): Promise<string[]> {
  const result = await amtool([
    'config',
    'routes',
    'test',
    '--config.file=monitoring/alertmanager.yml',
    ...Object.entries(labels).map(([name, value]) => `${name}=${value}`),
  ]);
  expect(result.code, result.output).toBe(0);
  // stderr carries a "--config.file flag overrides --alertmanager.url" warning; the
  // answer is the line of receiver names.
  const answer = result.output.split('\n').find((line) => line.trim() && !line.startsWith('Warning:')) ?? '';
  return answer
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}

describe('monitoring/alertmanager.yml', () => {
  let config: Doc;
  let rules: Doc[];

  beforeAll(async () => {
    config = await readYaml('monitoring/alertmanager.yml');
    rules = (await readYaml('monitoring/alerts.yml')).groups.flatMap((group: Doc) => group.rules);
  });

  it('passes `amtool check-config`, which finds its receivers and inhibit rule', async () => {
    const result = await amtool(['check-config', 'monitoring/alertmanager.yml']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
    expect(result.output).toContain(` - ${config.receivers.length} receivers`);
    expect(result.output).toContain(` - ${config.inhibit_rules.length} inhibit rules`);
    expect(config.receivers.map((receiver: Doc) => receiver.name).sort()).toEqual([
      'slack-and-webhook',
      'webhook',
    ]);
  });

  it('groups by alert name with the agreed timings', () => {
    expect(config.route).toMatchObject({
      receiver: 'webhook',
      group_by: ['alertname'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
    });
  });

  it('sends critical alerts to Slack and the webhook, warnings to the webhook only', async () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const expected = rule.labels.severity === 'critical' ? ['slack-and-webhook'] : ['webhook'];
      expect(await routeOf({ alertname: rule.alert, severity: rule.labels.severity }), rule.alert).toEqual(
        expected,
      );
    }
    const critical = config.receivers.find((receiver: Doc) => receiver.name === 'slack-and-webhook');
    expect(critical.slack_configs).toHaveLength(1);
    expect(critical.webhook_configs).toHaveLength(1);
    // The Slack URL is a credential: read from the file compose mounts, never inline.
    expect(critical.slack_configs[0].api_url).toBeUndefined();
    expect(critical.slack_configs[0].api_url_file).toBe('/etc/alertmanager/slack_url');
    for (const receiver of config.receivers) {
      for (const webhook of receiver.webhook_configs ?? []) {
        expect(webhook.send_resolved, receiver.name).toBe(true);
      }
    }
  });

  it('lets DatabaseDown inhibit HighErrorRate', () => {
    expect(config.inhibit_rules).toEqual([
      {
        source_matchers: ['alertname="DatabaseDown"'],
        target_matchers: ['alertname="HighErrorRate"'],
      },
    ]);
    const names = rules.map((rule) => rule.alert);
    expect(names).toContain('DatabaseDown');
    expect(names).toContain('HighErrorRate');
  });

  it('is mounted by compose where the alertmanager service reads it, with the Slack URL file', async () => {
    const compose = await readYaml('docker-compose.yml');
    const service = compose.services.alertmanager;
    expect(service.image).toBe('prom/alertmanager:v0.25.0');
    expect(service.volumes).toContain('./monitoring/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro');
    expect(service.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
    const slackUrl = service.configs.find((entry: Doc) => entry.target === '/etc/alertmanager/slack_url');
    expect(slackUrl, 'no config mounted at the Slack api_url_file').toBeDefined();
    expect(compose.configs[slackUrl.source]).toBeDefined();
    expect(compose.services.prometheus.depends_on).toContain('alertmanager');
    // Prometheus sends to that service, on Alertmanager's port.
    const prometheus = await readYaml('monitoring/prometheus.yml');
    expect(prometheus.alerting.alertmanagers).toEqual([
      { static_configs: [{ targets: ['alertmanager:9093'] }] },
    ]);
  });
});

describe('docs/RUNBOOK.md', () => {
  it('has a section headed by the exact name of every alert in monitoring/alerts.yml', async () => {
    const { groups } = await readYaml('monitoring/alerts.yml');
    const alerts: string[] = groups.flatMap((group: Doc) => group.rules.map((rule: Doc) => rule.alert));
    expect(alerts.length).toBeGreaterThan(0);
    const runbook = await readFile(path.join(root, 'docs/RUNBOOK.md'), 'utf8');
    // `## HighErrorRate` is what GitHub anchors as #higherrorrate, the link notifications carry.
    const headings = new Set([...runbook.matchAll(/^## (.+?)\s*$/gm)].map((match) => match[1]));
    expect(alerts.filter((alert) => !headings.has(alert))).toEqual([]);
  });
});
