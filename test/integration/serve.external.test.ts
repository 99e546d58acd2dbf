import { existsSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupDaemons,
  type Daemon,
  type DaemonStatus,
  getJson,
  pidGone,
  pidsOf,
  remember,
  startDaemon,
  statusJson,
  waitFor,
  wuzctl,
} from '../helpers/daemon.ts';
import {
  checkRedis,
  createTestDatabase,
  PG_HOST,
  PG_PORT,
  REDIS_URL,
  type TestDatabase,
} from '../helpers/external.ts';

describe('serve with external Redis and PostgreSQL', () => {
  let daemon: Daemon;
  let status: DaemonStatus;
  let database: TestDatabase | undefined;
  let dbName = '';

  beforeAll(async () => {
    await checkRedis();
    database = await createTestDatabase();
    dbName = database.name;
    daemon = await startDaemon({ env: { REDIS_URL, DATABASE_URL: database.url } });
    status = await statusJson(daemon.dataDir);
    remember(daemon, status);
  });

  afterAll(async () => {
    await cleanupDaemons();
    await database?.drop();
  });

  it('says so in the banner', () => {
    const out = daemon.stdout();
    expect(out).toMatch(/^● wuzctl \S+ ready in /m);
    expect(out).toMatch(/redis +external at 127\.0\.0\.1:6379\/14$/m);
    expect(out).toContain(`external PostgreSQL at ${PG_HOST}:${PG_PORT}/${dbName}`);
  });

  it('reports external services in status, healthy, with no managed redis-server', () => {
    expect(status.state).toBe('ready');
    expect(status.redis).toEqual({
      mode: 'external',
      address: '127.0.0.1:6379/14',
      pid: null,
      healthy: true,
      error: null,
    });
    expect(status.database).toEqual({
      mode: 'external',
      address: `${PG_HOST}:${PG_PORT}/${dbName}`,
      healthy: true,
      error: null,
      runs: 1,
    });
    expect(status.children.map((c) => `${c.role}#${c.index}:${c.state}`)).toEqual([
      'api#1:ready',
      'api#2:ready',
      'queue#1:ready',
    ]);
    // Nothing embedded was started in the data dir.
    expect(existsSync(path.join(daemon.dataDir, 'redis'))).toBe(false);
    expect(existsSync(path.join(daemon.dataDir, 'pg'))).toBe(false);
  });

  it('is ready: /readyz 200 with both checks ok', async () => {
    const { status: code, body } = await getJson(`${daemon.url}/readyz`);
    expect(code).toBe(200);
    expect(body).toMatchObject({ status: 'ready', checks: { redis: 'ok', database: 'ok', draining: false } });
    expect((await getJson(`${daemon.url}/healthz`)).body).toEqual({ status: 'ok' });
  });

  it('applied the migrations and recorded its start in the external database', async () => {
    const db = await (database as TestDatabase).connect();
    try {
      const migrations = await db.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(migrations.rows.map((r) => r.version)).toContain('0001_daemon_runs');
      const runs = await db.query('SELECT pid FROM daemon_runs');
      expect(runs.rows).toEqual([{ pid: status.pid }]);
    } finally {
      await db.end();
    }
  });

  it('stops with `wuzctl stop`: exit 0, every process gone', async () => {
    const pids = pidsOf(status);
    const stopped = await wuzctl(['stop', '--data-dir', daemon.dataDir, '--json']);
    expect(stopped.exitCode, `stderr:\n${stopped.stderr}`).toBe(0);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ stopped: true, pid: status.pid });
    expect(await daemon.stop()).toBe(0);
    for (const pid of pids) await waitFor(() => pidGone(pid), 10_000, `pid ${pid} to be gone`);
    expect(existsSync(path.join(daemon.dataDir, 'wuzctl.sock'))).toBe(false);

    // The external Redis is still there and untouched by the stop.
    const redis = new Redis(REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });
});
