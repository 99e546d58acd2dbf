import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findOnPath, isExecutable } from '../../../daemon/services/executables.ts';
import { freePort } from '../../../daemon/services/freePort.ts';
import { GateCannotRun } from '../gate.ts';

const run = promisify(execFile);

/** initdb and postgres: on PATH, else where Debian installs them (not on PATH there). */
async function findPostgresBin(): Promise<string> {
  const initdb = await findOnPath('initdb');
  if (initdb) {
    const dir = path.dirname(await realpath(initdb));
    if (await isExecutable(path.join(dir, 'postgres'))) return dir;
  }
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if ((await isExecutable(path.join(dir, 'initdb'))) && (await isExecutable(path.join(dir, 'postgres'))))
      return dir;
  }
  throw new GateCannotRun(
    'the alerts gate runs a PostgreSQL of its own and needs initdb and postgres',
    'install them: apt-get install postgresql (Debian), or put initdb on PATH',
  );
}

/** PostgreSQL refuses to run as root: then it runs as the `postgres` user the package creates. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const entry = passwd.split('\n').find((line) => line.startsWith('postgres:'));
  const [, , uid, gid] = entry?.split(':') ?? [];
  if (!uid || !gid) {
    throw new GateCannotRun(
      'running as root, and there is no postgres user to run a scratch PostgreSQL as',
      'install the postgresql package (it creates the user), or run as another user',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A PostgreSQL server of the gate's own, in a temporary directory: the gate may stop it
 * (to cause "database down") without touching anyone's data. Password auth over TCP on a
 * free loopback port.
 */
export class ScratchPostgres {
  readonly url: string;
  private readonly bin: string;
  private readonly dataDir: string;
  private readonly port: number;
  private readonly user?: { uid: number; gid: number };
  private server?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    bin: string,
    dir: string,
    port: number,
    password: string,
    user?: { uid: number; gid: number },
  ) {
    this.bin = bin;
    this.dataDir = path.join(dir, 'data');
    this.port = port;
    this.user = user;
    this.url = `postgresql://wuz:${password}@127.0.0.1:${port}/wuz`;
  }

  /** initdb in `dir` (a directory of its own directly under /tmp: the postgres user must reach it), start, create the database. */
  static async create(dir: string): Promise<ScratchPostgres> {
    const [bin, user, port] = await Promise.all([findPostgresBin(), runAs(), freePort('127.0.0.1')]);
    const password = randomBytes(12).toString('hex');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const pwfile = path.join(dir, 'pwfile');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (user) {
      await chown(dir, user.uid, user.gid);
      await chown(pwfile, user.uid, user.gid);
    }
    const server = new ScratchPostgres(bin, dir, port, password, user);
    await run(
      path.join(bin, 'initdb'),
      [
        '-D',
        server.dataDir,
        '-U',
        'wuz',
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '-E',
        'UTF8',
        '--no-sync',
      ],
      { ...user, cwd: dir, env: { ...process.env, LC_ALL: 'C' } },
    ).catch((error: Error & { stderr?: string }) => {
      throw new GateCannotRun(`initdb failed: ${(error.stderr ?? error.message).trim().split('\n').at(-1)}`);
    });
    await server.start();
    const client = new pg.Client({ connectionString: server.url.replace(/\/wuz$/, '/postgres') });
    await client.connect();
    await client.query('CREATE DATABASE wuz');
    await client.end();
    return server;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    const server = spawn(
      path.join(this.bin, 'postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-k',
        path.dirname(this.dataDir),
        '-c',
        'fsync=off',
      ],
      { ...this.user, cwd: path.dirname(this.dataDir), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    server.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    this.server = server;
    this.exited = new Promise((resolve) => server.once('exit', () => resolve()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new pg.Client({
        connectionString: this.url.replace(/\/wuz$/, '/postgres'),
        connectionTimeoutMillis: 1000,
      });
      const ok = await client.connect().then(
        () => client.end().then(() => true),
        () => false,
      );
      if (ok) return;
      if (server.exitCode !== null || Date.now() > deadline) {
        throw new GateCannotRun(
          `the scratch PostgreSQL did not start: ${stderr.trim().split('\n').at(-1) ?? ''}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Fast shutdown: clients are disconnected at once, as when a database server goes away. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.kill('SIGINT');
    const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
