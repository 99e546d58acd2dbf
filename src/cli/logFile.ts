import { type FileHandle, open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/** pino's levels, by name: `--level warn` keeps 40 and above. */
export const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LogLevelName = keyof typeof LOG_LEVELS;
export const LOG_ROLES = ['api', 'queue', 'supervisor'] as const;

/** One line of the daemon's log, parsed enough to filter it. */
export interface LogRecord {
  line: string;
  record: Record<string, unknown>;
  level: number;
  time: number | undefined;
  role: string | undefined;
}

export interface LogFilter {
  role?: string;
  minLevel?: number;
  /** Epoch ms: lines before it are left out. */
  since?: number;
}

/**
 * A line as a record. A line that is not JSON is what the detached supervisor's runtime
 * printed on stderr (its log file is also its stderr): a warning or a crash, so it is
 * kept as a warning of the supervisor, at the time of the line before it.
 */
export function parseLogLine(line: string, previousTime?: number): LogRecord {
  if (line.startsWith('{')) {
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      return {
        line,
        record,
        level: typeof record.level === 'number' ? record.level : LOG_LEVELS.info,
        time: typeof record.time === 'number' ? record.time : previousTime,
        role: typeof record.role === 'string' ? record.role : undefined,
      };
    } catch {
      // fall through: a torn or foreign line
    }
  }
  const record = { level: LOG_LEVELS.warn, time: previousTime, role: 'supervisor', msg: line };
  return {
    line: JSON.stringify(record),
    record,
    level: LOG_LEVELS.warn,
    time: previousTime,
    role: 'supervisor',
  };
}

export function matches(entry: LogRecord, filter: LogFilter): boolean {
  if (filter.role && entry.role !== filter.role) return false;
  if (filter.minLevel !== undefined && entry.level < filter.minLevel) return false;
  if (filter.since !== undefined && (entry.time === undefined || entry.time < filter.since)) return false;
  return true;
}

const CHUNK = 64 * 1024;

/**
 * Reads a log file from where it last stopped, and keeps reading it across rotation:
 * when the path names a new file (logrotate moved the old one away, the daemon reopened
 * it on SIGUSR2) the rest of the old file is read, then the new one from its start; when
 * the file shrank (copytruncate), from its start again. Only whole lines are returned.
 */
export class LogReader {
  private handle?: FileHandle;
  private inode?: number;
  private position = 0;
  private partial = '';
  /** Keeps a character split across two reads whole. */
  private decoder = new StringDecoder('utf8');
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Calls `onLine` for every complete line written since the last call. */
  async readNew(onLine: (line: string) => void): Promise<void> {
    const current = await stat(this.path).catch(() => null);
    if (this.handle && current && current.ino !== this.inode) {
      await this.drain(onLine); // the end of the rotated file
      await this.handle.close();
      this.handle = undefined;
    }
    if (!this.handle) {
      if (!current) return;
      this.handle = await open(this.path, 'r');
      this.inode = (await this.handle.stat()).ino;
      this.restart();
    } else if (current && current.size < this.position) {
      this.restart(); // truncated in place
    }
    await this.drain(onLine);
  }

  private restart(): void {
    this.position = 0;
    this.partial = '';
    this.decoder = new StringDecoder('utf8');
  }

  private async drain(onLine: (line: string) => void): Promise<void> {
    const handle = this.handle as FileHandle;
    const buffer = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, this.position);
      if (bytesRead === 0) return;
      this.position += bytesRead;
      const lines = (this.partial + this.decoder.write(buffer.subarray(0, bytesRead))).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onLine(line.replace(/\r$/, ''));
    }
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}
