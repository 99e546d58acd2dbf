import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupDaemons,
  type Daemon,
  embeddedEnv,
  seedDemo,
  startDaemon,
  waitFor,
} from '../helpers/daemon.ts';

/**
 * CSV imports a customer can make costly or unreadable: each is bounded, fails at once
 * with a reason that quotes nothing of the file, and never holds a slot or a shutdown.
 */
let daemon: Daemon;
let token: string;

// The rate limit is off: the demo tenant is on the free plan (100 requests a minute) and
// the status polling below would otherwise run into 429s whenever a job takes a while.
const start = (dataDir?: string) =>
  startDaemon({
    dataDir,
    env: { ...embeddedEnv, WUZ_RATE_LIMIT: 'off' },
    apiWorkers: 1,
    queueWorkers: 1,
    args: ['--import-limit', '20mb', '--shutdown-timeout', '10', '--queue-concurrency', 'import=1'],
  });

beforeAll(async () => {
  daemon = await start();
  token = (await seedDemo(daemon.dataDir, 1))[0]?.user_tokens[0] ?? '';
});
afterAll(cleanupDaemons);

async function upload(csv: string) {
  const response = await fetch(`${daemon.url}/api/imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    body: csv,
  });
  return { status: response.status, body: JSON.parse(await response.text()) };
}

async function jobStatus(jobId: string) {
  const response = await fetch(`${daemon.url}/api/jobs/${jobId}/status`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return JSON.parse(await response.text());
}

async function finished(jobId: string) {
  let last: unknown;
  return waitFor(
    async () => {
      const body = await jobStatus(jobId);
      last = body;
      return ['completed', 'failed'].includes(body.state) ? body : null;
    },
    // Under the test's own 60 s, so that a timeout says what the job and the daemon said.
    45_000,
    `job ${jobId} to finish`,
  ).catch((error: Error) => {
    // What the job and the daemon said, so a timeout explains itself.
    throw new Error(`${error.message}\nlast status: ${JSON.stringify(last)}\n${daemonTail()}`);
  });
}

const daemonTail = () =>
  `--- daemon stdout (tail)\n${daemon.stdout().slice(-4000)}\n--- stderr (tail)\n${daemon.stderr().slice(-2000)}`;

const phone = (i: number) => `+55119${String(i).padStart(8, '0')}`;

describe('imports that would cost too much or cannot be read', () => {
  it('a single 5 MB line fails at once with the line-length reason, and the next import runs', async () => {
    const huge = await upload(`phone,name\n${phone(1)},${'x'.repeat(5_000_000)}`);
    expect(huge.status).toBe(202);
    const normal = await upload(`phone,name\n${phone(2)},Ana\n${phone(3)},Bia\n`);
    const failed = await finished(huge.body.job_id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 });
    expect(failed.error).toBe('the CSV could not be read: line 2 is longer than 64 KiB');
    expect((await finished(normal.body.job_id)).result).toMatchObject({ accepted: 2, rejected: 0 });
  });

  it('a stray quote fails after one attempt, and neither the reason nor the log quotes the file', async () => {
    const csv = `phone,name\n${phone(4)},Carla "Confidential\n${phone(5)},Dani\n`;
    const job = await finished((await upload(csv)).body.job_id);
    expect(job).toMatchObject({ state: 'failed', attempts: 1 });
    expect(job.error).toMatch(/^the CSV could not be read: line 2 /);
    expect(job.error).not.toMatch(/Confidential|Carla|5511/);
    const log = daemon.stdout() + daemon.stderr();
    expect(log).toMatch(/job failed/);
    expect(log).not.toMatch(/Confidential/);
    expect(log).not.toMatch(/at .*csv-parse/);
  });

  it('exactly 100,000 rows with the usual trailing newline are accepted; 100,001 are refused with 413; stopped mid-import, it is handed back and completes after a restart', async () => {
    const rows = (n: number) =>
      `phone,name\n${Array.from({ length: n }, (_, i) => `${phone(100_000 + i)},N${i}`).join('\n')}\n`;
    const over = await upload(rows(100_001));
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe('payload_too_large');
    const exact = await upload(rows(100_000).replace(/\n/g, '\r\n'));
    expect(exact.status, JSON.stringify(exact.body)).toBe(202);
    // Stopped while that import runs (its first batches upserted, most of the file to go):
    // the job is handed back and the daemon exits 0 within --shutdown-timeout, no child killed.
    const under = await waitFor(
      async () => {
        const body = await jobStatus(exact.body.job_id);
        if (body.state === 'completed') throw new Error('the import completed before the stop');
        return body.state === 'active' && body.progress?.accepted >= 1000 ? body : null;
      },
      30_000,
      'the 100,000-row import to be under way',
    ).catch(async (error: Error) => {
      throw new Error(
        `${error.message}\nlast status: ${JSON.stringify(await jobStatus(exact.body.job_id))}\n${daemonTail()}`,
      );
    });
    expect(under.progress.accepted).toBeLessThan(100_000);
    const began = Date.now();
    expect(await daemon.stop()).toBe(0);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(daemon.stdout() + daemon.stderr()).not.toMatch(
      /did not stop in time|deadline passed|still active at the shutdown deadline/,
    );

    // After a restart the job runs again from the start and completes: the rows upserted
    // before the stop were kept, so this run finds them (updated), none is lost or doubled.
    daemon = await start(daemon.dataDir);
    const done = await finished(exact.body.job_id);
    expect(done.state).toBe('completed');
    expect(done.result).toMatchObject({ total_rows: 100_000, accepted: 100_000, rejected: 0 });
    expect(done.result.created + done.result.updated).toBe(100_000);
    expect(done.result.updated).toBeGreaterThanOrEqual(1000);
  }, 120_000);
});
