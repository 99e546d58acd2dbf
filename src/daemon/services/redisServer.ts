import { mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { Logger } from '../logger.ts';
import { findOnPath } from './executables.ts';
import { freePort } from './freePort.ts';
import { canListProcesses, isAlive, type ProcessInfo, processesWorkingIn, terminate } from './processes.ts';
import { waitForRedis } from './redis.ts';
import { RedisNotInstalledError } from './redisErrors.ts';

export { RedisNotInstalledError };

/** A redis-server on our data dir that would not stop: starting a second one would split the AOF. */
export class RedisDirBusyError extends Error {}

const LEFTOVER_GRACE_MS = 10_000;

/**
 * The embedded default: a redis-server child on a free loopback port, data (AOF) in the
 * data dir, `noeviction` because BullMQ loses job locks under any eviction policy, and a
 * password generated into the data dir, so no other local user can read or forge what it
 * holds (job data, the auth cache).
 *
 * Its settings are a config file in its dir (0600: it holds the password, which must not
 * appear in `ps`), and its process title names that file, so `pgrep -f <data-dir>` finds
 * it. It runs in its own process group so a Ctrl-C in the terminal reaches only the
 * supervisor, which then stops Redis last, after the workers that use it. Two guards keep
 * it from outliving the supervisor unnoticed: on Linux it is started under
 * `setpriv --pdeathsig TERM`, so the kernel sends it SIGTERM (a clean AOF flush) when
 * the supervisor dies, even by SIGKILL; and every start first stops any redis-server
 * still working in the dir, found by what it is (its working directory and binary), and
 * refuses to start a second one if that one will not stop.
 */
export class ManagedRedis {
  private child?: ResultPromise;
  private stopping = false;
  private running = false;
  port = 0;
  version = '';

  private readonly dir: string;
  private readonly password: string;
  private readonly log: Logger;
  private readonly onUnexpectedExit: (reason: string) => void;

  constructor(dir: string, password: string, log: Logger, onUnexpectedExit: (reason: string) => void) {
    this.dir = dir;
    this.password = password;
    this.log = log;
    this.onUnexpectedExit = onUnexpectedExit;
  }

  get url(): string {
    return `redis://:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get configFile(): string {
    return path.join(this.dir, 'redis.conf');
  }

  async start(): Promise<void> {
    const binary = await findOnPath('redis-server');
    if (!binary) throw new RedisNotInstalledError();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.stopLeftovers(binary);
    const { stdout } = await execa(binary, ['--version']);
    this.version = /v=([\d.]+)/.exec(stdout)?.[1] ?? 'unknown';
    // A restart keeps the port: every worker's client reconnects to the URL it was given.
    this.port ||= await freePort();
    await writeFile(this.configFile, this.config(), { mode: 0o600 });
    const setpriv = canListProcesses ? await findOnPath('setpriv') : null;
    const [command, args] = setpriv
      ? [setpriv, ['--pdeathsig', 'TERM', '--', binary, this.configFile]]
      : [binary, [this.configFile]];
    const child = execa(command, args, { detached: true, stdio: 'ignore', reject: false, cleanup: true });
    this.child = child;
    this.running = true;
    void child.then((result) => {
      this.running = false;
      if (!this.stopping)
        this.onUnexpectedExit(`redis-server exited (${result.signal ?? `code ${result.exitCode}`})`);
    });
    await waitForRedis(this.url).catch(async (error) => {
      child.kill('SIGKILL');
      const tail = await readFile(path.join(this.dir, 'redis.log'), 'utf8').catch(() => '');
      throw new Error(`${(error as Error).message}\n${tail.split('\n').slice(-5).join('\n')}`);
    });
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

  private config(): string {
    const quote = (value: string) => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    return [
      '# Written by wuzctl at every start: edits are overwritten.',
      'bind 127.0.0.1',
      `port ${this.port}`,
      'protected-mode yes',
      `requirepass ${quote(this.password)}`,
      `dir ${quote(this.dir)}`,
      'appendonly yes',
      'appendfsync everysec',
      // Every API request's rate-limit count is a write to the AOF, and a start replays
      // the AOF: at Redis's default (first rewrite at 64 MB, ~1.8 million counts) a
      // restart after a busy day took seconds in the Redis phase (2.3 s against 0.1 s
      // for 37 MB here). Rewritten from 4 MB, or once it doubles the last rewrite's size.
      'auto-aof-rewrite-min-size 4mb',
      'save ""',
      'maxmemory-policy noeviction',
      'daemonize no',
      `pidfile ${quote(path.join(this.dir, 'redis.pid'))}`,
      `logfile ${quote(path.join(this.dir, 'redis.log'))}`,
      // The title carries the config file's path, so the process names its data dir.
      'proc-title-template "{title} {listen-addr} {server-mode} {config-file}"',
      '',
    ].join('\n');
  }

  /**
   * A supervisor that died (SIGKILL, OOM, crash) could not stop its redis-server. We hold
   * the data dir's pid lock, so any redis-server still working in our dir is such a
   * leftover: stop it (cleanly, so its AOF is complete) before starting ours.
   */
  private async stopLeftovers(binary: string): Promise<void> {
    for (const leftover of await this.findLeftovers(binary)) {
      this.log.warn({ pid: leftover }, 'stopping a redis-server left over from a previous run');
      if (!(await terminate(leftover, LEFTOVER_GRACE_MS))) {
        throw new RedisDirBusyError(
          `a redis-server (pid ${leftover}) still runs on ${this.dir} and did not stop; ` +
            'stop it before starting wuzctl, so that two servers never share one AOF',
        );
      }
    }
    await rm(path.join(this.dir, 'redis.pid'), { force: true });
  }

  private async findLeftovers(binary: string): Promise<number[]> {
    if (canListProcesses) {
      const ours = await realpath(binary).catch(() => binary);
      const isRedis = (info: ProcessInfo) =>
        info.exe === ours ||
        /^redis-(server|check-rdb)$/.test(path.basename(info.argv[0]?.split(' ')[0] ?? ''));
      return (await processesWorkingIn(this.dir)).filter(isRedis).map((info) => info.pid);
    }
    // Elsewhere, the pid file: its process is ours if its title names our config file.
    const pid = Number.parseInt(await readFile(path.join(this.dir, 'redis.pid'), 'utf8').catch(() => ''), 10);
    if (!pid || !isAlive(pid)) return [];
    const { stdout } = await execa('ps', ['-o', 'args=', '-p', String(pid)], { reject: false });
    return stdout.includes(this.configFile) ? [pid] : [];
  }
}
