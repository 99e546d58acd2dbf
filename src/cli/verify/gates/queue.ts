import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { ApiClient, round } from '../http.ts';
import { contactIds, type FakeMessage, fakeMessages, waitForJob } from '../workload.ts';

/**
 * Gate `queue`: the whole background path against a fake WuzAPI. A generated CSV of N
 * contacts (plus known bad rows) is imported; a campaign to all of them with no pacing is
 * enqueued — the call must return within the threshold, whatever N — and must reach the
 * fake as exactly one correctly rendered message per contact; a delivery report must then
 * say so. Figures: the enqueue latency (the threshold) and messages/s end to end.
 */
const settings = z
  .object({
    /** Milliseconds the campaign's POST may take. */
    threshold: z.number().positive().max(100),
    recipients: z.number().int().min(10).max(100_000),
    /** Campaigns the recipients are split over, each sent by another demo tenant. */
    campaigns: z.number().int().min(1).max(50),
    /** The fake WuzAPI answers each send after this long (a real one takes 100s of ms). */
    wuzapiLatencyMs: z.number().int().min(0).max(10_000),
    /** Messages/s end to end below this fail the gate (a stuck or crawling worker). */
    minMessagesPerSecond: z.number().min(0),
    /** How long the jobs may take in all. */
    timeoutSeconds: z.number().int().min(10).max(3600),
  })
  .strict();

export type QueueGateSettings = z.infer<typeof settings>;

export const queueGate: Gate<QueueGateSettings> = {
  name: 'queue',
  description: 'campaign, import and report jobs end to end: quick enqueue, one message per recipient',
  unit: 'ms to enqueue',
  direction: 'max',
  settings,
  defaults: {
    threshold: 100,
    recipients: 1000,
    campaigns: 1,
    wuzapiLatencyMs: 0,
    minMessagesPerSecond: 20,
    timeoutSeconds: 600,
  },
  daemonEnv: { WUZ_RATE_LIMIT: 'off' },
  needsFakeWuzapi: true,
  run: runQueueGate,
};

// Bad rows the CSV always carries, and the reason the import must give for each.
const BAD_ROWS: Array<{ row: string; reason: string }> = [
  { row: 'not-a-phone,Bad Phone,Nowhere', reason: 'invalid phone (not E.164)' },
  { row: ',No Phone,Nowhere', reason: 'missing phone' },
  { row: '+12,Too Short,Nowhere', reason: 'invalid phone (not E.164)' },
];

interface Person {
  phone: string;
  name: string;
  city: string;
  slice: number;
}

async function runQueueGate(context: GateContext, s: QueueGateSettings): Promise<GateResult> {
  if (!context.fakeWuzapi) {
    throw new GateCannotRun(
      'the queue gate needs the fake WuzAPI the daemon sends through',
      'run it without --url, or start `wuzctl fake-wuzapi`, point the daemon at it (WUZAPI_URL) and pass --wuzapi URL',
    );
  }
  const fakeUrl = context.fakeWuzapi;
  // One campaign per slice, each by a user of another tenant: several campaigns are what
  // several queue workers can share (one campaign is one paced stream of one session).
  const senders = context.tenants
    .map((tenant) => tenant.user_tokens[0])
    .filter((t): t is string => Boolean(t));
  if (senders.length === 0)
    throw new GateCannotRun('no demo tenant to run as', 'seed one: wuzctl seed --demo');
  const slices = Math.min(s.campaigns, senders.length);
  const client = new ApiClient(context.url, 4 * slices);
  const problems: string[] = [];
  try {
    await setFakeLatency(fakeUrl, s.wuzapiLatencyMs).catch((error: Error) => {
      throw new GateCannotRun(`the fake WuzAPI at ${fakeUrl} does not answer: ${error.message}`);
    });
    // Phones unique to this run, so a shared fake or earlier runs cannot blur the count.
    const prefix = `+5599${String(randomInt(100_000, 999_999))}`;
    const people: Person[] = Array.from({ length: s.recipients }, (_, i) => ({
      phone: `${prefix}${String(i).padStart(5, '0')}`,
      name: `Person ${i}`,
      city: `City ${i % 17}`,
      slice: i % slices,
    }));
    const deadline = Date.now() + s.timeoutSeconds * 1000;
    const expectedReasons: Record<string, number> = {};
    for (const bad of BAD_ROWS) expectedReasons[bad.reason] = (expectedReasons[bad.reason] ?? 0) + 1;

    // 1. Imports: each sender imports its slice; the first file also carries the bad rows.
    context.progress(
      `importing ${s.recipients} contacts in ${slices} file(s) (+${BAD_ROWS.length} bad rows)`,
    );
    const imported = { accepted: 0, rejected: 0, reasons: {} as Record<string, number> };
    await Promise.all(
      Array.from({ length: slices }, async (_, slice) => {
        const token = senders[slice] as string;
        const rows = people.filter((p) => p.slice === slice).map((p) => `${p.phone},${p.name},${p.city}`);
        const csv = ['phone,name,city', ...rows, ...(slice === 0 ? BAD_ROWS.map((b) => b.row) : [])];
        const upload = await client.request('POST', '/api/imports?filename=verify.csv', token, undefined, {
          text: `${csv.join('\n')}\n`,
          type: 'text/csv',
        });
        if (upload.status !== 202) {
          throw new GateCannotRun(
            `POST /api/imports answered ${upload.status}: ${JSON.stringify(upload.body)}`,
          );
        }
        const body = upload.body as { id: string; job_id: string };
        const job = await waitForJob(client, token, body.job_id, deadline);
        if (job.state !== 'completed') problems.push(`import job ${job.state}: ${job.error ?? ''}`);
        const result = (await client.request('GET', `/api/imports/${body.id}`, token)).body as {
          accepted: number;
          rejected: number;
          rejected_by_reason: Record<string, number>;
        };
        imported.accepted += result.accepted;
        imported.rejected += result.rejected;
        for (const [reason, n] of Object.entries(result.rejected_by_reason)) {
          imported.reasons[reason] = (imported.reasons[reason] ?? 0) + n;
        }
      }),
    );
    if (imported.accepted !== s.recipients)
      problems.push(`import accepted ${imported.accepted}, expected ${s.recipients}`);
    if (JSON.stringify(sortKeys(imported.reasons)) !== JSON.stringify(sortKeys(expectedReasons))) {
      problems.push(
        `import rejected ${JSON.stringify(imported.reasons)}, expected ${JSON.stringify(expectedReasons)}`,
      );
    }

    // 2. The campaigns, addressed by contact ids as a client would; each POST is timed.
    const idsBySlice = await Promise.all(
      Array.from({ length: slices }, (_, slice) =>
        contactIds(client, senders[slice] as string, prefix, people.filter((p) => p.slice === slice).length),
      ),
    );
    for (const token of senders.slice(0, slices))
      await client.request('GET', '/api/campaigns?per_page=1', token);
    context.progress(`enqueueing ${slices} campaign(s), ${s.recipients} recipients in all`);
    // One after another, as one client would: the figure is the route's latency, not a queue
    // of our own concurrent uploads.
    const began = Date.now();
    const enqueued: Awaited<ReturnType<ApiClient['request']>>[] = [];
    for (const [slice, ids] of idsBySlice.entries()) {
      enqueued.push(
        await client.request('POST', '/api/campaigns', senders[slice] as string, {
          name: `verify ${prefix} #${slice + 1}`,
          template: 'Hello {{name}} from {{city|somewhere}}!',
          audience: { contact_ids: ids },
          session_token: `verify-session-${slice + 1}`,
          min_delay_ms: 0,
          max_delay_ms: 0,
        }),
      );
    }
    for (const answer of enqueued) {
      if (answer.status !== 202) {
        throw new GateCannotRun(
          `POST /api/campaigns answered ${answer.status}: ${JSON.stringify(answer.body)}`,
        );
      }
    }
    const campaigns = enqueued.map((answer) => answer.body as { id: string; job_id: string });
    const jobs = await Promise.all(
      campaigns.map((campaign, slice) =>
        waitForJob(client, senders[slice] as string, campaign.job_id, deadline, (p) =>
          context.progress(`campaign ${slice + 1}: ${p.sent ?? 0}/${p.total ?? '?'} sent`),
        ),
      ),
    );
    for (const job of jobs)
      if (job.state !== 'completed') problems.push(`campaign job ${job.state}: ${job.error ?? ''}`);

    // 3. What the fake WuzAPI received: one message per recipient, rendered.
    const received = (await fakeMessages(fakeUrl)).filter((m) => m.phone.startsWith(prefix.slice(1)));
    const byPhone = new Map<string, FakeMessage[]>();
    for (const message of received)
      byPhone.set(message.phone, [...(byPhone.get(message.phone) ?? []), message]);
    let missing = 0;
    let duplicated = 0;
    let wrongBody = 0;
    for (const person of people) {
      const got = byPhone.get(person.phone.slice(1)) ?? [];
      if (got.length === 0) missing++;
      if (got.length > 1) duplicated++;
      if (got.length > 0 && got[0]?.body !== `Hello ${person.name} from ${person.city}!`) wrongBody++;
    }
    if (missing) problems.push(`${missing} recipients received nothing`);
    if (duplicated) problems.push(`${duplicated} recipients received more than one message`);
    if (wrongBody) problems.push(`${wrongBody} messages with a wrong body`);
    const lastAt = Math.max(...received.map((m) => m.receivedAt));
    const seconds = received.length > 0 ? (lastAt - began) / 1000 : null;
    const perSecond = seconds && seconds > 0 ? received.length / seconds : null;
    if (perSecond !== null && perSecond < s.minMessagesPerSecond) {
      problems.push(`${round(perSecond, 1)} messages/s, below ${s.minMessagesPerSecond}`);
    }

    // 4. Each sender's delivery report, as JSON and as CSV.
    const reportRows = await Promise.all(
      campaigns.map(async (campaign, slice) => {
        const token = senders[slice] as string;
        const asked = await client.request('POST', '/api/reports', token, { kind: 'campaign_delivery' });
        const { id, job_id } = asked.body as { id: string; job_id: string };
        const job = await waitForJob(client, token, job_id, deadline);
        if (job.state !== 'completed') problems.push(`report job ${job.state}`);
        const report = (await client.request('GET', `/api/reports/${id}`, token)).body as {
          rows?: Array<{ campaign_id: string; total: number; sent: number; failed: number }>;
        };
        const row = report.rows?.find((r) => r.campaign_id === campaign.id);
        const expected = idsBySlice[slice]?.length;
        if (!row || row.total !== expected || row.sent !== expected || row.failed !== 0) {
          problems.push(`report row ${JSON.stringify(row ?? null)}, expected ${expected} sent`);
        }
        const csv = await client.request('GET', `/api/reports/${id}?format=csv`, token);
        if (csv.status !== 200 || !String(csv.body).includes(campaign.id))
          problems.push('report CSV misses the campaign');
        return row ?? null;
      }),
    );

    const figure = round(Math.max(...enqueued.map((answer) => answer.ms)), 1) as number;
    return {
      gate: 'queue',
      pass: figure < s.threshold && problems.length === 0,
      figure,
      threshold: s.threshold,
      unit: 'ms to enqueue',
      details: {
        recipients: s.recipients,
        campaigns: slices,
        enqueue_ms: enqueued.map((answer) => round(answer.ms, 1)),
        messages_per_second: round(perSecond, 1),
        end_to_end_seconds: round(seconds, 2),
        messages_received: received.length,
        resent_same_id: received.reduce((sum, m) => sum + m.deliveries - 1, 0),
        missing,
        duplicated,
        wrong_body: wrongBody,
        wuzapi_latency_ms: s.wuzapiLatencyMs,
        import: imported,
        report_rows: reportRows,
        problems,
      },
    };
  } finally {
    client.close();
    await setFakeLatency(fakeUrl, 0).catch(() => {});
  }
}

async function setFakeLatency(url: string, latencyMs: number): Promise<void> {
  const response = await fetch(`${url}/_fake/behaviour`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ latencyMs }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`POST /_fake/behaviour answered ${response.status}`);
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
