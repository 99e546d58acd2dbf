import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';

export type { Logger };

const require = createRequire(import.meta.url);

/**
 * Pretty, human lines on a terminal; one JSON object per line otherwise (files, pipes,
 * journald) so logs stay machine-readable. Secrets are redacted by path. pino-pretty is
 * loaded only for a terminal: it costs every worker process ~20 MB otherwise.
 */
export function createLogger(role: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  const options = {
    level,
    base: { role, pid: process.pid },
    redact: { paths: ['*.password', '*.token', '*.authorization', 'redisUrl', 'databaseUrl'], censor: '***' },
  };
  if (process.stdout.isTTY) {
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(
      options,
      pretty({
        sync: true,
        colorize: !process.env.NO_COLOR,
        ignore: 'hostname',
        translateTime: 'HH:MM:ss.l',
      }),
    );
  }
  return pino(options);
}
