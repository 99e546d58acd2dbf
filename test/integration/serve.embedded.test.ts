import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHILD_SEMI_SPACE } from '../../src/daemon/supervisor/children.ts';
import {
  cleanupDaemons,
  type Daemon,
  type DaemonStatus,
  embeddedDatabaseUrl,
  embeddedEnv,
  getJson,
  pidGone,
  pidsOf,
  remember,
  startDaemon,
  statusJson,
  tempDataDir,
  trackDetached,
  waitFor,
  wuzctl,
} from '../helpers/daemon.ts';

const version = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
  .version as string;

/** Connects to the embedded PGlite through the address status reports. */
async function embeddedDb(status: DaemonStatus): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: await embeddedDatabaseUrl(status.dataDir, status.database.address),
  });
  await client.connect();
  return client;
}

describe('serve (embedded Redis and PGlite): a running daemon', () => {
  let daemon: Daemon;

  beforeAll(async () => {
    daemon = await startDaemon({ env: embeddedEnv });
  });
  afterAll(cleanupDaemons);

  it('prints the ready banner with the URL and embedded services', () => {
    const out = daemon.stdout();
    expect(out).toMatch(new RegExp(`^● wuzctl ${version.replace(/\./g, '\\.')} ready in `, 'm'));
    expect(out).toMatch(/^ {2}url {7}http:\/\/127\.0\.0\.1:\d+$/m);
    expect(out).toMatch(/redis +embedded redis-server/);
    expect(out).toMatch(/database +embedded PGlite at 127\.0\.0\.1:\d+\/postgres/);
    expect(out).toMatch(/workers +2 api, 1 queue/);
    expect(daemon.port).toBeGreaterThan(0);
  });

  it('answers GET /healthz with 200 {"status":"ok"}', async () => {
    const { status, body, contentType } = await getJson(`${daemon.url}/healthz`);
    expect(status).toBe(200);
    expect(contentType).toMatch(/application\/json/);
    expect(body).toEqual({ status: 'ok' });
  });

  it('answers GET /readyz with 200 and all checks ok', async () => {
    const { status, body } = await getJson(`${daemon.url}/readyz`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'ready',
      checks: { redis: 'ok', database: 'ok', draining: false },
    });
  });

  it('answers an unknown path with a 404 JSON error', async () => {
    const { status, body, contentType } = await getJson(`${daemon.url}/no/such/route`);
    expect(status).toBe(404);
    expect(contentType).toMatch(/application\/json/);
    expect(body).toMatchObject({ error: { code: 'not_found', message: expect.any(String) } });
  });

  it('reports its state in `status --json`', async () => {
    const status = await statusJson(daemon.dataDir);
    remember(daemon, status);
    expect(status).toMatchObject({
      pid: daemon.pid,
      version,
      state: 'ready',
      url: daemon.url,
      dataDir: daemon.dataDir,
      redis: { mode: 'embedded', healthy: true, error: null },
      database: { mode: 'embedded', healthy: true, error: null },
    });
    expect(Number.isNaN(Date.parse(status.startedAt))).toBe(false);
    expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(status.redis.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(status.redis.pid).toEqual(expect.any(Number));
    expect(pidGone(status.redis.pid as number)).toBe(false);
    expect(status.database.address).toMatch(/^127\.0\.0\.1:\d+\/postgres$/);
    expect(status.database.runs).toBe(1);

    expect(status.children.map((c) => [c.role, c.index])).toEqual([
      ['api', 1],
      ['api', 2],
      ['queue', 1],
    ]);
    for (const child of status.children) {
      expect(child, `${child.role}#${child.index}`).toMatchObject({
        state: 'ready',
        restarts: 0,
        crashLoop: false,
        lastExit: null,
      });
      expect(child.pid).toEqual(expect.any(Number));
      expect(pidGone(child.pid as number)).toBe(false);
      expect(child.rssBytes).toBeGreaterThan(0);
    }
    const pids = pidsOf(status);
    expect(new Set(pids).size).toBe(pids.length);
  });

  it("runs its children with a smaller young generation (V8's semi-space)", async () => {
    const status = await statusJson(daemon.dataDir);
    expect(status.children.length).toBeGreaterThan(0);
    for (const child of status.children) {
      const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
      expect(cmdline).toContain(CHILD_SEMI_SPACE);
    }
  });

  it('keeps its pid file and a 0600 control socket in the data dir', async () => {
    const pidFile = path.join(daemon.dataDir, 'wuzctl.pid');
    expect((await readFile(pidFile, 'utf8')).trim()).toBe(String(daemon.pid));
    const socket = statSync(path.join(daemon.dataDir, 'wuzctl.sock'));
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
  });

  it('the human `status` output names the daemon and its children', async () => {
    const result = await wuzctl(['status', '--data-dir', daemon.dataDir]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`pid ${daemon.pid}`);
    expect(result.stdout).toContain(daemon.url);
    expect(result.stdout).toMatch(/api#1/);
    expect(result.stdout).toMatch(/api#2/);
    expect(result.stdout).toMatch(/queue#1/);
  });

  it('restarts a killed API worker in the same slot', async () => {
    const before = await statusJson(daemon.dataDir);
    remember(daemon, before);
    const victim = before.children.find((c) => c.role === 'api' && c.index === 1);
    const other = before.children.find((c) => c.role === 'api' && c.index === 2);
    expect(victim?.pid).toEqual(expect.any(Number));
    process.kill(victim?.pid as number, 'SIGKILL');

    const after = await waitFor(
      async () => {
        const status = await statusJson(daemon.dataDir);
        const slot = status.children.find((c) => c.role === 'api' && c.index === 1);
        return slot && slot.state === 'ready' && slot.pid !== victim?.pid ? status : null;
      },
      20_000,
      'api#1 to be back with a new pid',
    );
    remember(daemon, after);
    const slot = after.children.find((c) => c.role === 'api' && c.index === 1);
    expect(slot).toMatchObject({ restarts: 1, lastExit: 'signal SIGKILL', crashLoop: false });
    expect(pidGone(victim?.pid as number)).toBe(true);
    // The other children were not touched.
    const otherAfter = after.children.find((c) => c.role === 'api' && c.index === 2);
    expect(otherAfter).toMatchObject({ pid: other?.pid, restarts: 0, state: 'ready' });
    expect(after.pid).toBe(before.pid);
    // The API still serves.
    for (let i = 0; i < 4; i++) expect((await getJson(`${daemon.url}/healthz`)).status).toBe(200);
  });

  // Last of this block: if it fails it can leave the daemon without its control socket.
  it('refuses a second serve on the same data dir (exit 1, already running)', async () => {
    const result = await wuzctl(
      ['serve', '--port', '0', '--data-dir', daemon.dataDir, '--api-workers', '1', '--queue-workers', '0'],
      { env: embeddedEnv },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`already running (pid ${daemon.pid})`);
    // The first daemon is unharmed: still serving, and still controllable through its
    // pid file and control socket (the losing serve must not delete them).
    expect((await readFile(path.join(daemon.dataDir, 'wuzctl.pid'), 'utf8')).trim()).toBe(String(daemon.pid));
    expect(existsSync(path.join(daemon.dataDir, 'wuzctl.sock')), 'control socket of the running daemon').toBe(
      true,
    );
    expect((await statusJson(daemon.dataDir)).state).toBe('ready');
    expect((await getJson(`${daemon.url}/healthz`)).status).toBe(200);
  });
});

describe('serve (embedded): stop and restart on the same data dir', () => {
  let dataDir: string;
  let first: Daemon;
  let firstStatus: DaemonStatus;

  beforeAll(async () => {
    dataDir = await tempDataDir();
  });
  afterAll(cleanupDaemons);

  it('stops gracefully on SIGTERM: exit 0, no child or redis-server left, files removed', async () => {
    first = await startDaemon({ dataDir, env: embeddedEnv });
    firstStatus = await statusJson(dataDir);
    remember(first, firstStatus);
    expect(firstStatus.database.runs).toBe(1);

    // Leave something in the database to find after the restart.
    const db = await embeddedDb(firstStatus);
    try {
      await db.query('CREATE TABLE test_survivor (id int PRIMARY KEY, note text NOT NULL)');
      await db.query("INSERT INTO test_survivor VALUES (1, 'still here')");
    } finally {
      await db.end();
    }

    const pids = pidsOf(firstStatus);
    expect(pids.length).toBe(5); // supervisor, 2 api, 1 queue, redis-server
    const exitCode = await first.stop();
    expect(exitCode, `stderr:\n${first.stderr()}`).toBe(0);
    for (const pid of pids) {
      await waitFor(() => pidGone(pid), 10_000, `pid ${pid} to be gone`);
    }
    expect(existsSync(path.join(dataDir, 'wuzctl.pid'))).toBe(false);
    expect(existsSync(path.join(dataDir, 'wuzctl.sock'))).toBe(false);
  });

  it('reports "not running" with exit 3 once stopped', async () => {
    const result = await wuzctl(['status', '--data-dir', dataDir, '--json']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('not running');
    expect(result.stdout).toBe('');
  });

  it('keeps the data: runs increments and a created table survives', async () => {
    expect(firstStatus, 'the SIGTERM test must have run first').toBeDefined();
    const second = await startDaemon({ dataDir, env: embeddedEnv });
    const status = await statusJson(dataDir);
    remember(second, status);
    expect(status.pid).not.toBe(firstStatus.pid);
    expect(status.database.mode).toBe('embedded');
    expect(status.database.runs).toBe(2);

    const db = await embeddedDb(status);
    try {
      const { rows } = await db.query('SELECT id, note FROM test_survivor');
      expect(rows).toEqual([{ id: 1, note: 'still here' }]);
      const runs = await db.query('SELECT pid FROM daemon_runs ORDER BY pid');
      expect(runs.rows.map((r) => r.pid).sort()).toEqual([firstStatus.pid, status.pid].sort());
      const migrations = await db.query('SELECT version FROM schema_migrations');
      expect(migrations.rows.map((r) => r.version)).toContain('0001_daemon_runs');
    } finally {
      await db.end();
    }

    // SIGINT is a graceful stop too.
    const pids = pidsOf(status);
    second.process.kill('SIGINT');
    expect(await second.stop()).toBe(0);
    for (const pid of pids) await waitFor(() => pidGone(pid), 10_000, `pid ${pid} to be gone`);
  });
});

describe('serve --detach', () => {
  afterEach(cleanupDaemons);

  it('returns once ready, keeps running in the background, and `stop --json` ends it', async () => {
    const dataDir = await tempDataDir();
    trackDetached(dataDir);
    const started = await wuzctl(
      [
        'serve',
        '--detach',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--api-workers',
        '1',
        '--queue-workers',
        '1',
        '--log-level',
        'info',
      ],
      { env: embeddedEnv, timeoutMs: 60_000 },
    );
    expect(started.exitCode, `stderr:\n${started.stderr}`).toBe(0);
    expect(started.stdout).toMatch(/ready in/);
    const url = /http:\/\/127\.0\.0\.1:(\d+)/.exec(started.stdout)?.[0];
    expect(url).toBeDefined();
    const pid = Number(/^ {2}pid +(\d+)/m.exec(started.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);

    // The CLI has exited; the daemon lives on.
    expect(pidGone(pid)).toBe(false);
    const status = await statusJson(dataDir);
    expect(status).toMatchObject({ pid, state: 'ready', url });
    expect(status.children.map((c) => c.state)).toEqual(['ready', 'ready']);
    expect((await getJson(`${url}/healthz`)).body).toEqual({ status: 'ok' });

    // Its logs go to <data-dir>/wuzctl.log as JSON lines.
    const logFile = path.join(dataDir, 'wuzctl.log');
    const log = await waitFor(
      async () => {
        const text = await readFile(logFile, 'utf8');
        return text.includes('"msg":"ready"') ? text : null;
      },
      10_000,
      'the "ready" line in wuzctl.log',
    );
    const firstLine = log.split('\n').find((l) => l.trim().startsWith('{'));
    expect(() => JSON.parse(firstLine ?? '')).not.toThrow();

    const stopped = await wuzctl(['stop', '--data-dir', dataDir, '--json']);
    expect(stopped.exitCode, `stderr:\n${stopped.stderr}`).toBe(0);
    const result = JSON.parse(stopped.stdout);
    expect(result).toMatchObject({ stopped: true, pid });
    expect(result.tookMs).toEqual(expect.any(Number));
    expect(pidGone(pid)).toBe(true);
    for (const child of pidsOf(status)) {
      await waitFor(() => pidGone(child), 10_000, `pid ${child} to be gone`);
    }
    const after = await wuzctl(['status', '--data-dir', dataDir]);
    expect(after.exitCode).toBe(3);
  });
});

describe('status and stop without a daemon', () => {
  afterAll(cleanupDaemons);

  it('status --json exits 3 with a JSON error whose hint, pasted, starts that data dir’s daemon', async () => {
    const dataDir = await tempDataDir();
    const result = await wuzctl(['status', '--data-dir', dataDir, '--json']);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('');
    const { error } = JSON.parse(result.stderr);
    expect(error).toMatchObject({ code: 'not_running', message: expect.stringMatching(/not running/) });
    expect(error.hint).toBe(`start it with: wuzctl serve --data-dir ${dataDir}`);
    // Plain text without --json.
    expect((await wuzctl(['status', '--data-dir', dataDir])).stderr).toMatch(/^error: not running/);
  });

  it('a usage error with --json is a JSON error too', async () => {
    const result = await wuzctl(['tenants', 'create', '--json', '--plan', 'gold']);
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stderr).error).toMatchObject({ code: 'usage' });
  });

  it('stop exits 3 with "not running"', async () => {
    const dataDir = await tempDataDir();
    const result = await wuzctl(['stop', '--data-dir', dataDir]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/not running/);
  });
});
