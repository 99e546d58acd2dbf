import os from 'node:os';
import { Command, Option } from 'commander';
import type { AlertsSummary, AlertView, Delivery } from '../../daemon/alerts/loop.ts';
import { ruleNamed } from '../../daemon/alerts/rules.ts';
import { ALERT_NAMES, type AlertName, type ChannelName } from '../../daemon/alerts/types.ts';
import { resolveDataDir } from '../../daemon/config/dataPaths.ts';
import { DaemonClient } from '../client.ts';
import { parseDuration } from '../duration.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { bold, CliError, dim, exitCodes, green, printJson, red, table, yellow } from '../output.ts';

/** A rule as typed (any case) → its name; a usage error lists the names. */
function ruleArgument(text: string): AlertName {
  const rule = ruleNamed(text);
  if (!rule) {
    throw new CliError(
      `no alert rule ${JSON.stringify(text)}`,
      exitCodes.usage,
      `rules: ${ALERT_NAMES.join(', ')}`,
    );
  }
  return rule.name;
}

const client = (dataDir?: string) => new DaemonClient(resolveDataDir(dataDir));

export function alertsCommand(): Command {
  const command = new Command('alerts').description(
    "the daemon's alert rules: their state, a test notification, silences (docs/RUNBOOK.md)",
  );
  command
    .command('list', { isDefault: true })
    .description('each rule: threshold, current value, state and since when, last notification, next allowed')
    .addOption(dataDirOption())
    .addOption(jsonOption('print the rules and channels as JSON'))
    .action(async (options: { dataDir?: string; json?: boolean }) => {
      const summary = await client(options.dataDir).alerts();
      if (options.json) printJson(summary);
      else process.stdout.write(`${renderAlerts(summary)}\n`);
    });
  command
    .command('test')
    .description(
      'send a clearly marked test notification through the real channels; exit 0 only when each receiver accepted it',
    )
    .argument('[rule]', `the rule the test is about (${ALERT_NAMES.join(', ')})`, 'HighErrorRate')
    .addOption(new Option('--channel <channel>', 'only this channel').choices(['webhook', 'email']))
    .addOption(dataDirOption())
    .addOption(jsonOption('print each delivery as JSON'))
    .action(
      async (ruleText: string, options: { channel?: ChannelName; dataDir?: string; json?: boolean }) => {
        const rule = ruleArgument(ruleText);
        if (!options.json && process.stderr.isTTY) process.stderr.write(dim(`sending a test of ${rule}…\n`));
        const { deliveries } = await client(options.dataDir).testAlert({ rule, channel: options.channel });
        if (options.json) printJson({ rule, ok: deliveries.every((d) => d.ok), deliveries });
        else for (const delivery of deliveries) process.stdout.write(`${renderDelivery(delivery)}\n`);
        const failed = deliveries.filter((delivery) => !delivery.ok);
        if (failed.length > 0) {
          // The JSON above already told a machine; a person gets the reason on stderr.
          throw new CliError(
            `the ${failed.map((d) => d.channel).join(' and ')} receiver did not accept the test`,
            exitCodes.failure,
            'see docs/RUNBOOK.md#notifications-that-do-not-arrive',
          );
        }
      },
    );
  command
    .command('silence')
    .description(
      'hold firing notifications and reminders of a rule for a while (shared by daemons on one Redis)',
    )
    .argument('<rule>', `the rule (${ALERT_NAMES.join(', ')})`)
    .requiredOption('--for <duration>', 'how long: 30m, 1h, 2d (at most 7d)')
    .option('--reason <text>', 'why, shown by `alerts list` and `status`', '')
    .addOption(dataDirOption())
    .addOption(jsonOption('print the silence as JSON'))
    .action(
      async (
        ruleText: string,
        options: { for: string; reason: string; dataDir?: string; json?: boolean },
      ) => {
        const rule = ruleArgument(ruleText);
        const ms = parseDuration(options.for);
        if (ms === null || ms < 1000 || ms > 7 * 86_400_000) {
          throw new CliError(
            `--for ${options.for} is not a duration from 1s to 7d`,
            exitCodes.usage,
            'e.g. --for 1h',
          );
        }
        const by = `${os.userInfo().username}@${os.hostname()}`;
        const result = await client(options.dataDir).silenceAlert({
          rule,
          forSeconds: Math.round(ms / 1000),
          reason: options.reason,
          by,
        });
        if (options.json) printJson(result);
        else {
          process.stdout.write(
            `${yellow('silenced')} ${rule} until ${result.until}${result.reason ? ` (${result.reason})` : ''}${result.shared ? '' : dim(' — this daemon only: Redis is away')}\n`,
          );
        }
      },
    );
  command
    .command('unsilence')
    .description('end a silence now')
    .argument('<rule>', `the rule (${ALERT_NAMES.join(', ')})`)
    .addOption(dataDirOption())
    .addOption(jsonOption('print the result as JSON'))
    .action(async (ruleText: string, options: { dataDir?: string; json?: boolean }) => {
      const rule = ruleArgument(ruleText);
      const result = await client(options.dataDir).unsilenceAlert(rule);
      if (options.json) printJson(result);
      else
        process.stdout.write(
          result.removed ? `${green('unsilenced')} ${rule}\n` : `${rule} was not silenced\n`,
        );
    });
  return command;
}

function renderDelivery(delivery: Delivery): string {
  const mark = delivery.ok ? green('✓') : red('✗');
  const status =
    delivery.status === undefined
      ? 'no answer'
      : `${delivery.channel === 'email' ? 'SMTP' : 'HTTP'} ${delivery.status}`;
  const attempts = `${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}`;
  const verdict = delivery.ok ? 'accepted' : 'refused';
  return `${mark} ${delivery.channel}: ${verdict} (${status}, ${attempts})${delivery.ok ? '' : `\n    ${delivery.answer}`}`;
}

const stateText = (alert: AlertView) =>
  alert.state === 'firing' ? red('firing') : alert.state === 'pending' ? yellow('pending') : green('ok');

const ago = (iso: string | null) => {
  if (!iso) return '-';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 0) return `in ${formatSeconds(-seconds)}`;
  return `${formatSeconds(seconds)} ago`;
};

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${seconds}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

export function renderAlerts(summary: AlertsSummary): string {
  const where = summary.channels.length
    ? summary.channels.join(', ')
    : 'log only (set ALERT_WEBHOOK_URL or ALERT_EMAIL_ENABLED)';
  const role = summary.shared
    ? summary.sender
      ? `this daemon sends for ${summary.nodes} daemon${summary.nodes === 1 ? '' : 's'}`
      : 'another daemon on this Redis sends'
    : yellow('Redis away: deciding from memory');
  const header = [
    `${bold('alerts')} → ${where}`,
    dim(`  every ${summary.intervalSeconds}s · cooldown ${formatSeconds(summary.cooldownSeconds)} · ${role}`),
    '',
  ];
  const rows = [
    ['ALERT', 'STATE', 'SINCE', 'VALUE', 'THRESHOLD', 'FOR', 'LAST NOTIFIED', 'NEXT ALLOWED'].map(dim),
    ...summary.alerts.map((alert) => [
      alert.silenced ? `${alert.name} ${dim('(silenced)')}` : alert.name,
      stateText(alert),
      ago(alert.since),
      alert.valueText ?? '-',
      alert.threshold,
      formatSeconds(alert.forSeconds),
      alert.lastNotification ? `${alert.lastNotification.kind} ${ago(alert.lastNotification.at)}` : '-',
      alert.nextAllowedAt ? ago(alert.nextAllowedAt) : '-',
    ]),
  ];
  const silences = summary.alerts
    .filter((alert) => alert.silenced)
    .map((alert) => {
      const silence = alert.silenced as NonNullable<AlertView['silenced']>;
      return dim(
        `  ${alert.name} silenced until ${silence.until} by ${silence.by}${silence.reason ? `: ${silence.reason}` : ''}`,
      );
    });
  return [...header, table(rows).replace(/^/gm, '  '), ...silences].join('\n');
}
