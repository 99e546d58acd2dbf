import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, embeddedEnv, tempDataDir, wuzctl } from '../helpers/daemon.ts';

afterAll(cleanupDaemons);

describe('serve: configuration errors', () => {
  it('lists every problem at once and exits 2, without echoing connection URLs', async () => {
    const dataDir = await tempDataDir();
    const secretUrl = 'http://user:s3cret-password@x';
    const result = await wuzctl(['serve', '--port', 'abc', '--api-workers', '0', '--data-dir', dataDir], {
      env: { WUZ_SHUTDOWN_TIMEOUT: '-1', REDIS_URL: secretUrl, DATABASE_URL: undefined },
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: invalid configuration:$/m);
    const problems = result.stderr.split('\n').filter((line) => line.startsWith('  - '));
    expect(problems).toHaveLength(4);
    expect(problems).toContain('  - --port = "abc": must be a whole number');
    expect(problems).toContain('  - --api-workers = "0": must be at least 1');
    expect(problems.find((p) => p.startsWith('  - WUZ_SHUTDOWN_TIMEOUT = "-1": '))).toBeDefined();
    expect(problems.find((p) => p.startsWith('  - REDIS_URL = (hidden): '))).toBeDefined();
    expect(result.stderr).not.toContain('s3cret');
    expect(result.stderr).not.toContain(secretUrl);
    expect(result.stdout).not.toContain('s3cret');
    // Nothing was started.
    expect(result.stdout).not.toMatch(/ready in/);
  });

  it('names the environment variable when the bad value comes from the environment', async () => {
    const dataDir = await tempDataDir();
    const result = await wuzctl(['serve', '--port', '0', '--data-dir', dataDir], {
      env: { WUZ_API_WORKERS: '0', WUZ_QUEUE_WORKERS: 'many', LOG_LEVEL: 'loud', ...embeddedEnv },
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('  - WUZ_API_WORKERS = "0": must be at least 1');
    expect(result.stderr).toContain('  - WUZ_QUEUE_WORKERS = "many": must be a whole number');
    expect(result.stderr).toMatch(/^ {2}- LOG_LEVEL = "loud": /m);
  });

  it('rejects a DATABASE_URL that is not PostgreSQL, hiding its value', async () => {
    const dataDir = await tempDataDir();
    const result = await wuzctl(['serve', '--port', '0', '--data-dir', dataDir], {
      env: { REDIS_URL: undefined, DATABASE_URL: 'mysql://root:hunter2@db/app' },
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^ {2}- DATABASE_URL = \(hidden\): must be a PostgreSQL URL/m);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('exits 2 on an unknown flag', async () => {
    const dataDir = await tempDataDir();
    const result = await wuzctl(['serve', '--data-dir', dataDir, '--no-such-flag'], { env: embeddedEnv });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--no-such-flag'/);
  });

  it('exits 2 on an unknown command', async () => {
    const result = await wuzctl(['frobnicate']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('prints the version alone with -v, and help still lists every command', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-v']) {
      const result = await wuzctl([flag]);
      expect(result).toMatchObject({ exitCode: 0, stdout: version, stderr: '' });
    }
    const help = await wuzctl(['--help']);
    expect(help.exitCode).toBe(0);
    for (const command of ['serve', 'status', 'reload', 'top', 'bench', 'verify']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });
});

describe('serve: port already in use', () => {
  let blocker: net.Server;
  let port: number;

  afterAll(async () => {
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  });

  it('exits 1 and names the port', async () => {
    blocker = net.createServer();
    await new Promise<void>((resolve, reject) => {
      blocker.once('error', reject);
      blocker.listen(0, '127.0.0.1', () => resolve());
    });
    port = (blocker.address() as net.AddressInfo).port;
    // A data dir that does not exist yet: the refused start must not create it.
    const dataDir = path.join(await tempDataDir(), 'new');
    const result = await wuzctl(
      ['serve', '--port', String(port), '--data-dir', dataDir, '--api-workers', '1', '--queue-workers', '0'],
      { env: embeddedEnv },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(result.stderr).toMatch(/hint: pick another with --port <port> \(--port 0 takes a free one\)/);
    expect(existsSync(dataDir)).toBe(false);
    expect(result.stdout).not.toMatch(/ready in/);
    // The failed start left nothing behind: no pid file holder, nothing to talk to.
    const status = await wuzctl(['status', '--data-dir', dataDir]);
    expect(status.exitCode).toBe(3);
  });

  it('exits 1 and names the metrics port when --metrics-port is taken', async () => {
    const dataDir = await tempDataDir();
    const result = await wuzctl(
      [
        'serve',
        '--port',
        '0',
        '--metrics-port',
        String(port),
        '--data-dir',
        dataDir,
        '--api-workers',
        '1',
        '--queue-workers',
        '0',
      ],
      { env: embeddedEnv },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`metrics port ${port} on 127.0.0.1 is already in use`);
    expect(result.stdout).not.toMatch(/ready in/);
  });
});
