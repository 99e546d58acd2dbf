import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/daemon/auth/tokens.ts';
import { freePort } from '../../src/daemon/services/freePort.ts';
import { processesWorkingIn } from '../../src/daemon/services/processes.ts';
import {
  cleanupDaemons,
  embeddedEnv,
  embeddedPassword,
  pidGone,
  seedDemo,
  startDaemon,
  statusJson,
  tempDataDir,
  waitFor,
} from '../helpers/daemon.ts';

/**
 * Local trust: what the daemon leaves on the machine (processes, files) and what another
 * local process can do with its embedded services — over real daemons, real
 * redis-servers and a real PGlite.
 */
afterAll(cleanupDaemons);

const secret = (dataDir: string, name: 'redis.password' | 'database.password') =>
  embeddedPassword(dataDir, name === 'redis.password' ? 'redis' : 'database');

/** pids whose command line names the data dir: what `pgrep -f <data-dir>` finds. */
async function pgrep(dataDir: string): Promise<Array<{ pid: number; command: string }>> {
  const { stdout } = await execa('pgrep', ['-af', dataDir], { reject: false });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ pid: Number(line.split(' ')[0]), command: line.slice(line.indexOf(' ') + 1) }))
    .filter(({ pid }) => pid !== process.pid);
}

const redisServersOn = async (dataDir: string) =>
  (await processesWorkingIn(path.join(dataDir, 'redis'))).filter((p) => /redis/.test(p.argv[0] ?? ''));

async function embeddedRedis(dataDir: string): Promise<Redis> {
  const { redis } = await statusJson(dataDir);
  const port = Number(redis.address.split(':')[1]);
  const client = new Redis({ port, host: '127.0.0.1', password: await secret(dataDir, 'redis.password') });
  await client.ping();
  return client;
}

describe('the managed redis-server never outlives its supervisor unnoticed', () => {
  it('every process of a daemon names its data dir (pgrep -f finds the supervisor’s children and Redis)', async () => {
    const daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 1, queueWorkers: 1 });
    const status = await statusJson(daemon.dataDir);
    const found = await pgrep(daemon.dataDir);
    const foundPids = found.map(({ pid }) => pid);
    expect(foundPids).toContain(status.redis.pid);
    for (const child of status.children) expect(foundPids).toContain(child.pid);
    expect(found.find(({ pid }) => pid === status.redis.pid)?.command).toContain(
      path.join(daemon.dataDir, 'redis', 'redis.conf'),
    );
    expect(await daemon.stop()).toBe(0);
  });

  it('kill -9 of the supervisor: its processes go, the next serve runs exactly one redis-server, nothing is lost', async () => {
    const dataDir = await tempDataDir();
    let daemon = await startDaemon({ dataDir, env: embeddedEnv, apiWorkers: 1, queueWorkers: 1 });
    for (let round = 1; round <= 2; round++) {
      const redis = await embeddedRedis(dataDir);
      // Acknowledged writes, one per run: each must survive the kill that follows.
      await redis.set(`hardening:round${round}`, 'acknowledged');
      redis.disconnect();
      // everysec AOF: a write is on disk within a second; the kill must not race it.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      daemon.process.kill('SIGKILL');
      await daemon.process;
      // The children follow their IPC channel, Redis its parent-death signal.
      await waitFor(
        async () => (await pgrep(dataDir)).length === 0,
        15_000,
        'no process left on the data dir',
      );
      daemon = await startDaemon({ dataDir, env: embeddedEnv, apiWorkers: 1, queueWorkers: 1 });
      expect(await redisServersOn(dataDir)).toHaveLength(1);
      const after = await embeddedRedis(dataDir);
      for (let seen = 1; seen <= round; seen++)
        expect(await after.get(`hardening:round${seen}`)).toBe('acknowledged');
      after.disconnect();
    }
    expect(await daemon.stop()).toBe(0);
    expect(await redisServersOn(dataDir)).toHaveLength(0);
  });

  it('a redis-server left on the data dir by an earlier run is found by what it is, stopped cleanly, its data kept', async () => {
    const dataDir = await tempDataDir();
    const redisDir = path.join(dataDir, 'redis');
    await mkdir(redisDir, { recursive: true });
    // As an earlier version started it: absolute binary path, flags, no config file, and
    // (unlike ours) no parent-death signal, so it survives whoever started it.
    const port = await freePort();
    const binary = (await execa('sh', ['-c', 'command -v redis-server'])).stdout.trim();
    const leftover = execa(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes', '--save', ''],
      { detached: true, stdio: 'ignore', reject: false },
    );
    const old = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    old.on('error', () => {});
    await waitFor(
      () =>
        old.connect().then(
          () => true,
          () => false,
        ),
      10_000,
      'the leftover redis-server',
    );
    await old.set('written:before', 'kept');
    old.disconnect();
    expect(await redisServersOn(dataDir)).toHaveLength(1);

    const daemon = await startDaemon({ dataDir, env: embeddedEnv, apiWorkers: 1, queueWorkers: 0 });
    await leftover;
    expect(pidGone(leftover.pid as number)).toBe(true);
    const servers = await redisServersOn(dataDir);
    expect(servers).toHaveLength(1);
    expect(servers[0]?.pid).toBe((await statusJson(dataDir)).redis.pid);
    const redis = await embeddedRedis(dataDir);
    expect(await redis.get('written:before')).toBe('kept');
    redis.disconnect();
    expect(daemon.stdout() + daemon.stderr()).toMatch(/left over from a previous run/);
    expect(await daemon.stop()).toBe(0);
  });
});

describe('the embedded services and files are the daemon user’s only', () => {
  it('Redis and PostgreSQL refuse a local client without the data dir’s password', async () => {
    const daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 1, queueWorkers: 0 });
    const status = await statusJson(daemon.dataDir);
    const redisPort = Number(status.redis.address.split(':')[1]);
    const anonymous = new Redis({ port: redisPort, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    anonymous.on('error', () => {});
    await expect(anonymous.set('wuz:auth:000000000000', 'x')).rejects.toThrow(/NOAUTH/);
    anonymous.disconnect();

    const databasePort = Number(status.database.address.split(':')[1]?.split('/')[0]);
    for (const password of [undefined, 'guess']) {
      const client = new pg.Client({ host: '127.0.0.1', port: databasePort, user: 'postgres', password });
      client.on('error', () => {});
      await expect(client.connect()).rejects.toThrow();
      await client.end().catch(() => {});
    }
    const owner = new pg.Client({
      host: '127.0.0.1',
      port: databasePort,
      user: 'postgres',
      password: await secret(daemon.dataDir, 'database.password'),
    });
    await owner.connect();
    expect((await owner.query('SELECT count(*)::int AS n FROM tenants')).rows[0].n).toBe(0);
    await owner.end();
    // The passwords are nowhere in what `ps` shows.
    const { stdout } = await execa('ps', ['-eo', 'args'], { reject: false });
    expect(stdout).not.toContain(await secret(daemon.dataDir, 'redis.password'));
    expect(stdout).not.toContain(await secret(daemon.dataDir, 'database.password'));
    expect(await daemon.stop()).toBe(0);
  });

  it('a forged auth cache entry written straight into Redis grants nothing', async () => {
    const daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 1, queueWorkers: 0 });
    const [tenant] = await seedDemo(daemon.dataDir, 1);
    const adminToken = tenant?.admin_token ?? '';
    const call = (token: string) =>
      fetch(`${daemon.url}/api/admin/stripe/settings`, { headers: { authorization: `Bearer ${token}` } });
    // A real admin token, once, so a genuine entry exists to copy the shape of.
    expect((await call(adminToken)).status).toBe(200);
    const redis = await embeddedRedis(daemon.dataDir);
    const genuineKey = `wuz:auth:${adminToken.slice(4, 16)}`;
    const genuine = (await redis.get(genuineKey)) as string;
    expect(genuine).toBeTruthy();
    const fields = JSON.parse(genuine.slice(genuine.indexOf('{')));
    // A never-issued token: its own prefix, a secret of the attacker's choosing.
    const forgedSecret = 'A'.repeat(43);
    const forgedPrefix = 'abcdef012345';
    const forged = { ...fields, role: 'admin', secret_hash: hashSecret(forgedSecret).toString('base64') };
    for (const value of [
      JSON.stringify(forged),
      `${genuine.slice(0, genuine.indexOf('.'))}.${JSON.stringify(forged)}`,
    ]) {
      await redis.set(`wuz:auth:${forgedPrefix}`, value, 'EX', 60);
      expect((await call(`wuz_${forgedPrefix}_${forgedSecret}`)).status).toBe(401);
    }
    // Nor can a genuine entry be moved under another prefix.
    await redis.set(`wuz:auth:${forgedPrefix}`, genuine, 'EX', 60);
    expect((await call(`wuz_${forgedPrefix}_${adminToken.slice(17)}`)).status).toBe(401);
    // The genuine entry still serves its token.
    expect((await call(adminToken)).status).toBe(200);
    redis.disconnect();
    expect(await daemon.stop()).toBe(0);
  });

  it('the data dir is 0700 and every file in it 0600, also one an earlier version left open', async () => {
    const dataDir = await tempDataDir();
    // What an earlier version left: a 0755 dir, 0644 files, a world-writable one.
    await writeFile(path.join(dataDir, 'wuzctl.log'), 'old log\n', { mode: 0o644 });
    await mkdir(path.join(dataDir, 'pg'), { mode: 0o755 });
    await writeFile(path.join(dataDir, 'pg', 'stray'), 'x', { mode: 0o666 });
    await execa('chmod', ['0755', dataDir]);
    await execa('chmod', ['0666', path.join(dataDir, 'pg', 'stray')]);
    const daemon = await startDaemon({ dataDir, env: embeddedEnv, apiWorkers: 1, queueWorkers: 0 });
    await seedDemo(dataDir, 1);
    const open = async () =>
      (await execa('find', [dataDir, '-perm', '/077'], { reject: false })).stdout.split('\n').filter(Boolean);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect(await open()).toEqual([]);
    expect(await daemon.stop()).toBe(0);
    expect(await open()).toEqual([]);
  });
});
