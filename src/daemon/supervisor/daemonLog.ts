import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type DestinationStream, type Logger, pino } from 'pino';
import { loggerOptions, prettyOptions } from '../logger.ts';

const require = createRequire(import.meta.url);

/** Where the terminal copy of the log goes: pretty lines, JSON lines, or nowhere (detached). */
export type TerminalLog = 'pretty' | 'json' | 'none';

/** A child process whose stdout and stderr belong in the daemon's log. */
export interface ChildOutput {
  role: string;
  pid: number | undefined;
  stdout: Readable | null;
  stderr: Readable | null;
}

/** Lines kept while the data dir is not yet known to be ours (before the pid lock). */
const EARLY_LINES = 2000;
/** Levels given to a child's lines that are not JSON (a Node warning, a crash's stack trace). */
const RAW_LEVEL = { stdout: 30, stderr: 40 } as const;

/**
 * The daemon's one log. The supervisor's own lines and every child's stdout and stderr
 * (children always log JSON: their stdout is a pipe) go to `<data-dir>/wuzctl.log` as JSON
 * lines — what `wuzctl logs` reads, whether the daemon runs in the foreground or detached —
 * and to the terminal, pretty when it is one. One writer for the file is what makes
 * rotation work: on SIGUSR2 the supervisor reopens it (`reopen()`) and no child holds the
 * old file open, as they would if each had inherited it as its stdout (pm2 pipes its
 * children the same way, for the same reason).
 */
export class DaemonLog {
  private file?: DestinationStream & { reopen(): void; flushSync(): void; end(): void };
  private early: string[] | undefined = [];
  private readonly terminal?: DestinationStream;
  private readonly readers = new Set<Promise<void>>();

  constructor(terminal: TerminalLog) {
    if (terminal === 'pretty') {
      const pretty = require('pino-pretty') as typeof import('pino-pretty');
      this.terminal = pretty({ sync: true, ...prettyOptions(!process.env.NO_COLOR, 'HH:MM:ss.l') });
    } else if (terminal === 'json') {
      this.terminal = pino.destination({ dest: 1, sync: true });
    }
  }

  /** A pino logger of this process that writes here. */
  logger(role: string, level: string): Logger {
    return pino(loggerOptions(role, level), { write: (line: string) => this.write(line) });
  }

  /** One JSON line, newline included. */
  write(line: string): void {
    this.terminal?.write(line);
    if (this.file) this.file.write(line);
    else if (this.early && this.early.length < EARLY_LINES) this.early.push(line);
  }

  /**
   * Starts writing the file, with the lines logged so far. Called once the data dir is
   * private and locked by this daemon: a `serve` refused at start-up writes nothing there.
   * Synchronous writes: a log line is small, and none is lost when the process dies.
   */
  openFile(path: string): void {
    if (this.file) return;
    this.file = pino.destination({ dest: path, append: true, sync: true, mkdir: false, mode: 0o600 });
    for (const line of this.early ?? []) this.file.write(line);
    this.early = undefined;
  }

  /** Reopens the file by its path (after logrotate moved it); false when there is none yet. */
  reopen(): boolean {
    if (!this.file) return false;
    this.file.reopen();
    return true;
  }

  /** Copies a child's output into the log, line by line, until its pipes close. */
  follow(child: ChildOutput): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const input = child[stream];
      if (!input) continue;
      const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      lines.on('line', (line) => {
        if (line.startsWith('{')) this.write(`${line}\n`);
        else if (line.trim() !== '') this.write(`${rawLine(RAW_LEVEL[stream], child, line)}\n`);
      });
      const closed = new Promise<void>((resolve) => lines.once('close', resolve));
      this.readers.add(closed);
      void closed.then(() => this.readers.delete(closed));
    }
  }

  /** Waits (a little) for the children's last lines, then flushes and closes the file. */
  async close(timeoutMs = 1000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.readers),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.file?.flushSync();
    this.file?.end();
    this.file = undefined;
  }
}

/** A line a child printed without its logger, as a log record of that child. */
function rawLine(level: number, child: ChildOutput, line: string): string {
  return JSON.stringify({ level, time: Date.now(), role: child.role, pid: child.pid, msg: line });
}
