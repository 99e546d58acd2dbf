import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeWuzapi, startFakeWuzapi } from '../../src/devtools/fakeWuzapi.ts';
import {
  cleanupDaemons,
  type Daemon,
  embeddedEnv,
  seedDemo,
  startDaemon,
  waitFor,
} from '../helpers/daemon.ts';
import { parseExposition, total } from '../helpers/metrics.ts';

/**
 * A campaign's outcome is its truth: all delivered, some failed (said so), or nothing
 * delivered (failed, with the reason) — over a real daemon and a fake WuzAPI.
 */
const GOOD_TOKEN = 'session-good';
const REJECTED = '5511900000002';
let fake: FakeWuzapi;
let daemon: Daemon;
let token: string;
let phoneSeq = 0;

beforeAll(async () => {
  fake = await startFakeWuzapi({ tokens: [GOOD_TOKEN], rejectPhones: [REJECTED] });
  daemon = await startDaemon({
    env: embeddedEnv,
    apiWorkers: 1,
    queueWorkers: 1,
    args: ['--wuzapi-url', fake.url, '--wuzapi-timeout', '2'],
  });
  token = (await seedDemo(daemon.dataDir, 1))[0]?.user_tokens[0] ?? '';
});
afterAll(async () => {
  await cleanupDaemons();
  await fake?.close().catch(() => {});
});

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${daemon.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function run(phones: string[], sessionToken = GOOD_TOKEN) {
  const created = await api(
    'POST',
    '/contacts',
    phones.map((phone) => ({ phone: `+${phone}`, name: `C${phoneSeq++}` })),
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const ids = (created.body.created as Array<{ id: string }>).map((c) => c.id);
  const campaign = await api('POST', '/campaigns', {
    name: `outcome ${phoneSeq}`,
    template: 'Oi {{name}}',
    audience: { contact_ids: ids },
    session_token: sessionToken,
    min_delay_ms: 0,
    max_delay_ms: 0,
  });
  expect(campaign.status, JSON.stringify(campaign.body)).toBe(202);
  const done = await waitFor(
    async () => {
      const state = await api('GET', `/campaigns/${campaign.body.id}`);
      return ['completed', 'failed'].includes(state.body.status) ? state.body : null;
    },
    30_000,
    'the campaign to finish',
  );
  const job = (await api('GET', `/jobs/${campaign.body.job_id}/status`)).body;
  return { campaign: done, job };
}

const phone = () => `55119${String(10_000_000 + phoneSeq++).padStart(8, '0')}`;

describe('campaign outcomes', () => {
  it('every message sent: completed, outcome delivered', async () => {
    const { campaign, job } = await run([phone(), phone()]);
    expect(campaign).toMatchObject({
      status: 'completed',
      outcome: 'delivered',
      sent: 2,
      failed: 0,
      error: null,
    });
    expect(job.state).toBe('completed');
  });

  it('some failed: completed, outcome partial, counted, and a warning in the log', async () => {
    const { campaign, job } = await run([phone(), REJECTED, phone()]);
    expect(campaign).toMatchObject({ status: 'completed', outcome: 'partial', sent: 2, failed: 1 });
    expect(job.state).toBe('completed');
    expect(daemon.stdout() + daemon.stderr()).toMatch(/campaign completed with failed messages/);
  });

  it('none delivered (WuzAPI refuses the session token): failed, with the reason, and the job failed', async () => {
    const { campaign, job } = await run([phone(), phone()], 'session-unknown');
    expect(campaign).toMatchObject({ status: 'failed', outcome: 'failed', sent: 0, failed: 2 });
    expect(campaign.error).toMatch(/^no message was delivered: /);
    expect(job.state).toBe('failed');
    expect(job.error).toBe(campaign.error);
  });

  it('none delivered (WuzAPI unreachable): failed, saying so; the metric counts each outcome', async () => {
    await fake.close();
    const { campaign } = await run([phone()]);
    expect(campaign).toMatchObject({ status: 'failed', outcome: 'failed', sent: 0, failed: 1 });
    expect(campaign.error).toMatch(/^no message was delivered: WuzAPI/);
    const samples = parseExposition(await (await fetch(`${daemon.url}/metrics`)).text());
    const finished = (outcome: string) => total(samples, 'campaigns_finished_total', { outcome });
    expect([finished('delivered'), finished('partial'), finished('failed')]).toEqual([1, 1, 2]);
  });
});
