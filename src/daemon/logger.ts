import { createRequire } from 'node:module';
import { type Logger, type LoggerOptions, pino } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { tracingRuntime } from './tracing/runtime.ts';

export type { Logger };

const require = createRequire(import.meta.url);

/**
 * What every process's logger shares: its role and pid on each line, secrets redacted,
 * and, when tracing is on, the `trace_id` and `span_id` of the span the line was written
 * in (so a log line leads to its trace, and a trace to its lines).
 */
export function loggerOptions(role: string, level: string): LoggerOptions {
  const tracing = tracingRuntime();
  return {
    level,
    ...(tracing ? { mixin: () => tracing.activeIds() ?? {} } : {}),
    base: { role, pid: process.pid },
    redact: { paths: ['*.password', '*.token', '*.authorization', 'redisUrl', 'databaseUrl'], censor: '***' },
  };
}

/**
 * How every pretty copy of the log reads (the daemon's terminal, `wuzctl logs`):
 * `12:00:01.234 INFO [api 4242] listening`, the rest of the record below it.
 */
export function prettyOptions(colorize: boolean, translateTime: string): PrettyOptions {
  return {
    colorize,
    translateTime,
    ignore: 'hostname,role,pid,span_id',
    messageFormat: '[{role} {pid}] {msg}',
  };
}

/**
 * Pretty, human lines on a terminal; one JSON object per line otherwise (files, pipes,
 * journald) so logs stay machine-readable. Secrets are redacted by path. pino-pretty is
 * loaded only for a terminal: it costs every worker process ~20 MB otherwise.
 */
export function createLogger(role: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  const options = loggerOptions(role, level);
  if (process.stdout.isTTY) {
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(options, pretty({ sync: true, ...prettyOptions(!process.env.NO_COLOR, 'HH:MM:ss.l') }));
  }
  return pino(options);
}
