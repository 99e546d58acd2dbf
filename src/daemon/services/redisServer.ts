import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { Logger } from '../logger.ts';
import { findOnPath } from './executables.ts';
import { freePort } from './freePort.ts';
import { connectRedis } from './redis.ts';

export class RedisNotInstalledError extends Error {
  constructor() {
    super(
      'redis-server was not found on PATH and REDIS_URL is not set.\n' +
        '  Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)\n' +
        '  or point wuzctl at one: REDIS_URL=redis://host:6379 wuzctl serve',
    );
  }
}

/**
 * The embedded default: a redis-server child on a free loopback port, data (AOF) in the
 * data dir, `noeviction` because BullMQ loses job locks under any eviction policy.
 * It runs in its own process group so a Ctrl-C in the terminal reaches only the
 * supervisor, which then stops Redis last, after the workers that use it.
 */
export class ManagedRedis {
  private child?: ResultPromise;
  private stopping = false;
  private running = false;
  port = 0;
  version = '';

  private readonly dir: string;
  private readonly log: Logger;
  private readonly onUnexpectedExit: (reason: string) => void;

  constructor(dir: string, log: Logger, onUnexpectedExit: (reason: string) => void) {
    this.dir = dir;
    this.log = log;
    this.onUnexpectedExit = onUnexpectedExit;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const binary = await findOnPath('redis-server');
    if (!binary) throw new RedisNotInstalledError();
    await mkdir(this.dir, { recursive: true });
    await this.killLeftover();
    const { stdout } = await execa(binary, ['--version']);
    this.version = /v=([\d.]+)/.exec(stdout)?.[1] ?? 'unknown';
    // A restart keeps the port: every worker's client reconnects to the URL it was given.
    this.port ||= await freePort();
    // biome-ignore format: one flag per line reads best
    const args = [
      '--bind', '127.0.0.1', '--port', String(this.port),
      '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec',
      '--save', '',
      '--maxmemory-policy', 'noeviction',
      '--daemonize', 'no',
      '--pidfile', path.join(this.dir, 'redis.pid'),
      '--logfile', path.join(this.dir, 'redis.log'),
    ];
    const child = execa(binary, args, { detached: true, stdio: 'ignore', reject: false, cleanup: true });
    this.child = child;
    this.running = true;
    void child.then((result) => {
      this.running = false;
      if (!this.stopping)
        this.onUnexpectedExit(`redis-server exited (${result.signal ?? `code ${result.exitCode}`})`);
    });
    const client = await connectRedis(this.url, 20).catch(async (error) => {
      child.kill('SIGKILL');
      const tail = await readFile(path.join(this.dir, 'redis.log'), 'utf8').catch(() => '');
      throw new Error(`${(error as Error).message}\n${tail.split('\n').slice(-5).join('\n')}`);
    });
    client.disconnect();
    this.log.debug({ port: this.port, pid: child.pid }, 'managed redis-server ready');
  }

  /** SIGTERM makes redis-server flush the AOF and exit; SIGKILL only past the deadline. */
  async stop(timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    if (this.running) {
      const done = child.then(() => undefined);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await done;
      clearTimeout(timer);
    }
    await rm(path.join(this.dir, 'redis.pid'), { force: true });
  }

  /** A supervisor killed with SIGKILL cannot stop its redis-server: the next start does. */
  private async killLeftover(): Promise<void> {
    const pidFile = path.join(this.dir, 'redis.pid');
    const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
    if (!pid) return;
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      // redis-server rewrites its title to "redis-server host:port", so the name is all we can match.
      if (cmdline.startsWith('redis-server')) {
        process.kill(pid, 'SIGTERM');
        this.log.warn({ pid }, 'stopped a redis-server left over from a previous run');
        for (let i = 0; i < 50; i++) {
          await new Promise((r) => setTimeout(r, 100));
          process.kill(pid, 0);
        }
      }
    } catch {}
    await writeFile(pidFile, '').catch(() => {});
  }
}
