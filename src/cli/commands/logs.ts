import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { dataPaths, resolveDataDir } from '../../daemon/config/dataPaths.ts';
import { prettyOptions } from '../../daemon/logger.ts';
import { parseDuration } from '../duration.ts';
import {
  LOG_LEVELS,
  LOG_ROLES,
  type LogFilter,
  type LogLevelName,
  LogReader,
  type LogRecord,
  matches,
  parseLogLine,
} from '../logFile.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { CliError, exitCodes, suggest } from '../output.ts';

interface LogsOptions {
  dataDir?: string;
  follow?: boolean;
  role?: string;
  since?: string;
  level?: string;
  lines?: string;
  json?: boolean;
}

const DEFAULT_LINES = 100;
const POLL_MS = 250;

export function logsCommand(): Command {
  return new Command('logs')
    .description(
      "show the daemon's log (<data-dir>/wuzctl.log): every process, filtered, optionally following",
    )
    .addOption(dataDirOption())
    .option('-f, --follow', 'keep printing new lines as they are written (also across log rotation)')
    .option('--role <role>', `only this process role: ${LOG_ROLES.join(', ')}`)
    .option('--level <level>', `only this level and above: ${Object.keys(LOG_LEVELS).join(', ')}`)
    .option(
      '--since <when>',
      'only lines since a duration ago (10m, 2h, 1d) or a date/time (2026-12-03T09:00)',
    )
    .option(
      '-n, --lines <n>',
      `print the last n matching lines (default ${DEFAULT_LINES}; all of them with --since; 0 with -f: only new ones)`,
    )
    .addOption(jsonOption('print the matching lines as they are stored: one JSON object per line'))
    .addHelpText(
      'after',
      '\nThe file is pino JSON lines; on SIGUSR2 the daemon reopens it, so logrotate can move it.\nSee docs/CONFIGURATION.md (Logs).',
    )
    .action(async (options: LogsOptions) => {
      const dataDir = resolveDataDir(options.dataDir);
      const file = dataPaths(dataDir).log;
      const filter = parseFilter(options);
      const limit = parseLimit(options);
      if (!existsSync(file)) {
        throw new CliError(
          `no log at ${file}: no daemon has run with this data dir`,
          exitCodes.failure,
          `start one with \`${suggest('wuzctl serve', options.dataDir)}\``,
        );
      }
      const print = await printer(Boolean(options.json));
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0); // `wuzctl logs -f | head`
        throw error;
      });

      const reader = new LogReader(file);
      let lastTime: number | undefined;
      const parse = (line: string) => {
        const entry = parseLogLine(line, lastTime);
        lastTime = entry.time;
        return entry;
      };
      // The backlog: the last `limit` matching lines.
      const backlog: LogRecord[] = [];
      await reader.readNew((line) => {
        const entry = parse(line);
        if (!matches(entry, filter)) return;
        backlog.push(entry);
        if (limit !== undefined && backlog.length > limit) backlog.shift();
      });
      for (const entry of backlog) print(entry);
      if (!options.follow) return reader.close();

      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(0));
      for (;;) {
        await sleep(POLL_MS);
        await reader.readNew((line) => {
          const entry = parse(line);
          if (matches(entry, filter)) print(entry);
        });
      }
    });
}

function parseFilter(options: LogsOptions): LogFilter {
  const filter: LogFilter = {};
  if (options.role !== undefined) {
    if (!(LOG_ROLES as readonly string[]).includes(options.role)) {
      throw new CliError(
        `--role must be one of ${LOG_ROLES.join(', ')}, not ${JSON.stringify(options.role)}`,
        exitCodes.usage,
      );
    }
    filter.role = options.role;
  }
  if (options.level !== undefined) {
    const level = LOG_LEVELS[options.level.toLowerCase() as LogLevelName];
    if (level === undefined) {
      throw new CliError(
        `--level must be one of ${Object.keys(LOG_LEVELS).join(', ')}, not ${JSON.stringify(options.level)}`,
        exitCodes.usage,
      );
    }
    filter.minLevel = level;
  }
  if (options.since !== undefined) {
    const ago = parseDuration(options.since);
    const at = ago === null ? Date.parse(options.since) : Date.now() - ago;
    if (Number.isNaN(at)) {
      throw new CliError(
        `--since wants a duration (10m, 2h, 1d) or a date/time (2026-12-03T09:00), not ${JSON.stringify(options.since)}`,
        exitCodes.usage,
      );
    }
    filter.since = at;
  }
  return filter;
}

/** How many backlog lines to print; undefined for all of them. */
function parseLimit(options: LogsOptions): number | undefined {
  if (options.lines === undefined) return options.since === undefined ? DEFAULT_LINES : undefined;
  if (options.lines === 'all') return undefined;
  const n = Number(options.lines);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CliError(
      `--lines must be a whole number ≥ 0 or "all", not ${JSON.stringify(options.lines)}`,
      exitCodes.usage,
    );
  }
  return n;
}

/** Stored JSON with --json; otherwise pino-pretty's lines, coloured on a terminal. */
async function printer(json: boolean): Promise<(entry: LogRecord) => void> {
  if (json) return (entry) => process.stdout.write(`${entry.line}\n`);
  // Loaded here: every other command (serve included) would pay for it at start-up.
  const { prettyFactory } = await import('pino-pretty');
  const pretty = prettyFactory(
    prettyOptions(Boolean(process.stdout.isTTY) && !process.env.NO_COLOR, 'SYS:yyyy-mm-dd HH:MM:ss.l'),
  );
  return (entry) => process.stdout.write(pretty(entry.record));
}
