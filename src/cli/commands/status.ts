import { Command } from 'commander';
import { resolveDataDir } from '../../daemon/config/dataPaths.ts';
import type { DaemonStatus } from '../../daemon/supervisor/supervisor.ts';
import { DaemonClient } from '../client.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { bold, dim, formatBytes, formatDuration, green, printJson, red, table, yellow } from '../output.ts';

export function statusCommand(): Command {
  return new Command('status')
    .description('show the running daemon: its children, Redis and the database (exit 3 when not running)')
    .addOption(dataDirOption())
    .addOption(jsonOption('print the status as JSON'))
    .action(async (options: { dataDir?: string; json?: boolean }) => {
      const status = await new DaemonClient(resolveDataDir(options.dataDir)).status();
      if (options.json) printJson(status);
      else process.stdout.write(`${renderStatus(status)}\n`);
    });
}

const health = (healthy: boolean, error: string | null) =>
  healthy ? green('healthy') : red(`unhealthy: ${error}`);

/** The rollout in progress (how far), else how the last one ended. */
function rolloutLine(rollout: NonNullable<DaemonStatus['rollout']>): string {
  const progress = `${rollout.steps.length}/${rollout.plan.length}`;
  if (rollout.state === 'running') {
    return yellow(
      `${rollout.id} to generation ${rollout.generation}: ${progress} replaced${rollout.replacing ? `, replacing ${rollout.replacing}` : ''}`,
    );
  }
  const when = rollout.finishedAt ?? rollout.startedAt;
  if (rollout.state === 'done')
    return green(`${rollout.id} to generation ${rollout.generation} done at ${when}`);
  return red(
    `${rollout.id} to generation ${rollout.generation} ${rollout.state} at ${when} (${progress} replaced): ${rollout.reason}`,
  );
}

/** Where alerts go and which fire, are pending or silenced (`wuzctl alerts` has the rest). */
function alertsLine(alerts: DaemonStatus['alerts']): string {
  if (!alerts) return 'off';
  const where = alerts.channels.length ? alerts.channels.join(', ') : 'log only';
  const named = (state: string) =>
    alerts.alerts.filter((alert) => alert.state === state).map((alert) => alert.name);
  const firing = named('firing');
  const pending = named('pending');
  const silenced = alerts.alerts.filter((alert) => alert.silenced).map((alert) => alert.name);
  return [
    `→ ${where}`,
    firing.length ? red(`firing: ${firing.join(', ')}`) : green('none firing'),
    ...(pending.length ? [yellow(`pending: ${pending.join(', ')}`)] : []),
    ...(silenced.length ? [dim(`silenced: ${silenced.join(', ')}`)] : []),
  ].join(' · ');
}

export function renderStatus(status: DaemonStatus): string {
  const state = status.state === 'ready' ? green(status.state) : yellow(status.state);
  const lines = [
    `${bold('wuzctl')} ${status.version} · ${state} · pid ${status.pid} · up ${formatDuration(status.uptimeSeconds)}`,
    `  ${dim('url'.padEnd(9))} ${status.url}`,
    `  ${dim('metrics'.padEnd(9))} ${status.metricsUrl ?? 'off'}`,
    `  ${dim('data dir'.padEnd(9))} ${status.dataDir}`,
    `  ${dim('redis'.padEnd(9))} ${status.redis.mode} ${status.redis.address}${status.redis.pid ? ` (pid ${status.redis.pid})` : ''} · ${health(status.redis.healthy, status.redis.error)}`,
    `  ${dim('database'.padEnd(9))} ${status.database.mode} ${status.database.address} · ${health(status.database.healthy, status.database.error)}${status.database.runs === null ? '' : ` · ${status.database.runs} starts recorded`}`,
    `  ${dim('alerts'.padEnd(9))} ${alertsLine(status.alerts)}`,
    ...(status.rollout ? [`  ${dim('rollout'.padEnd(9))} ${rolloutLine(status.rollout)}`] : []),
    '',
  ];
  const rows = [
    ['CHILD', 'PID', 'GEN', 'STATE', 'UPTIME', 'RESTARTS', 'RSS', 'LAST EXIT'].map(dim),
    ...status.children.map((child) => [
      `${child.role}#${child.index}`,
      String(child.pid ?? '-'),
      String(child.generation),
      child.crashLoop
        ? red('crash-loop')
        : child.state === 'ready'
          ? green(child.state)
          : yellow(child.state),
      formatDuration(child.uptimeSeconds),
      String(child.restarts),
      formatBytes(child.rssBytes),
      child.lastExit ?? '-',
    ]),
  ];
  return lines.join('\n') + table(rows).replace(/^/gm, '  ');
}
