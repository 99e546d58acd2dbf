import { existsSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
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

// The machine's own services (CI starts them). DB index 14 of Redis is ours; we never FLUSH.
const REDIS_URL = process.env.WUZ_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/14';
const PG_HOST = process.env.WUZ_TEST_PG_HOST ?? '127.0.0.1';
const PG_PORT = Number(process.env.WUZ_TEST_PG_PORT ?? 5432);
const PG_USERS = process.env.WUZ_TEST_PG_USER ? [process.env.WUZ_TEST_PG_USER] : ['postgres', 'root'];
const dbName = `wuzctl_test_${Math.random().toString(36).slice(2, 10)}`;

let pgUser = '';
let databaseUrl = '';

async function checkRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${(error as Error).message}); the external-mode tests need it running`,
    );
  } finally {
    redis.disconnect();
  }
}

/** A client on the maintenance database `test`, with the first user trust auth accepts. */
async function adminClient(): Promise<pg.Client> {
  const failures: string[] = [];
  for (const user of pgUser ? [pgUser] : PG_USERS) {
    const client = new pg.Client({
      host: PG_HOST,
      port: PG_PORT,
      user,
      database: 'test',
      connectionTimeoutMillis: 3000,
    });
    try {
      await client.connect();
      pgUser = user;
      return client;
    } catch (error) {
      failures.push(`${user}: ${(error as Error).message}`);
      await client.end().catch(() => {});
    }
  }
  throw new Error(
    `PostgreSQL is not reachable at ${PG_HOST}:${PG_PORT}/test (${failures.join('; ')}); the external-mode tests need it running`,
  );
}

async function testDb(): Promise<pg.Client> {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: pgUser, database: dbName });
  await client.connect();
  return client;
}

describe('serve with external Redis and PostgreSQL', () => {
  let daemon: Daemon;
  let status: DaemonStatus;
  let created = false;

  beforeAll(async () => {
    await checkRedis();
    const admin = await adminClient();
    try {
      await admin.query(`CREATE DATABASE ${dbName}`);
      created = true;
    } finally {
      await admin.end();
    }
    databaseUrl = `postgres://${pgUser}@${PG_HOST}:${PG_PORT}/${dbName}`;
    daemon = await startDaemon({ env: { REDIS_URL, DATABASE_URL: databaseUrl } });
    status = await statusJson(daemon.dataDir);
    remember(daemon, status);
  });

  afterAll(async () => {
    await cleanupDaemons();
    if (created) {
      const admin = await adminClient();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
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
    const db = await testDb();
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
