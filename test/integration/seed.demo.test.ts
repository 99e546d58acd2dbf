// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read arbitrary JSON bodies
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeWuzapi, startFakeWuzapi } from '../../src/devtools/fakeWuzapi.ts';
import {
  cleanupDaemons,
  type Daemon,
  embeddedEnv,
  type SeededTenant,
  seedDemo,
  startDaemon,
  waitFor,
  wuzctl,
} from '../helpers/daemon.ts';

/**
 * `wuzctl seed --demo` gives each demo tenant's first user the campaigns, imports and
 * reports a demo shows — as finished jobs leave them, read through the real API — and a
 * paused campaign that a resume really runs, through the queue and a (fake) WuzAPI.
 */
let daemon: Daemon;
let fake: FakeWuzapi;
let tenants: SeededTenant[];
const seededAt = Date.now();

async function api(method: string, path: string, token: string, accept = 'application/json') {
  const response = await fetch(`${daemon.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept },
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body, headers: response.headers };
}

const get = async (path: string, token: string) => {
  const answer = await api('GET', path, token);
  expect(answer.status, `GET ${path}: ${JSON.stringify(answer.body)}`).toBe(200);
  return answer.body;
};
const byName = (list: any[], name: string) => {
  const found = list.find((item) => item.name === name);
  expect(found, `${name} in ${JSON.stringify(list.map((item) => item.name))}`).toBeTruthy();
  return found;
};
const past = (value: string | null) => {
  expect(value).toBeTruthy();
  expect(Date.parse(value as string)).toBeLessThan(seededAt);
};

beforeAll(async () => {
  fake = await startFakeWuzapi({ port: 0 });
  daemon = await startDaemon({
    env: { ...embeddedEnv, WUZ_RATE_LIMIT: 'off' },
    apiWorkers: 1,
    queueWorkers: 1,
    args: ['--wuzapi-url', fake.url],
  });
  tenants = await seedDemo(daemon.dataDir, 2);
}, 120_000);

afterAll(async () => {
  await cleanupDaemons();
  await fake?.close();
});

describe('the demo data of each tenant', () => {
  it('has a delivered, a partial, a failed and a paused campaign, with their recipients and jobs', async () => {
    for (const tenant of tenants) {
      const token = tenant.user_tokens[0];
      const list = await get('/campaigns?per_page=100', token);
      expect(list.total).toBe(4);
      const campaigns = list.data as any[];

      const delivered = byName(campaigns, 'Welcome message');
      expect(delivered).toMatchObject({ status: 'completed', outcome: 'delivered', total: 24, sent: 24 });
      expect(delivered).toMatchObject({ failed: 0, pending: 0, error: null });

      const partial = byName(campaigns, 'Weekend sale');
      expect(partial).toMatchObject({
        status: 'completed',
        outcome: 'partial',
        total: 40,
        sent: 35,
        failed: 5,
      });
      expect(partial).toMatchObject({ pending: 0, error: null });
      past(partial.scheduled_at);

      const failed = byName(campaigns, 'Payment reminder');
      expect(failed).toMatchObject({ status: 'failed', outcome: 'failed', total: 18, sent: 0, failed: 18 });
      expect(failed.error).toBe('no message was delivered: WuzAPI: ECONNREFUSED');

      const paused = byName(campaigns, 'Satisfaction survey');
      expect(paused).toMatchObject({ status: 'paused', outcome: null, total: 60, sent: 22, failed: 0 });
      expect(paused).toMatchObject({ pending: 38, finished_at: null, error: null });

      for (const campaign of campaigns) {
        expect(campaign.session_token_hint).toMatch(/^….{4}$/);
        expect(campaign.audience).toEqual({ contact_ids: campaign.total });
        for (const at of [campaign.created_at, campaign.started_at, campaign.updated_at]) past(at);
        expect(Date.parse(campaign.started_at)).toBeGreaterThan(Date.parse(campaign.created_at));
        if (campaign.finished_at) past(campaign.finished_at);
        // The recipient rows are what the counters count.
        for (const status of ['sent', 'failed', 'pending'] as const) {
          const recipients = await get(
            `/campaigns/${campaign.id}/recipients?status=${status}&per_page=1`,
            token,
          );
          expect(recipients.total, `${campaign.name} ${status}`).toBe(campaign[status]);
        }
        const detail = await get(`/campaigns/${campaign.id}`, token);
        expect(detail).toEqual(campaign);
        // The job that ran it, from the jobs table: Redis forgot it long ago.
        const job = await get(`/jobs/${campaign.job_id}/status`, token);
        expect(job).toMatchObject({
          id: campaign.job_id,
          queue: 'campaign',
          state: campaign.status === 'failed' ? 'failed' : 'completed',
          attempts: 1,
          subject_id: campaign.id,
          progress: {
            total: campaign.total,
            sent: campaign.sent,
            failed: campaign.failed,
            cancelled: 0,
            pending: campaign.pending,
          },
        });
        for (const at of Object.values(job.timestamps) as string[]) past(at);
        if (campaign.status === 'failed') expect(job.error).toBe(campaign.error);
        else
          expect(job.result).toMatchObject({
            outcome: campaign.status === 'paused' ? 'paused' : 'completed',
            sent: campaign.sent,
          });
      }
      const recipients = await get(`/campaigns/${partial.id}/recipients?status=failed`, token);
      expect(new Set(recipients.data.map((r: any) => r.error))).toEqual(
        new Set(['WuzAPI 400: phone is not on WhatsApp', 'WuzAPI 500: failed to send message']),
      );
      for (const recipient of recipients.data) expect(recipient.message_id).toMatch(/^3EB0[0-9A-F]{16}$/);
    }
  });

  it('has a completed import with accepted and rejected rows, and a failed one with its reason', async () => {
    for (const tenant of tenants) {
      const token = tenant.user_tokens[0];
      const list = await get('/imports', token);
      expect(list.total).toBe(2);
      const completed = list.data.find((item: any) => item.status === 'completed');
      expect(completed).toMatchObject({
        filename: 'customers-export.csv',
        total_rows: 34,
        accepted: 30,
        rejected: 4,
      });
      const detail = await get(`/imports/${completed.id}`, token);
      expect(detail.rejections).toHaveLength(4);
      expect(detail.rejected_by_reason).toEqual({
        'invalid phone (not E.164)': 2,
        'missing phone': 1,
        'duplicate phone in the file': 1,
      });
      const failed = list.data.find((item: any) => item.status === 'failed');
      expect(failed).toMatchObject({ filename: 'event-leads.csv', accepted: 0, rejected: 0 });
      expect(failed.error).toMatch(/^the CSV could not be read: no phone column/);
      for (const item of [completed, failed]) {
        past(item.created_at);
        past(item.finished_at);
        const job = await get(`/jobs/${item.job_id}/status`, token);
        expect(job).toMatchObject({ queue: 'import', state: item.status, attempts: 1, subject_id: item.id });
        if (item === completed) {
          expect(job.progress).toEqual({ rows: 34, accepted: 30, rejected: 4 });
          expect(job.result).toMatchObject({ accepted: 30, created: 0, updated: 30, rejected: 4 });
        } else expect(job.error).toBe(failed.error);
      }
    }
  });

  it('has a completed report that downloads as CSV, and a failed one with its reason', async () => {
    for (const tenant of tenants) {
      const token = tenant.user_tokens[0];
      const campaigns = (await get('/campaigns?per_page=100', token)).data as any[];
      const list = await get('/reports', token);
      expect(list.total).toBe(2);
      const completed = list.data.find((item: any) => item.status === 'completed');
      expect(completed).toMatchObject({
        kind: 'campaign_delivery',
        scope: 'owner',
        row_count: 4,
        error: null,
      });
      const detail = await get(`/reports/${completed.id}`, token);
      expect(detail.rows.map((row: any) => row.campaign_id).sort()).toEqual(
        campaigns.map((c) => c.id).sort(),
      );
      for (const row of detail.rows) {
        const campaign = campaigns.find((c) => c.id === row.campaign_id);
        expect(row).toMatchObject({ status: campaign.status, total: campaign.total, sent: campaign.sent });
      }
      const csv = await api('GET', `/reports/${completed.id}?format=csv`, token);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
      expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="?campaign_delivery-/);
      const lines = String(csv.body).trim().split('\n');
      expect(lines[0]).toBe(
        'campaign_id,name,status,total,sent,failed,cancelled,pending,delivery_rate,started_at,finished_at',
      );
      expect(lines).toHaveLength(5);
      for (const campaign of campaigns) expect(csv.body).toContain(`${campaign.id},${campaign.name},`);
      // Accept: text/csv downloads it too.
      expect((await api('GET', `/reports/${completed.id}`, token, 'text/csv')).body).toBe(csv.body);

      const failed = list.data.find((item: any) => item.status === 'failed');
      expect(failed).toMatchObject({ kind: 'usage', scope: 'owner', row_count: null });
      expect(failed.error).toBe('canceling statement due to statement timeout');
      expect((await api('GET', `/reports/${failed.id}?format=csv`, token)).status).toBe(409);
      for (const item of [completed, failed]) {
        past(item.created_at);
        past(item.finished_at);
        const job = await get(`/jobs/${item.job_id}/status`, token);
        expect(job).toMatchObject({ queue: 'report', state: item.status, subject_id: item.id });
        expect(job.attempts).toBe(item === failed ? 3 : 1);
        // The tenant's admin sees the job too; another tenant does not.
        expect((await api('GET', `/jobs/${item.job_id}/status`, tenant.admin_token)).status).toBe(200);
        const other = tenants.find((t) => t !== tenant) as SeededTenant;
        expect((await api('GET', `/jobs/${item.job_id}/status`, other.admin_token)).status).toBe(404);
      }
    }
  });

  it('is for the first user: the others and the admin start with empty lists', async () => {
    const [tenant] = tenants as [SeededTenant];
    for (const token of [tenant.admin_token, tenant.user_tokens[1]]) {
      for (const path of ['/campaigns', '/imports', '/reports'])
        expect((await get(path, token)).total).toBe(0);
    }
  });

  it('`wuzctl jobs` reads the seeded jobs without errors', async () => {
    const token = (tenants[0] as SeededTenant).user_tokens[0];
    const failed = byName((await get('/campaigns?per_page=100', token)).data, 'Payment reminder');
    const status = await wuzctl(['jobs', 'status', failed.job_id, '--json', '--data-dir', daemon.dataDir]);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      queue: 'campaign',
      state: 'failed',
      error: failed.error,
    });
    const list = await wuzctl(['jobs', 'list', '--tenant', 'demo-1', '--json', '--data-dir', daemon.dataDir]);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveProperty('counts.campaign');
  });
});

describe('seeding again', () => {
  it('keeps the demo jobs as they are (no duplicates), with fresh tokens', async () => {
    const before = await Promise.all(
      ['/campaigns?per_page=100', '/imports', '/reports'].map((path) =>
        get(path, (tenants[0] as SeededTenant).user_tokens[0]),
      ),
    );
    tenants = await seedDemo(daemon.dataDir, 2);
    const after = await Promise.all(
      ['/campaigns?per_page=100', '/imports', '/reports'].map((path) =>
        get(path, (tenants[0] as SeededTenant).user_tokens[0]),
      ),
    );
    expect(after).toEqual(before);
  });
});

describe('the paused demo campaign', () => {
  it('resumes through the API and the queue: its pending recipients are sent', async () => {
    const token = (tenants[0] as SeededTenant).user_tokens[0];
    const paused = byName((await get('/campaigns?per_page=100', token)).data, 'Satisfaction survey');
    const pending = (await get(`/campaigns/${paused.id}/recipients?status=pending&per_page=100`, token)).data;
    expect(pending).toHaveLength(38);

    const resumed = await api('POST', `/campaigns/${paused.id}/resume`, token);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(202);
    expect(resumed.body.status).toBe('scheduled');
    expect(resumed.body.job_id).not.toBe(paused.job_id);

    const moving = await waitFor(
      async () => {
        const state = await get(`/campaigns/${paused.id}`, token);
        return state.sent > paused.sent ? state : null;
      },
      30_000,
      'the resumed campaign to send',
    );
    expect(['running', 'completed']).toContain(moving.status);
    expect(moving.pending).toBeLessThan(paused.pending);
    expect(moving.failed).toBe(0);
    // The next pending recipient went out with its own message Id, through the fake WuzAPI.
    const first = pending[0];
    const received = fake.messages().find((m) => m.id === first.message_id);
    expect(received).toMatchObject({ phone: first.phone.slice(1) });
    expect(received?.token.startsWith('demo-1-session-')).toBe(true);
    const job = await get(`/jobs/${resumed.body.job_id}/status`, token);
    expect(['active', 'delayed', 'completed']).toContain(job.state);

    // Pause it again, so the daemon stops promptly.
    expect((await api('POST', `/campaigns/${paused.id}/pause`, token)).status).toBe(200);
  }, 60_000);
});
