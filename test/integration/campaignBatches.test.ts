import { randomBytes, randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/daemon/db/migrate.ts';
import { createPool } from '../../src/daemon/db/pool.ts';
import * as campaigns from '../../src/daemon/db/repositories/campaigns.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import type { JobData } from '../../src/daemon/queues/index.ts';
import { SecretBox } from '../../src/daemon/security/secretBox.ts';
import { campaignProcessor } from '../../src/daemon/workers/campaignWorker.ts';
import type { TenantSlots } from '../../src/daemon/workers/tenantSlots.ts';
import type { SendOutcome, SendRequest, WuzapiClient } from '../../src/daemon/workers/wuzapiClient.ts';
import { createOwner, createTestDatabase, type TestDatabase } from '../helpers/external.ts';

// The campaign worker's batched statements and its pipeline, against a PostgreSQL database
// of this file's own and a stand-in WuzAPI client that records what it is asked to send
// and how many sends it had in flight at once. No daemon, no Redis: the job and the
// tenant slots are stubs. (The client is handed phones as stored, with their `+`.)

let database: TestDatabase;
let pool: pg.Pool;
const box = new SecretBox({ current: randomBytes(32), previous: [], source: 'data dir' });
const owner = { tenantId: '', userId: '' };
let phoneSeq = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url, 4);
  await migrate(pool);
  Object.assign(owner, await createOwner(pool, `batches-${randomUUID().slice(0, 8)}`));
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** A running campaign to `n` new contacts, expanded, owned by job `jobId`. */
async function runningCampaign(n: number, jobId = randomUUID()) {
  const phones = Array.from({ length: n }, () => `+5531${String(800_000_000 + phoneSeq++).padStart(9, '0')}`);
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO contacts (tenant_id, owner_id, phone, name)
     SELECT $1, $2, p, 'Person ' || ord FROM unnest($3::text[]) WITH ORDINALITY AS a(p, ord) RETURNING id`,
    [owner.tenantId, owner.userId, phones],
  );
  const created = await campaigns.insertCampaign(pool, box, owner, {
    name: 'batches',
    template: 'Hi {{name}}',
    audience: { contact_ids: rows.map((r) => r.id) },
    session_token: 'session-token',
    min_delay_ms: 0,
    max_delay_ms: 0,
    scheduled_at: null,
    status: 'scheduled',
    job_id: jobId,
  });
  await campaigns.markRunning(pool, owner.tenantId, created.id, jobId);
  await campaigns.expandRecipients(pool, owner.tenantId, created.id);
  return { id: created.id, jobId, phones };
}

async function recipients(campaignId: string) {
  const { rows } = await pool.query(
    `SELECT position, phone, status, attempts, error, sent_at, message_id FROM campaign_recipients
      WHERE campaign_id = $1 ORDER BY position`,
    [campaignId],
  );
  return rows;
}

async function counters(campaignId: string) {
  return campaigns.campaignCounters(pool, owner.tenantId, campaignId);
}

/** Records every send and the most sends in flight at once; `answer` decides each outcome. */
function recordingClient(
  answer: (request: SendRequest, index: number) => SendOutcome | Promise<SendOutcome>,
) {
  const sent: SendRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client: WuzapiClient = {
    async sendText(request) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const index = sent.push(request) - 1;
      try {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return await answer(request, index);
      } finally {
        inFlight--;
      }
    },
  };
  return { client, sent, maxInFlight: () => maxInFlight };
}

function stubJob(campaignId: string, jobId: string) {
  const progress: unknown[] = [];
  const job = {
    id: jobId,
    data: { tenantId: owner.tenantId, ownerId: owner.userId, subjectId: campaignId },
    updateProgress: async (value: unknown) => {
      progress.push(value);
    },
    moveToWait: async () => {},
    moveToDelayed: async () => {},
  } as unknown as Job<JobData>;
  return { job, progress };
}

const slots = { acquire: async () => true, release: async () => {} } as unknown as TenantSlots;

function processor(wuzapi: WuzapiClient, burst: number, closing = { value: false }) {
  return campaignProcessor({
    pool,
    log: createLogger('queue', 'silent'),
    box,
    wuzapi,
    slots,
    burst,
    lockMs: 30_000,
    closing,
    sendAttempts: 2,
    retryDelayMs: 1,
  });
}

describe('batched settle', () => {
  it('settles each recipient of a batch with its own status, attempts and error, and counts each once', async () => {
    const campaign = await runningCampaign(5);
    const claimed = await campaigns.claimRecipients(pool, owner.tenantId, campaign.id, campaign.jobId, 5);
    expect(claimed.map((r) => r.position)).toEqual([0, 1, 2, 3, 4]);
    const batch: campaigns.Settled[] = [
      { position: 0, status: 'sent', attempts: 1 },
      { position: 1, status: 'failed', attempts: 1, error: 'WuzAPI 400: phone is not on WhatsApp' },
      { position: 2, status: 'sent', attempts: 3 },
      { position: 3, status: 'failed', attempts: 3, error: 'WuzAPI 500: it\'s down, "really"' },
      { position: 4, status: 'pending', attempts: 0, error: 'WuzAPI 500: No session' },
    ];
    const tally = await campaigns.settleRecipients(pool, owner.tenantId, campaign.id, batch);
    expect(tally).toMatchObject({ status: 'running', job_id: campaign.jobId, total: 5, sent: 2, failed: 2 });
    const rows = await recipients(campaign.id);
    expect(rows.map(({ status, attempts, error }) => ({ status, attempts, error }))).toEqual([
      { status: 'sent', attempts: 1, error: null },
      { status: 'failed', attempts: 1, error: 'WuzAPI 400: phone is not on WhatsApp' },
      { status: 'sent', attempts: 3, error: null },
      { status: 'failed', attempts: 3, error: 'WuzAPI 500: it\'s down, "really"' },
      { status: 'pending', attempts: 0, error: 'WuzAPI 500: No session' },
    ]);
    expect(rows.map((r) => r.sent_at !== null)).toEqual([true, false, true, false, false]);

    // The same batch again (a late duplicate): those rows are no longer `sending`, nothing moves.
    const again = await campaigns.settleRecipients(pool, owner.tenantId, campaign.id, batch);
    expect(again).toMatchObject({ sent: 2, failed: 2 });
  });

  it('gives back claimed but unsent recipients: pending while running, cancelled and counted after a cancel', async () => {
    const campaign = await runningCampaign(6);
    await campaigns.claimRecipients(pool, owner.tenantId, campaign.id, campaign.jobId, 6);
    await campaigns.releaseRecipients(pool, owner.tenantId, campaign.id, [0, 1, 2]);
    expect((await recipients(campaign.id)).map((r) => r.status)).toEqual([
      'pending',
      'pending',
      'pending',
      'sending',
      'sending',
      'sending',
    ]);
    await pool.query(`UPDATE campaigns SET status = 'cancelled' WHERE id = $1`, [campaign.id]);
    await campaigns.cancelPendingRecipients(pool, owner.tenantId, campaign.id);
    await campaigns.releaseRecipients(pool, owner.tenantId, campaign.id, [3, 4, 5]);
    expect((await recipients(campaign.id)).every((r) => r.status === 'cancelled')).toBe(true);
    expect(await counters(campaign.id)).toMatchObject({ cancelled: 6, pending: 0, in_flight: 0 });
  });
});

describe('the send pipeline', () => {
  it('sends every recipient once with its own message Id, never more than `burst` at a time', async () => {
    const campaign = await runningCampaign(300);
    const rejected = new Set(campaign.phones.slice(10, 13));
    const wuzapi = recordingClient((request) =>
      rejected.has(request.phone)
        ? { kind: 'rejected', status: 400, error: 'WuzAPI 400: phone is not on WhatsApp' }
        : { kind: 'sent', id: request.id },
    );
    const { job, progress } = stubJob(campaign.id, campaign.jobId);
    const result = await processor(wuzapi.client, 5)(job);

    expect(result).toMatchObject({ outcome: 'completed', total: 300, sent: 297, failed: 3, pending: 0 });
    expect(wuzapi.sent).toHaveLength(300);
    expect(new Set(wuzapi.sent.map((s) => s.phone)).size).toBe(300);
    expect(wuzapi.maxInFlight()).toBeLessThanOrEqual(5);
    expect(wuzapi.maxInFlight()).toBeGreaterThan(1);
    const rows = await recipients(campaign.id);
    const idOf = new Map(rows.map((r) => [r.phone, r.message_id]));
    expect(wuzapi.sent.every((s) => idOf.get(s.phone) === s.id)).toBe(true);
    expect(rows.filter((r) => r.status === 'failed').map((r) => r.phone)).toEqual([...rejected]);
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ total: 300, sent: 297, failed: 3 });
  });

  it('retries a 5xx with the same Id and records the attempts; fails it after the last one', async () => {
    const campaign = await runningCampaign(20);
    const flaky = campaign.phones[3];
    const broken = campaign.phones[7];
    const seen = new Map<string, number>();
    const wuzapi = recordingClient((request) => {
      const count = (seen.get(request.phone) ?? 0) + 1;
      seen.set(request.phone, count);
      if (request.phone === broken) return { kind: 'retryable', error: 'WuzAPI 500: failed to send message' };
      if (request.phone === flaky && count === 1)
        return { kind: 'retryable', error: 'WuzAPI 502: bad gateway' };
      return { kind: 'sent', id: request.id };
    });
    const { job } = stubJob(campaign.id, campaign.jobId);
    const result = await processor(wuzapi.client, 4)(job);
    expect(result).toMatchObject({ outcome: 'completed', sent: 19, failed: 1 });
    const rows = await recipients(campaign.id);
    expect(rows[3]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(rows[7]).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: 'WuzAPI 500: failed to send message',
    });
    const ids = wuzapi.sent.filter((s) => s.phone === flaky).map((s) => s.id);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
  });

  it('a pause mid-campaign stops the sends; what was claimed but not sent goes back to pending', async () => {
    const campaign = await runningCampaign(400);
    const wuzapi = recordingClient(async (request, index) => {
      if (index === 50)
        await pool.query(`UPDATE campaigns SET status = 'paused' WHERE id = $1`, [campaign.id]);
      return { kind: 'sent', id: request.id };
    });
    const { job } = stubJob(campaign.id, campaign.jobId);
    const result = await processor(wuzapi.client, 4)(job);
    expect(result.outcome).toBe('paused');
    const rows = await recipients(campaign.id);
    expect(rows.filter((r) => r.status === 'sending')).toHaveLength(0);
    const sent = rows.filter((r) => r.status === 'sent').length;
    expect(sent).toBe(wuzapi.sent.length);
    expect(sent).toBeLessThan(400);
    expect(rows.filter((r) => r.status === 'pending')).toHaveLength(400 - sent);
    expect(await counters(campaign.id)).toMatchObject({ sent, pending: 400 - sent, in_flight: 0 });
  });

  it('"No session" pauses the campaign without failing anyone; shutdown leaves nothing claimed', async () => {
    const campaign = await runningCampaign(40);
    const lost = recordingClient((_request, index) =>
      index >= 10
        ? { kind: 'no_session', error: 'WuzAPI 500: No session' }
        : { kind: 'sent', id: _request.id },
    );
    const { job } = stubJob(campaign.id, campaign.jobId);
    const result = await processor(lost.client, 4)(job);
    expect(result.outcome).toBe('paused');
    expect(await counters(campaign.id)).toMatchObject({ status: 'paused', failed: 0, in_flight: 0 });
    const rows = await recipients(campaign.id);
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(10);
    expect(rows.filter((r) => r.status === 'pending')).toHaveLength(30);

    // Shutting down mid-campaign: the job goes back to the queue, no recipient stays `sending`.
    const next = await runningCampaign(300);
    const closing = { value: false };
    const slow = recordingClient((request, index) => {
      if (index === 30) closing.value = true;
      return { kind: 'sent', id: request.id };
    });
    const handedBack = processor(slow.client, 4, closing)(stubJob(next.id, next.jobId).job);
    await expect(handedBack).rejects.toThrow();
    const after = await recipients(next.id);
    expect(after.filter((r) => r.status === 'sending')).toHaveLength(0);
    expect(after.filter((r) => r.status === 'sent')).toHaveLength(slow.sent.length);
  });
});
