import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { dataPaths } from '../../daemon/config/dataPaths.ts';
import { ConfigError, loadServeConfig } from '../../daemon/config/load.ts';
import { defaultTextOf, type ServeOptionKey, serveOptionRows } from '../../daemon/config/options.ts';
import type { ServeConfig } from '../../daemon/config/types.ts';
import { preparePrivateDirSync } from '../../daemon/security/privateFiles.ts';
import { RedisNotInstalledError } from '../../daemon/services/redisErrors.ts';
import { DaemonLog } from '../../daemon/supervisor/daemonLog.ts';
import { AlreadyRunningError } from '../../daemon/supervisor/pidLock.ts';
import { StartupError, Supervisor } from '../../daemon/supervisor/supervisor.ts';
import { version } from '../../paths.ts';
import { commandStartedAt } from '../launchTime.ts';
import { bold, CliError, dim, exitCodes, green, suggest } from '../output.ts';

const DETACHED_ENV = 'WUZCTL_DETACHED';

type DetachMessage =
  | { type: 'ready'; banner: string }
  | { type: 'failed'; message: string; exitCode: number };

export function serveCommand(): Command {
  const command = new Command('serve').description(
    'start the supervisor: API workers, queue workers and the embedded Redis/PostgreSQL it needs',
  );
  for (const option of serveOptionRows) {
    if (option.flag)
      command.option(option.flag, `${option.help} [${option.env}, default ${defaultTextOf(option)}]`);
  }
  command.option('--detach', 'run in the background, log to <data-dir>/wuzctl.log, return once ready');
  // Secrets, connection URLs and a few others have no flag (`ps` shows flags): named here.
  const environmentOnly = serveOptionRows.filter((option) => !option.flag).map((option) => option.env);
  command.addHelpText(
    'after',
    `\n${wrap(`Read from the environment only: ${environmentOnly.join(', ')}.`, 80)}\nAll settings: docs/CONFIGURATION.md`,
  );
  command.action(async (options: Partial<Record<ServeOptionKey, string>> & { detach?: boolean }) => {
    let config: ServeConfig;
    try {
      config = loadServeConfig(options);
    } catch (error) {
      if (error instanceof ConfigError) {
        throw new CliError(
          error.message,
          exitCodes.usage,
          'see `wuzctl serve --help` or docs/CONFIGURATION.md',
        );
      }
      throw error;
    }
    if (options.detach) await detach(config);
    else await runForeground(config);
  });
  return command;
}

async function runForeground(config: ServeConfig): Promise<void> {
  // From when the user pressed enter (npx, the launcher, Node's start included): the wait
  // the banner reports is theirs, not this process's.
  const began = commandStartedAt();
  const daemonLog = new DaemonLog(
    process.env[DETACHED_ENV] ? 'none' : process.stdout.isTTY ? 'pretty' : 'json',
  );
  const log = daemonLog.logger('supervisor', config.logLevel);
  const supervisor = new Supervisor(config, log, daemonLog);
  const tellParent = (message: DetachMessage) =>
    new Promise<void>((resolve) => {
      if (!process.env[DETACHED_ENV] || !process.send) return resolve();
      process.send(message, () => {
        process.disconnect?.();
        resolve();
      });
    });

  const onSignal = (signal: NodeJS.Signals) => {
    void supervisor
      .stop(signal)
      .then(() => daemonLog.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // logrotate's postrotate: the file was moved away, a new one takes its name.
  process.on('SIGUSR2', () => {
    if (daemonLog.reopen()) log.info({ file: dataPaths(config.dataDir).log }, 'log file reopened');
  });
  // systemd's ExecReload, or `kill -HUP`: the same rolling reload as `wuzctl reload`.
  process.on('SIGHUP', () => {
    try {
      const rollout = supervisor.reload('SIGHUP');
      log.info({ rollout: rollout.id, generation: rollout.generation }, 'SIGHUP: rolling reload');
    } catch (error) {
      log.warn({ reason: (error as Error).message }, 'SIGHUP: no reload');
    }
  });

  const startCalled = Date.now();
  try {
    await supervisor.start();
  } catch (error) {
    const cliError = toCliError(error, config.dataDir);
    await tellParent({ type: 'failed', message: cliError.message, exitCode: cliError.exitCode });
    throw cliError;
  }
  if (supervisor.state !== 'ready') return; // a signal arrived during startup: the stop handler exits
  const tookMs = Math.round(Date.now() - began);
  const phases = {
    // npm or npx, sh and the launcher, before this process; then Node's start and our imports.
    launcher: Math.round(performance.timeOrigin - began),
    load: Math.round(startCalled - performance.timeOrigin),
    ...supervisor.startupPhases,
  };
  const banner = renderBanner(config, supervisor, tookMs, phases);
  process.stdout.write(`${banner}\n`);
  log.info({ url: supervisor.url, tookMs, phases }, 'ready');
  await tellParent({ type: 'ready', banner });
}

function toCliError(error: unknown, dataDir: string): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof AlreadyRunningError) {
    return new CliError(
      error.message,
      exitCodes.failure,
      `see it with \`${suggest('wuzctl status', dataDir)}\`, stop it with \`${suggest('wuzctl stop', dataDir)}\``,
    );
  }
  if (error instanceof RedisNotInstalledError) return new CliError(error.message, exitCodes.failure);
  if (error instanceof StartupError) return new CliError(error.message, error.exitCode, error.hint);
  return new CliError(`startup failed: ${(error as Error).message}`);
}

/** The phases worth naming in the banner: where the user's wait went. */
const BANNER_PHASES: [phase: string, label: string][] = [
  ['launcher', 'npm/launcher'],
  ['load', 'load'],
  ['redis', 'redis'],
  ['database', 'database'],
  ['migrations', 'migrations'],
  ['children', 'workers'],
];

function renderBanner(
  config: ServeConfig,
  supervisor: Supervisor,
  tookMs: number,
  phases: Record<string, number>,
): string {
  const info = supervisor.describe();
  const spent = BANNER_PHASES.filter(([phase]) => (phases[phase] ?? 0) >= 50)
    .map(([phase, label]) => `${label} ${seconds(phases[phase] as number)}`)
    .join(', ');
  const rows: [string, string][] = [
    ['url', bold(supervisor.url)],
    [
      'metrics',
      supervisor.metricsUrl
        ? `${supervisor.metricsUrl} (${config.metrics.token ? 'Bearer METRICS_TOKEN' : 'loopback clients only'})`
        : 'off',
    ],
    ['data dir', config.dataDir],
    ['redis', info.redis],
    ['database', info.database],
    ['workers', `${config.apiWorkers} api, ${config.queueWorkers} queue`],
    ['alerts', supervisor.describeAlerts()],
    [
      'logs',
      `${process.env[DETACHED_ENV] ? '' : 'this terminal and '}${dataPaths(config.dataDir).log} (${suggest('wuzctl logs -f', config.dataDir)})`,
    ],
    ['control', `${suggest('wuzctl status', config.dataDir)} | ${suggest('wuzctl stop', config.dataDir)}`],
  ];
  return [
    `${green('●')} wuzctl ${version} ready in ${seconds(tookMs)} ${dim(`(${spent})`)}`,
    ...rows.map(([k, v]) => `  ${dim(k.padEnd(9))} ${v}`),
  ].join('\n');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Re-runs `serve` without --detach as a background session leader and waits for its verdict. */
async function detach(config: ServeConfig): Promise<void> {
  const paths = dataPaths(config.dataDir);
  preparePrivateDirSync(config.dataDir);
  const logFd = openSync(paths.log, 'a', 0o600);
  const args = process.argv.slice(1).filter((arg) => arg !== '--detach');
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true,
    // The daemon writes its log file itself (DaemonLog, reopened on SIGUSR2); stderr is
    // kept for what only the runtime prints (a crash before the logger exists).
    stdio: ['ignore', 'ignore', logFd, 'ipc'],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  const verdict = await new Promise<DetachMessage | { type: 'exited'; code: number | null }>((resolve) => {
    child.once('message', (message) => resolve(message as DetachMessage));
    child.once('exit', (code) => resolve({ type: 'exited', code }));
  });
  if (verdict.type === 'ready') {
    child.disconnect();
    child.unref();
    process.stdout.write(`${verdict.banner}\n  ${dim('pid'.padEnd(9))} ${child.pid} (in the background)\n`);
    return;
  }
  if (verdict.type === 'failed') throw new CliError(verdict.message, verdict.exitCode, `log: ${paths.log}`);
  const tail = readFileSync(paths.log, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
  throw new CliError(
    `the daemon exited during startup (code ${verdict.code})\n${tail}`,
    exitCodes.failure,
    `log: ${paths.log}`,
  );
}

/** `text` broken at spaces into lines of at most `width` characters (help's own width). */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}
