// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read arbitrary JSON output
import { randomUUID } from 'node:crypto';
import { type Job, Worker } from 'bullmq';
import { execa } from 'execa';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../src/cli/client.ts';
import {
  type JobData,
  producerConnection,
  QUEUE_PREFIX,
  type Queues,
  workerConnection,
} from '../../src/daemon/queues/index.ts';
import { closeQueues, openQueues } from '../../src/daemon/queues/open.ts';
import {
  childEnv,
  cleanupDaemons,
  cliPath,
  type Daemon,
  embeddedEnv,
  startDaemon,
  tempDataDir,
  waitFor,
  wuzctl,
} from '../helpers/daemon.ts';

// `wuzctl jobs` against a real embedded daemon that runs no queue workers (--queue-workers 0),
// so every job stays exactly where the test puts it. The test adds jobs to the daemon's own
// Redis, and makes jobs fail or complete with short-lived BullMQ workers of its own.

let daemon: Daemon;
let redisUrl: string;
let connection: Redis;
let queues: Queues;
let pool: pg.Pool;
const tenants = { a: { id: '', owner: '' }, b: { id: '', owner: '' } };
const ids = {
  campaign1: randomUUID(),
  campaign2: randomUUID(),
  importDelayed: randomUUID(),
  report: randomUUID(),
};

const jobs = (args: string[], dataDir = daemon.dataDir) =>
  wuzctl(['jobs', ...args, '--data-dir', dataDir], { env: embeddedEnv, timeoutMs: 60_000 });

const json = async (args: string[]) => {
  const result = await jobs([...args, '--json']);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
};

const data = (tenant: { id: string; owner: string }): JobData => ({
  tenantId: tenant.id,
  ownerId: tenant.owner,
  subjectId: randomUUID(),
});

async function tenantWithUser(slug: string) {
  const tenant = await pool.query<{ id: string }>(
    `INSERT INTO tenants (name, slug, plan) VALUES ($1, $1, 'free') RETURNING id`,
    [slug],
  );
  const id = tenant.rows[0]?.id as string;
  const user = await pool.query<{ id: string }>(
    `INSERT INTO users (tenant_id, email, role) VALUES ($1, $2, 'admin') RETURNING id`,
    [id, `admin@${slug}.test`],
  );
  return { id, owner: user.rows[0]?.id as string };
}

/** Runs a worker on one queue until `until` holds, then closes it. */
async function withWorker(
  queue: 'campaign' | 'import' | 'report',
  processor: (job: Job<JobData>) => Promise<unknown>,
  until: () => Promise<boolean>,
) {
  // A connection passed in is shared: BullMQ does not close it with the worker.
  const workerRedis = workerConnection(redisUrl);
  const worker = new Worker<JobData>(queue, processor, { connection: workerRedis, prefix: QUEUE_PREFIX });
  try {
    await waitFor(until, 20_000, `the ${queue} worker`);
  } finally {
    await worker.close();
    workerRedis.disconnect();
  }
}

beforeAll(async () => {
  daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 1, queueWorkers: 0 });
  const client = new DaemonClient(daemon.dataDir);
  redisUrl = (await client.redis()).url;
  pool = new pg.Pool({ connectionString: (await client.database()).url, max: 2 });
  tenants.a = await tenantWithUser('jobs-a');
  tenants.b = await tenantWithUser('jobs-b');
  connection = producerConnection(redisUrl);
  await connection.connect();
  queues = openQueues(connection, { completedSeconds: 3600, failedSeconds: 3600, count: 1000 });
  await queues.campaign.add('campaign', data(tenants.a), { jobId: ids.campaign1 });
  await queues.campaign.add('campaign', data(tenants.b), { jobId: ids.campaign2 });
  await queues.import.add('import', data(tenants.b), { jobId: ids.importDelayed, delay: 3_600_000 });
  await queues.report.add('report', data(tenants.a), { jobId: ids.report });
}, 120_000);

afterAll(async () => {
  if (queues) await closeQueues(queues);
  connection?.disconnect();
  await pool?.end();
  await cleanupDaemons();
});

describe('wuzctl jobs list', () => {
  it('counts every queue by state, then lists the jobs', async () => {
    const listed = await json(['list']);
    const zero = { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, paused: false };
    expect(listed.counts).toEqual({
      campaign: { ...zero, waiting: 2 },
      import: { ...zero, delayed: 1 },
      report: { ...zero, waiting: 1 },
    });
    expect(listed.jobs.map((j: any) => j.id).sort()).toEqual(Object.values(ids).sort());
    const job = listed.jobs.find((j: any) => j.id === ids.importDelayed);
    expect(job).toMatchObject({
      queue: 'import',
      state: 'delayed',
      tenant_id: tenants.b.id,
      tenant_slug: 'jobs-b',
      attempts: 0,
      progress: {},
    });
    expect(job.timestamps.created).toMatch(/^\d{4}-\d\d-\d\dT/);

    const text = await jobs(['list']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/QUEUE\s+WAITING\s+DELAYED\s+ACTIVE\s+COMPLETED\s+FAILED/);
    expect(text.stdout).toMatch(/campaign\s+2\s+0\s+0\s+0\s+0/);
    expect(text.stdout).toContain(ids.campaign1);
    // The tenant by its slug, not an id prefix.
    expect(text.stdout).toMatch(new RegExp(`${ids.importDelayed}\\s+import\\s+delayed\\s+jobs-b\\s`));
  });

  it('filters by queue, state and tenant (slug or id), and honours --limit', async () => {
    const campaign = await json(['list', '--queue', 'campaign']);
    expect(Object.keys(campaign.counts)).toEqual(['campaign']);
    expect(campaign.jobs.map((j: any) => j.id).sort()).toEqual([ids.campaign1, ids.campaign2].sort());

    const delayed = await json(['list', '--state', 'delayed']);
    expect(delayed.jobs.map((j: any) => j.id)).toEqual([ids.importDelayed]);

    const bySlug = await json(['list', '--tenant', 'jobs-b']);
    expect(bySlug.jobs.map((j: any) => j.id).sort()).toEqual([ids.campaign2, ids.importDelayed].sort());
    const byId = await json(['list', '--tenant', tenants.a.id, '--queue', 'campaign']);
    expect(byId.jobs.map((j: any) => j.id)).toEqual([ids.campaign1]);

    expect((await json(['list', '--limit', '1'])).jobs).toHaveLength(1);

    const unknown = await jobs(['list', '--tenant', 'no-such-tenant']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/no tenant with slug "no-such-tenant"/);
  });

  it('refuses an unknown state or queue with exit 2 and the valid values', async () => {
    const state = await jobs(['list', '--state', 'paused']);
    expect(state.exitCode).toBe(2);
    expect(state.stderr).toMatch(/unknown state "paused"/);
    expect(state.stderr).toMatch(/waiting, delayed, active, completed, failed/);
    const queue = await jobs(['list', '--queue', 'email']);
    expect(queue.exitCode).toBe(2);
    expect(queue.stderr).toMatch(/campaign, import, report/);
  });
});

describe('wuzctl jobs status', () => {
  it('shows a live job with its progress', async () => {
    const job = await queues.campaign.getJob(ids.campaign1);
    await job?.updateProgress({ total: 10, sent: 3, failed: 1, cancelled: 0, pending: 6 });
    const status = await json(['status', ids.campaign1]);
    expect(status).toMatchObject({
      id: ids.campaign1,
      queue: 'campaign',
      state: 'waiting',
      progress: { total: 10, sent: 3, pending: 6 },
      tenant_id: tenants.a.id,
    });
    const text = await jobs(['status', ids.campaign1]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/state\s+waiting/);
    expect(text.stdout).toMatch(/progress\s+40% · total 10 · sent 3 · failed 1/);
  });

  it('falls back to the jobs table for a job Redis no longer holds', async () => {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO jobs (id, tenant_id, owner_id, queue, subject_id, state, progress, attempts, result, started_at, finished_at)
       VALUES ($1, $2, $3, 'report', $4, 'completed', '{"rows": 5}', 1, '{"rows": 5, "kind": "usage"}', now(), now())`,
      [id, tenants.a.id, tenants.a.owner, randomUUID()],
    );
    const status = await json(['status', id]);
    expect(status).toMatchObject({
      id,
      queue: 'report',
      state: 'completed',
      attempts: 1,
      result: { rows: 5, kind: 'usage' },
    });
    expect(status.timestamps.finished).toBeTruthy();
    const text = await jobs(['status', id]);
    // jsonb keeps its own key order.
    expect(text.stdout).toMatch(/result\s+\{"kind":"usage","rows":5\}/);
  });

  it('says a job is not found with exit 1', async () => {
    const id = randomUUID();
    const missing = await jobs(['status', id]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(`job ${id} not found`);
    expect((await jobs(['status', 'not-a-uuid'])).exitCode).toBe(1);
  });
});

describe('wuzctl jobs pause and resume', () => {
  it('pauses a whole queue and resumes it, as list shows', async () => {
    const paused = await jobs(['pause', 'campaign']);
    expect(paused.exitCode, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/campaign queue paused/);
    let listed = await json(['list', '--queue', 'campaign']);
    expect(listed.counts.campaign).toMatchObject({ paused: true, waiting: 2 });
    expect(listed.jobs.map((j: any) => j.state)).toEqual(['waiting', 'waiting']);
    expect((await jobs(['list'])).stdout).toMatch(/campaign\s+2\s+0\s+0\s+0\s+0\s+paused/);

    expect(await json(['resume', 'campaign'])).toEqual({ queue: 'campaign', paused: false });
    listed = await json(['list', '--queue', 'campaign']);
    expect(listed.counts.campaign.paused).toBe(false);

    const bad = await jobs(['pause', 'email']);
    expect(bad.exitCode).toBe(2);
  });
});

describe('wuzctl jobs retry, remove, clean', () => {
  const failed = [randomUUID(), randomUUID()];

  it('retries a failed job and refuses one that is not failed', async () => {
    for (const id of failed) await queues.import.add('import', data(tenants.a), { jobId: id, attempts: 1 });
    await withWorker(
      'import',
      async () => {
        throw new Error('the CSV is gone');
      },
      async () => (await queues.import.getJobCounts('failed')).failed === 2,
    );
    const status = await json(['status', failed[0] as string]);
    expect(status).toMatchObject({ state: 'failed', attempts: 1, error: 'the CSV is gone' });

    // Watching a job that has already failed ends at once, with exit 1.
    const watched = await jobs(['status', failed[1] as string, '--watch']);
    expect(watched.exitCode).toBe(1);
    expect(watched.stdout).toMatch(/error\s+the CSV is gone/);

    const retried = await jobs(['retry', failed[0] as string]);
    expect(retried.exitCode, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(/retrying/);
    expect((await json(['status', failed[0] as string])).state).toBe('waiting');

    const again = await jobs(['retry', failed[0] as string]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`job ${failed[0]} is waiting; only failed jobs can be retried`);
  });

  it('cleans the failed jobs older than a duration', async () => {
    const bad = await jobs(['clean', 'import', '--state', 'failed', '--older-than', 'soon']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/invalid duration/);
    const badState = await jobs(['clean', 'import', '--state', 'active', '--older-than', '1h']);
    expect(badState.exitCode).toBe(2);

    expect(await json(['clean', 'import', '--state', 'failed', '--older-than', '1h'])).toEqual({
      removed: 0,
    });
    expect(await json(['clean', 'import', '--state', 'failed', '--older-than', '0s'])).toEqual({
      removed: 1,
    });
    const listed = await json(['list', '--queue', 'import']);
    expect(listed.counts.import).toMatchObject({ failed: 0, waiting: 1, delayed: 1 });
    expect((await jobs(['status', failed[1] as string])).exitCode).toBe(1);
  });

  it('removes a job that is not running', async () => {
    const removed = await jobs(['remove', ids.report]);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/removed/);
    expect(await queues.report.getJob(ids.report)).toBeUndefined();
    const gone = await jobs(['remove', ids.report]);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toMatch(/not found/);
  });

  it('watches a job to completion (NDJSON) and refuses to remove it while it runs', async () => {
    const id = randomUUID();
    await queues.report.add('report', data(tenants.a), { jobId: id });
    // Run the watcher directly, to read its lines as they come.
    const watching = execa(
      process.execPath,
      [cliPath, 'jobs', 'status', id, '--watch', '--json', '--data-dir', daemon.dataDir],
      {
        env: childEnv(embeddedEnv),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        timeout: 60_000,
      },
    );
    let seen = '';
    watching.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
    });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    const worker = withWorker(
      'report',
      async (job) => {
        await job.updateProgress({ rows: 1, total: 2 });
        await gate;
        await job.updateProgress({ rows: 2, total: 2 });
        return { rows: 2 };
      },
      async () => finished,
    );
    let result: Awaited<typeof watching>;
    try {
      await waitFor(
        () => seen.split('\n').some((line) => line.includes('"state":"active"') && line.includes('"rows":1')),
        20_000,
        'the watcher to see the job run',
      );
      const running = await jobs(['remove', id]);
      expect(running.exitCode).toBe(1);
      expect(running.stderr).toContain(`job ${id} is running; pause its queue or wait`);
      release();
      result = await watching;
    } finally {
      // Whatever failed, let the processor return so that the worker can close.
      release();
      finished = true;
      await worker;
    }
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const lines = String(result.stdout)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.some((s) => s.state === 'active' && s.progress.rows === 1)).toBe(true);
    expect(lines.at(-1)).toMatchObject({
      id,
      state: 'completed',
      progress: { rows: 2 },
      result: { rows: 2 },
    });
  });
});

describe('wuzctl jobs without a daemon', () => {
  it('exits 3 and says how to get Redis', async () => {
    const empty = await tempDataDir();
    const result = await jobs(['list'], empty);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`not running (no daemon at ${empty})`);
    expect(result.stderr).toContain(`start it with wuzctl serve --data-dir ${empty}, or set REDIS_URL`);
  });
});
