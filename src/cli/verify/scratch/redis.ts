import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { findOnPath } from '../../../daemon/services/executables.ts';
import { freePort } from '../../../daemon/services/freePort.ts';
import { connectRedis } from '../../../daemon/services/redis.ts';
import { GateCannotRun } from '../gate.ts';

/**
 * A redis-server of the gate's own (password, loopback, nothing on disk): stopping it is
 * "Redis down" for the daemon under test and nobody else.
 */
export class ScratchRedis {
  readonly url: string;
  private readonly binary: string;
  private readonly port: number;
  private readonly password: string;
  private server?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(binary: string, port: number, password: string) {
    this.binary = binary;
    this.port = port;
    this.password = password;
    this.url = `redis://:${password}@127.0.0.1:${port}`;
  }

  static async create(): Promise<ScratchRedis> {
    const binary = await findOnPath('redis-server');
    if (!binary) {
      throw new GateCannotRun(
        'this needs a redis-server of its own',
        'install it: apt-get install redis-server',
      );
    }
    const server = new ScratchRedis(binary, await freePort('127.0.0.1'), randomBytes(12).toString('hex'));
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    // The configuration comes on stdin (`redis-server -`): the password never shows in `ps`.
    const server = spawn(this.binary, ['-'], { stdio: ['pipe', 'ignore', 'ignore'] });
    server.stdin?.end(
      [
        `port ${this.port}`,
        'bind 127.0.0.1',
        `requirepass ${this.password}`,
        'save ""',
        'appendonly no',
      ].join('\n'),
    );
    this.server = server;
    this.exited = new Promise((resolve) => server.once('exit', () => resolve()));
    const client = await connectRedis(this.url, 20).catch((error: Error) => {
      throw new GateCannotRun(`the scratch redis-server did not start: ${error.message}`);
    });
    client.disconnect();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
