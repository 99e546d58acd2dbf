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
  statusJson,
  waitFor,
} from '../helpers/daemon.ts';

// One embedded daemon (its own redis-server and PGlite, so a restart keeps the queues),
// two queue workers, a short job lock so a killed worker's job comes back in seconds,
// and the fake WuzAPI as the only stand-in for the outside world.

let daemon: Daemon;
let fake: FakeWuzapi;
const tokens = { admin: '', user: '', user2: '', otherTenant: '' };
let phoneSeq = 0;

async function api(method: string, path: string, token: string, body?: unknown, type = 'application/json') {
  const response = await fetch(`${daemon.url}/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': type } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Creates `n` contacts of the caller with unique phones; returns their ids and phones. */
async function contacts(token: string, n: number, prefix = 'Contact') {
  const batch = Array.from({ length: n }, (_, i) => ({
    phone: `+5521${String(700_000_000 + phoneSeq++).padStart(9, '0')}`,
    name: `${prefix} ${i}`,
    variables: { city: `City${i % 3}` },
  }));
  const created = await api('POST', '/contacts', token, batch);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const list = created.body.created as Array<{ id: string; phone: string; name: string }>;
  expect(list).toHaveLength(n);
  return list;
}

async function campaign(token: string, ids: string[], extra: Record<string, unknown> = {}) {
  const answer = await api('POST', '/campaigns', token, {
    name: `campaign ${Date.now()}`,
    template: 'Hi {{name|there}} from {{city|nowhere}}',
    audience: { contact_ids: ids },
    session_token: 'session-token-1',
    min_delay_ms: 0,
    max_delay_ms: 0,
    ...extra,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body as { id: string; job_id: string };
}

async function jobDone(token: string, jobId: string, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const status = await api('GET', `/jobs/${jobId}/status`, token);
      return ['completed', 'failed'].includes(status.body.state) ? status.body : null;
    },
    timeoutMs,
    `job ${jobId} to finish`,
  );
}

async function campaignState(token: string, id: string) {
  return (await api('GET', `/campaigns/${id}`, token)).body;
}

const messagesTo = (phones: string[]) => {
  const wanted = new Set(phones.map((p) => p.replace('+', '')));
  return fake.messages().filter((m) => wanted.has(m.phone));
};

beforeAll(async () => {
  fake = await startFakeWuzapi({ port: 0 });
  daemon = await startDaemon({
    env: { ...embeddedEnv, WUZ_RATE_LIMIT: 'off' },
    apiWorkers: 2,
    queueWorkers: 2,
    args: ['--wuzapi-url', fake.url, '--job-lock', '2', '--import-limit', '64kb', '--shutdown-timeout', '10'],
  });
  const [first, second] = (await seedDemo(daemon.dataDir, 2)) as [SeededTenant, SeededTenant];
  tokens.admin = first.admin_token;
  tokens.user = first.user_tokens[0];
  tokens.user2 = first.user_tokens[1];
  tokens.otherTenant = second.admin_token;
}, 120_000);

afterAll(async () => {
  await cleanupDaemons();
  await fake?.close();
});

describe('campaigns', () => {
  it('enqueues in one quick 202, then sends exactly one rendered message per recipient', async () => {
    const people = await contacts(tokens.user, 40);
    // A repeated id and an id that is not the caller's collapse or vanish.
    const foreign = (await contacts(tokens.otherTenant, 1))[0]?.id as string;
    const ids = [...people.map((p) => p.id), people[0]?.id as string, foreign];
    const created = await campaign(tokens.user, ids);
    const job = await jobDone(tokens.user, created.job_id);
    expect(job).toMatchObject({ queue: 'campaign', state: 'completed', attempts: 1 });
    expect(job.result).toMatchObject({ outcome: 'completed', total: 40, sent: 40, failed: 0 });
    expect(job.timestamps.finished).toBeTruthy();
    const state = await campaignState(tokens.user, created.id);
    expect(state).toMatchObject({ status: 'completed', total: 40, sent: 40, failed: 0, pending: 0 });
    expect(state.session_token_hint).toBe('…en-1');
    expect(JSON.stringify(state)).not.toContain('session-token-1');

    const received = messagesTo(people.map((p) => p.phone));
    expect(received).toHaveLength(40);
    expect(new Set(received.map((m) => m.phone)).size).toBe(40);
    for (const person of people) {
      const message = received.find((m) => `+${m.phone}` === person.phone);
      const index = Number(person.name.split(' ')[1]);
      expect(message?.body).toBe(`Hi ${person.name} from City${index % 3}`);
      expect(message?.token).toBe('session-token-1');
    }
    expect(messagesTo([])).toHaveLength(0);
    // The recipients list shows the stable message ids the fake received.
    const recipients = await api('GET', `/campaigns/${created.id}/recipients?per_page=100`, tokens.user);
    expect(recipients.body.total).toBe(40);
    const sentIds = new Set(received.map((m) => m.id));
    for (const row of recipients.body.data) {
      expect(row.status).toBe('sent');
      expect(sentIds.has(row.message_id)).toBe(true);
    }
  });

  it('retries a 5xx with the same message id, and never a 4xx', async () => {
    const people = await contacts(tokens.user, 4);
    const rejected = people[3] as { phone: string };
    fake.setBehaviour({ failNext: 2, rejectPhones: [rejected.phone.replace('+', '')] });
    try {
      const before = fake.stats();
      const created = await campaign(
        tokens.user,
        people.map((p) => p.id),
      );
      await jobDone(tokens.user, created.job_id);
      const state = await campaignState(tokens.user, created.id);
      expect(state).toMatchObject({ status: 'completed', total: 4, sent: 3, failed: 1 });
      const rows = (await api('GET', `/campaigns/${created.id}/recipients`, tokens.user)).body.data;
      const failed = rows.find((r: any) => r.phone === rejected.phone);
      expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
      expect(failed.error).toMatch(/400/);
      // Two 500s were absorbed by retries: 4 recipients, 2 extra attempts, 1 rejection.
      const after = fake.stats();
      expect(after.failures - before.failures).toBe(2);
      expect(after.requests - before.requests).toBe(6);
      expect(rows.reduce((sum: number, r: any) => sum + r.attempts, 0)).toBe(6);
      expect(messagesTo(people.map((p) => p.phone))).toHaveLength(3);
    } finally {
      fake.setBehaviour({ failNext: 0, rejectPhones: [] });
    }
  });

  it('pauses on "No session" without failing anyone, and finishes after resume', async () => {
    const people = await contacts(tokens.user, 5);
    fake.setBehaviour({ noSession: true });
    const created = await campaign(
      tokens.user,
      people.map((p) => p.id),
    );
    const paused = await waitFor(
      async () => {
        const state = await campaignState(tokens.user, created.id);
        return state.status === 'paused' ? state : null;
      },
      20_000,
      'the campaign to pause itself',
    );
    expect(paused.error).toMatch(/no session/i);
    expect(paused).toMatchObject({ sent: 0, failed: 0, pending: 5 });
    fake.setBehaviour({ noSession: false });
    const resumed = await api('POST', `/campaigns/${created.id}/resume`, tokens.user);
    expect(resumed.status).toBe(202);
    expect(resumed.body.job_id).not.toBe(created.job_id);
    await jobDone(tokens.user, resumed.body.job_id);
    expect(await campaignState(tokens.user, created.id)).toMatchObject({
      status: 'completed',
      sent: 5,
      error: null,
    });
    expect(messagesTo(people.map((p) => p.phone))).toHaveLength(5);
  });

  it('pause stops within one send, resume finishes, cancel stops for good', async () => {
    const people = await contacts(tokens.user, 30);
    const phones = people.map((p) => p.phone);
    const created = await campaign(
      tokens.user,
      people.map((p) => p.id),
      { min_delay_ms: 150, max_delay_ms: 150 },
    );
    await waitFor(() => messagesTo(phones).length >= 3, 20_000, 'a few sends');
    const paused = await api('POST', `/campaigns/${created.id}/pause`, tokens.user);
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('paused');
    const atPause = messagesTo(phones).length;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(messagesTo(phones).length).toBeLessThanOrEqual(atPause + 1);
    // A paused campaign cannot be paused again or started.
    expect((await api('POST', `/campaigns/${created.id}/pause`, tokens.user)).status).toBe(409);
    expect((await api('POST', `/campaigns/${created.id}/start`, tokens.user)).body.error.code).toBe(
      'conflict',
    );

    const resumed = await api('POST', `/campaigns/${created.id}/resume`, tokens.user);
    expect(resumed.status).toBe(202);
    await jobDone(tokens.user, resumed.body.job_id);
    expect(await campaignState(tokens.user, created.id)).toMatchObject({ status: 'completed', sent: 30 });
    expect(messagesTo(phones)).toHaveLength(30);

    const more = await contacts(tokens.user, 30);
    const second = await campaign(
      tokens.user,
      more.map((p) => p.id),
      { min_delay_ms: 150, max_delay_ms: 150 },
    );
    await waitFor(() => messagesTo(more.map((p) => p.phone)).length >= 2, 20_000, 'a few sends');
    const cancelled = await api('POST', `/campaigns/${second.id}/cancel`, tokens.user);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const atCancel = messagesTo(more.map((p) => p.phone)).length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const final = await campaignState(tokens.user, second.id);
    expect(messagesTo(more.map((p) => p.phone)).length).toBeLessThanOrEqual(atCancel + 1);
    expect(final.sent + final.cancelled + final.failed).toBe(30);
    expect(final.cancelled).toBeGreaterThan(20);
    expect((await api('POST', `/campaigns/${second.id}/resume`, tokens.user)).status).toBe(409);
  });

  it('a draft starts later; a scheduled campaign waits for its time', async () => {
    const people = await contacts(tokens.user, 2);
    const draft = await api('POST', '/campaigns', tokens.user, {
      name: 'draft',
      template: 'x',
      audience: { contact_ids: people.map((p) => p.id) },
      session_token: 't',
      draft: true,
    });
    expect(draft.status).toBe(201);
    expect(draft.body).toMatchObject({ status: 'draft', job_id: null });
    const started = await api('POST', `/campaigns/${draft.body.id}/start`, tokens.user);
    expect(started.status).toBe(202);
    await jobDone(tokens.user, started.body.job_id);
    expect(messagesTo(people.map((p) => p.phone))).toHaveLength(2);

    const later = await contacts(tokens.user, 1);
    const at = new Date(Date.now() + 3000).toISOString();
    const scheduled = await campaign(tokens.user, [later[0]?.id as string], { schedule_at: at });
    expect((await api('GET', `/jobs/${scheduled.job_id}/status`, tokens.user)).body.state).toBe('delayed');
    expect(messagesTo([later[0]?.phone as string])).toHaveLength(0);
    const done = await jobDone(tokens.user, scheduled.job_id);
    expect(Date.parse(done.timestamps.finished)).toBeGreaterThanOrEqual(Date.parse(at));
    expect(messagesTo([later[0]?.phone as string])).toHaveLength(1);
  });

  it('refuses bad input with 400/404/409 and says what is wrong', async () => {
    const bad = async (body: unknown) => (await api('POST', '/campaigns', tokens.user, body)).body.error;
    const base = {
      name: 'x',
      template: 'y',
      audience: { contact_ids: [crypto.randomUUID()] },
      session_token: 't',
    };
    expect((await bad({ ...base, min_delay_ms: 500, max_delay_ms: 100 })).message).toMatch(
      /max_delay_ms: must be at least min_delay_ms/,
    );
    expect((await bad({ ...base, audience: { contact_ids: [] } })).message).toMatch(/at least one contact/);
    expect((await bad({ ...base, audience: { contact_ids: ['nope'] } })).code).toBe('invalid_request');
    expect((await bad({ ...base, surprise: 1 })).code).toBe('invalid_request');
    expect((await bad({ ...base, schedule_at: 'tomorrow' })).message).toMatch(/ISO 8601/);
    const { session_token: _omit, ...noToken } = base;
    expect((await bad(noToken)).message).toMatch(/session_token/);
    expect((await api('GET', `/campaigns/${crypto.randomUUID()}`, tokens.user)).status).toBe(404);
    expect((await api('POST', `/campaigns/${crypto.randomUUID()}/pause`, tokens.user)).status).toBe(404);
    expect((await api('GET', '/campaigns?status=nope', tokens.user)).status).toBe(400);
  });
});

describe('tenant isolation of campaigns and jobs', () => {
  it('another tenant, or another user of the tenant, cannot see a job or campaign; the admin can see the job', async () => {
    const people = await contacts(tokens.user, 1);
    const created = await campaign(tokens.user, [people[0]?.id as string]);
    await jobDone(tokens.user, created.job_id);
    for (const token of [tokens.otherTenant, tokens.user2]) {
      expect((await api('GET', `/jobs/${created.job_id}/status`, token)).status).toBe(404);
      expect((await api('GET', `/campaigns/${created.id}`, token)).status).toBe(404);
      expect((await api('POST', `/campaigns/${created.id}/cancel`, token)).status).toBe(404);
      const list = await api('GET', '/campaigns?per_page=100', token);
      expect(list.body.data.map((c: any) => c.id)).not.toContain(created.id);
    }
    const asAdmin = await api('GET', `/jobs/${created.job_id}/status`, tokens.admin);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body).not.toHaveProperty('tenant_id');
  });
});

describe('imports', () => {
  it('accepts valid rows, rejects bad ones with their reasons, and upserts on a second run', async () => {
    const csv = [
      'telefone;nome;city;plan code',
      '+55 31 91234-0001;Ana;BH;gold',
      '5531912340002;Bruno;BH;',
      'not-a-phone;Carla;SP;x',
      ';Sem Telefone;SP;x',
      '+5531912340001;Ana again;BH;x',
      '+5531912340003;;RJ;silver',
    ].join('\n');
    const upload = await api('POST', '/imports?filename=people.csv', tokens.user2, csv, 'text/csv');
    expect(upload.status, JSON.stringify(upload.body)).toBe(202);
    const job = await jobDone(tokens.user2, upload.body.job_id);
    expect(job.state).toBe('completed');
    const result = (await api('GET', `/imports/${upload.body.id}`, tokens.user2)).body;
    expect(result).toMatchObject({
      status: 'completed',
      filename: 'people.csv',
      total_rows: 6,
      accepted: 3,
      rejected: 3,
    });
    expect(result.rejections).toEqual([
      { line: 4, reason: 'invalid phone (not E.164)', phone: 'not-a-phone' },
      { line: 5, reason: 'missing phone' },
      { line: 6, reason: 'duplicate phone in the file', phone: '+5531912340001' },
    ]);
    const listed = (await api('GET', '/contacts?q=5531912340&per_page=10', tokens.user2)).body.data;
    const ana = listed.find((c: any) => c.phone === '+5531912340001');
    expect(ana).toMatchObject({ name: 'Ana', variables: { city: 'BH', plan_code: 'gold' } });
    expect(listed.map((c: any) => c.phone).sort()).toEqual([
      '+5531912340001',
      '+5531912340002',
      '+5531912340003',
    ]);

    const again = await api(
      'POST',
      '/imports',
      tokens.user2,
      'phone,name\n+5531912340002,Bruno Updated\n',
      'text/csv',
    );
    expect((await jobDone(tokens.user2, again.body.job_id)).result).toMatchObject({
      accepted: 1,
      created: 0,
      updated: 1,
    });
    // The other tenant's and the other user's contacts are untouched.
    expect((await api('GET', '/contacts?q=5531912340&per_page=10', tokens.user)).body.total).toBe(0);
  });

  it('fails a file without a phone column once (no retries), and refuses wrong types and sizes', async () => {
    const upload = await api('POST', '/imports', tokens.user2, 'name,city\nAna,BH\n', 'text/csv');
    const job = await jobDone(tokens.user2, upload.body.job_id);
    expect(job).toMatchObject({ state: 'failed', attempts: 1 });
    expect(job.error).toMatch(/no phone column/);
    expect((await api('GET', `/imports/${upload.body.id}`, tokens.user2)).body.status).toBe('failed');
    expect((await api('POST', '/imports', tokens.user2, { phone: '+5511999999999' })).status).toBe(415);
    expect((await api('POST', '/imports', tokens.user2, '   \n', 'text/csv')).status).toBe(400);
    const big = `phone\n${'+5511999999999\n'.repeat(6000)}`;
    const tooBig = await api('POST', '/imports', tokens.user2, big, 'text/csv');
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('payload_too_large');
  });
});

describe('reports', () => {
  it('computes delivery and usage reports in SQL and serves them as JSON and CSV', async () => {
    const people = await contacts(tokens.user2, 3);
    const created = await campaign(
      tokens.user2,
      people.map((p) => p.id),
    );
    await jobDone(tokens.user2, created.job_id);
    const asked = await api('POST', '/reports', tokens.user2, { kind: 'campaign_delivery' });
    expect(asked.status).toBe(202);
    await jobDone(tokens.user2, asked.body.job_id);
    const report = (await api('GET', `/reports/${asked.body.id}`, tokens.user2)).body;
    expect(report).toMatchObject({
      kind: 'campaign_delivery',
      scope: 'owner',
      status: 'completed',
      row_count: 1,
    });
    expect(report.rows[0]).toMatchObject({
      campaign_id: created.id,
      total: 3,
      sent: 3,
      failed: 0,
      delivery_rate: 1,
    });
    const csv = await api('GET', `/reports/${asked.body.id}?format=csv`, tokens.user2);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="?campaign_delivery-/);
    const lines = String(csv.body).trim().split('\n');
    expect(lines[0]).toBe(
      'campaign_id,name,status,total,sent,failed,cancelled,pending,delivery_rate,started_at,finished_at',
    );
    expect(lines[1]).toContain(`${created.id},`);

    // The admin's usage report covers the whole tenant, day by day.
    const usage = await api('POST', '/reports', tokens.admin, { kind: 'usage' });
    await jobDone(tokens.admin, usage.body.job_id);
    const days = (await api('GET', `/reports/${usage.body.id}`, tokens.admin)).body.rows;
    expect(days.length).toBeGreaterThanOrEqual(30);
    const sentInTenant = days.reduce((sum: number, day: any) => sum + day.messages_sent, 0);
    const state = await api('GET', '/campaigns?per_page=100', tokens.user);
    const expected =
      state.body.data.reduce((sum: number, c: any) => sum + c.sent, 0) +
      (await api('GET', '/campaigns?per_page=100', tokens.user2)).body.data.reduce(
        (s: number, c: any) => s + c.sent,
        0,
      );
    expect(sentInTenant).toBe(expected);

    const subs = await api('POST', '/reports', tokens.admin, { kind: 'subscriptions' });
    expect((await jobDone(tokens.admin, subs.body.job_id)).state).toBe('completed');
    expect((await api('GET', `/reports/${subs.body.id}`, tokens.admin)).body.columns).toContain('mrr_cents');
  });

  it('keeps reports to their owner and admins, and refuses bad requests', async () => {
    expect((await api('POST', '/reports', tokens.user, { kind: 'subscriptions' })).status).toBe(403);
    expect((await api('POST', '/reports', tokens.user, { kind: 'usage', scope: 'tenant' })).status).toBe(403);
    const period = await api('POST', '/reports', tokens.user, {
      kind: 'usage',
      from: '2026-01-10T00:00:00Z',
      to: '2026-01-01T00:00:00Z',
    });
    expect(period.status).toBe(400);
    expect(period.body.error.message).toMatch(/to: must be after from/);
    expect((await api('POST', '/reports', tokens.user, { kind: 'weather' })).status).toBe(400);
    const mine = await api('POST', '/reports', tokens.user, { kind: 'usage' });
    await jobDone(tokens.user, mine.body.job_id);
    expect((await api('GET', `/reports/${mine.body.id}`, tokens.user2)).status).toBe(404);
    expect((await api('GET', `/reports/${mine.body.id}`, tokens.otherTenant)).status).toBe(404);
    expect((await api('GET', `/reports/${mine.body.id}`, tokens.admin)).status).toBe(200);
  });
});

describe('worker failure and shutdown', () => {
  it('a killed queue worker’s campaign is finished by the restarted workers with no duplicate and no loss', async () => {
    const people = await contacts(tokens.admin, 60);
    const phones = people.map((p) => p.phone);
    const created = await campaign(
      tokens.admin,
      people.map((p) => p.id),
      { min_delay_ms: 40, max_delay_ms: 60 },
    );
    await waitFor(() => messagesTo(phones).length >= 10, 20_000, 'the campaign to be under way');
    const status = await statusJson(daemon.dataDir);
    const queuePids = status.children.filter((c) => c.role === 'queue').map((c) => c.pid as number);
    expect(queuePids).toHaveLength(2);
    for (const pid of queuePids) process.kill(pid, 'SIGKILL');
    const job = await jobDone(tokens.admin, created.job_id, 90_000);
    expect(job.state).toBe('completed');
    expect(await campaignState(tokens.admin, created.id)).toMatchObject({
      status: 'completed',
      sent: 60,
      failed: 0,
    });
    const received = messagesTo(phones);
    // One message per phone; a send cut off mid-call went out again with the same Id,
    // which the receiving side recognises (counted in `deliveries`, not a new message).
    expect(received).toHaveLength(60);
    expect(new Set(received.map((m) => m.phone)).size).toBe(60);
  });

  it('SIGTERM hands an active campaign back to the queue; after a restart it completes', async () => {
    const people = await contacts(tokens.admin, 40);
    const phones = people.map((p) => p.phone);
    const created = await campaign(
      tokens.admin,
      people.map((p) => p.id),
      { min_delay_ms: 100, max_delay_ms: 100 },
    );
    await waitFor(() => messagesTo(phones).length >= 5, 20_000, 'the campaign to be under way');
    const began = Date.now();
    const code = await daemon.stop();
    expect(code).toBe(0);
    expect(Date.now() - began).toBeLessThan(10_000);
    const sentBeforeRestart = messagesTo(phones).length;
    expect(sentBeforeRestart).toBeLessThan(40);

    daemon = await startDaemon({
      dataDir: daemon.dataDir,
      env: { ...embeddedEnv, WUZ_RATE_LIMIT: 'off' },
      apiWorkers: 1,
      queueWorkers: 1,
      args: ['--wuzapi-url', fake.url, '--job-lock', '2'],
    });
    const job = await jobDone(tokens.admin, created.job_id, 60_000);
    expect(job.state).toBe('completed');
    expect(messagesTo(phones)).toHaveLength(40);
    expect(await campaignState(tokens.admin, created.id)).toMatchObject({ status: 'completed', sent: 40 });
  });
});
