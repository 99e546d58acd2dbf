import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, type Job, UnrecoverableError, WaitingError } from 'bullmq';
import type pg from 'pg';
import * as campaigns from '../db/repositories/campaigns.ts';
import type { Logger } from '../logger.ts';
import type { JobData } from '../queues/index.ts';
import { type SecretBox, SecretUnreadableError } from '../security/secretBox.ts';
import { processMetrics } from '../telemetry/metrics.ts';
import { runPipeline } from './sendPipeline.ts';
import { SettleBatch } from './settleBatch.ts';
import { renderTemplate } from './template.ts';
import type { TenantSlots } from './tenantSlots.ts';
import type { SendOutcome, WuzapiClient } from './wuzapiClient.ts';

export interface CampaignWorkerDeps {
  pool: pg.Pool;
  log: Logger;
  /** Opens the campaign's session token (encrypted at rest). */
  box: SecretBox;
  wuzapi: WuzapiClient;
  slots: TenantSlots;
  /** Sends in flight at once for a campaign without pacing. */
  burst: number;
  /** The job lock's lifetime: a claim older than this belongs to a dead worker. */
  lockMs: number;
  /** Set when the process is shutting down: the job goes back to the queue after this send. */
  closing: { value: boolean };
  /** Retries of one message on a 5xx or timeout (3 attempts in all). */
  sendAttempts?: number;
  retryDelayMs?: number;
}

/** Pauses at least this long leave the worker (the job waits in the delayed set). */
const PARK_THRESHOLD_MS = 2000;
const PROGRESS_EVERY_MS = 250;
/** A settle batch is written at this many outcomes, or after SETTLE_MAX_WAIT_MS. */
const SETTLE_MAX_ITEMS = 128;
const SETTLE_MAX_WAIT_MS = 50;

export type CampaignResult = {
  outcome: 'completed' | 'paused' | 'cancelled' | 'superseded' | 'skipped';
  total: number;
  sent: number;
  failed: number;
  cancelled: number;
  pending: number;
};

/**
 * One campaign job: expands the audience once, then claims recipients and sends them
 * through WuzAPI with the campaign's pacing, until nothing is pending or the campaign is
 * paused or cancelled. Long pauses between sends park the job in the delayed set rather
 * than hold a worker slot; a shutting-down worker hands the job back to the queue.
 */
export function campaignProcessor(deps: CampaignWorkerDeps) {
  const { pool, log } = deps;
  const attempts = deps.sendAttempts ?? 3;
  const retryDelayMs = deps.retryDelayMs ?? 1000;

  return async (job: Job<JobData>, token?: string): Promise<CampaignResult> => {
    const { tenantId, subjectId: campaignId } = job.data;
    const jobId = String(job.id);
    const campaign = await campaigns
      .loadForWorker(pool, deps.box, tenantId, campaignId)
      .catch((error: unknown) => {
        // No retry reads a token this daemon has no key for: fail the campaign, saying why.
        throw error instanceof SecretUnreadableError ? new UnrecoverableError(error.message) : error;
      });
    if (!campaign || campaign.job_id !== jobId || !['scheduled', 'running'].includes(campaign.status)) {
      // Cancelled, paused, finished or resumed by a newer job while this one waited.
      return result('skipped', await campaigns.campaignCounters(pool, tenantId, campaignId));
    }
    const { template, session_token: sessionToken } = campaign;
    await campaigns.markRunning(pool, tenantId, campaignId, jobId);
    if (!campaign.expanded) await campaigns.expandRecipients(pool, tenantId, campaignId);

    if (!(await deps.slots.acquire(tenantId, jobId))) {
      // The tenant's campaign slots are taken: wait without spending an attempt.
      await job.moveToDelayed(Date.now() + 1000 + Math.floor(Math.random() * 1000), token);
      throw new DelayedError();
    }
    // Outcomes are written in batches (settleBatch.ts): paced campaigns flush after each
    // send, so their batches are of one.
    const batch = new SettleBatch({
      write: (settled) => campaigns.settleRecipients(pool, tenantId, campaignId, settled),
      maxItems: SETTLE_MAX_ITEMS,
      maxWaitMs: SETTLE_MAX_WAIT_MS,
    });
    let lostSession = false;
    /** No new send starts: shutting down, WuzAPI lost the session, or the campaign moved on. */
    const stopped = () =>
      deps.closing.value ||
      lostSession ||
      (batch.tally !== null && (batch.tally.status !== 'running' || batch.tally.job_id !== jobId));
    let lastProgress = 0;
    let reporting: Promise<void> | null = null;
    let lastLease = Date.now();
    const reportProgress = async (force = false) => {
      if (!force && Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = Date.now();
      if (force) {
        await reporting;
        await batch.flush();
      }
      // The last settle's counters when it is fresh; a query only when nothing settled yet.
      const counters = batch.tally ?? (await campaigns.campaignCounters(pool, tenantId, campaignId));
      if (counters) await job.updateProgress(progressOf(counters)).catch(() => {});
    };
    /** Between sends: keep the tenant's slot, report progress without holding up the sends. */
    const tick = async () => {
      if (batch.failure) throw batch.failure;
      if (Date.now() - lastLease > deps.lockMs / 3) {
        await deps.slots.acquire(tenantId, jobId);
        lastLease = Date.now();
      }
      // Progress is best effort: a failed report must not become an unhandled rejection.
      reporting ??= reportProgress()
        .catch(() => {})
        .finally(() => {
          reporting = null;
        });
    };
    try {
      await campaigns.reclaimStale(pool, tenantId, campaignId, deps.lockMs);
      const paced = campaign.max_delay_ms > 0;
      for (;;) {
        if (deps.closing.value) {
          await reportProgress(true);
          await job.moveToWait(token);
          throw new WaitingError();
        }
        if (!paced) {
          await runPipeline({
            burst: deps.burst,
            claim: (limit) => campaigns.claimRecipients(pool, tenantId, campaignId, jobId, limit),
            send: sendAndSettle,
            release: (rest) =>
              campaigns.releaseRecipients(
                pool,
                tenantId,
                campaignId,
                rest.map((r) => r.position),
              ),
            stopped,
            tick,
          });
          await batch.flush();
          lostSession = false; // the campaign is paused now: the next claim finds nothing
          if (deps.closing.value) continue;
        } else {
          await tick();
          const claimed = await campaigns.claimRecipients(pool, tenantId, campaignId, jobId, 1);
          if (claimed.length > 0) {
            for (const recipient of claimed) await sendAndSettle(recipient);
            await batch.flush();
            if (stopped()) continue; // the next claim sees the pause
            const delay =
              campaign.min_delay_ms +
              Math.floor(Math.random() * (campaign.max_delay_ms - campaign.min_delay_ms + 1));
            if (delay >= PARK_THRESHOLD_MS) {
              await reportProgress(true);
              await job.moveToDelayed(Date.now() + delay, token);
              throw new DelayedError();
            }
            await interruptibleSleep(delay, deps.closing);
            continue;
          }
        }
        const ended = await whyNothingClaimed(jobId);
        if (ended) {
          await reportProgress(true);
          return ended;
        }
      }
    } finally {
      await reporting;
      await deps.slots.release(tenantId, jobId).catch(() => {});
    }

    /** Sends one recipient and queues its outcome; "No session" pauses the campaign. */
    async function sendAndSettle(recipient: campaigns.Recipient): Promise<void> {
      const { kind, settlement } = await sendOne(recipient);
      batch.add({ position: recipient.position, ...settlement });
      if (kind !== 'no_session' || lostSession) return;
      lostSession = true;
      // Not this recipient's fault: it goes back to pending, and the campaign pauses.
      await batch.flush().catch(() => {}); // a failed write is batch.failure, thrown by tick()
      await campaigns
        .pauseWithError(
          pool,
          tenantId,
          campaignId,
          'WuzAPI has no session for this token (disconnected): resume once it is connected',
        )
        .catch((error: unknown) => {
          batch.failure ??= error;
        });
      log.warn({ campaignId, tenantId }, 'WuzAPI session disconnected; campaign paused');
    }

    /** Nothing left to claim: finished, stopped, or another send still settling. */
    async function whyNothingClaimed(ownJobId: string): Promise<CampaignResult | null> {
      const finished = await campaigns.completeIfDone(pool, tenantId, campaignId, ownJobId);
      if (finished) {
        const counters = await campaigns.campaignCounters(pool, tenantId, campaignId);
        processMetrics().campaignsFinished.inc({ outcome: finished.outcome });
        const details = { campaignId, tenantId, ...progressOf(counters) };
        if (finished.outcome === 'failed') {
          log.warn({ ...details, reason: finished.error }, 'campaign failed: no message was delivered');
          // The job fails too (wuzctl jobs, the job status): the campaign row says why already.
          throw new UnrecoverableError(finished.error ?? 'no message was delivered');
        }
        if (finished.outcome === 'partial') log.warn(details, 'campaign completed with failed messages');
        else log.info(details, 'campaign completed');
        return result('completed', counters);
      }
      const counters = await campaigns.campaignCounters(pool, tenantId, campaignId);
      if (!counters) return result('skipped', null);
      if (counters.job_id !== ownJobId) return result('superseded', counters);
      if (counters.status === 'paused') return result('paused', counters);
      if (counters.status !== 'running')
        return result(counters.status === 'cancelled' ? 'cancelled' : 'skipped', counters);
      // A claim of an earlier run of this job is still open (its worker died or is slow):
      // wait, and take it back once it is older than the job lock.
      await sleep(Math.min(500, deps.lockMs / 4));
      await campaigns.reclaimStale(pool, tenantId, campaignId, deps.lockMs);
      return null;
    }

    async function sendOne(
      recipient: campaigns.Recipient,
    ): Promise<{ kind: SendOutcome['kind']; settlement: campaigns.Settlement }> {
      const body = renderTemplate(template, recipient);
      let tries = recipient.attempts;
      let outcome: SendOutcome = { kind: 'retryable', error: 'not sent' };
      for (let attempt = 1; attempt <= attempts; attempt++) {
        tries += 1;
        outcome = await deps.wuzapi.sendText({
          token: sessionToken,
          phone: recipient.phone,
          body,
          id: recipient.message_id,
        });
        if (outcome.kind !== 'retryable' || attempt === attempts || deps.closing.value) break;
        await sleep(retryDelayMs * 2 ** (attempt - 1));
      }
      return { kind: outcome.kind, settlement: settlementOf(outcome, tries, deps.closing.value) };
    }
  };
}

/** What a send's outcome makes of its recipient (`tries`: attempts including this run's). */
function settlementOf(outcome: SendOutcome, tries: number, closing: boolean): campaigns.Settlement {
  switch (outcome.kind) {
    case 'sent':
      return { status: 'sent', attempts: tries };
    case 'rejected':
      return { status: 'failed', attempts: tries, error: outcome.error };
    case 'no_session':
      // Not this recipient's fault: back to pending, this run's attempt not counted.
      return { status: 'pending', attempts: tries - 1, error: outcome.error };
    case 'retryable':
      // Shutting down mid-retry: leave it to the next run, same message Id.
      return closing
        ? { status: 'pending', attempts: tries, error: outcome.error }
        : { status: 'failed', attempts: tries, error: outcome.error };
  }
}

function progressOf(counters: Omit<campaigns.Counters, 'in_flight'> | null) {
  return {
    total: counters?.total ?? 0,
    sent: counters?.sent ?? 0,
    failed: counters?.failed ?? 0,
    cancelled: counters?.cancelled ?? 0,
    pending: counters?.pending ?? 0,
  };
}

function result(outcome: CampaignResult['outcome'], counters: campaigns.Counters | null): CampaignResult {
  return { outcome, ...progressOf(counters) };
}

async function interruptibleSleep(ms: number, closing: { value: boolean }): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !closing.value) await sleep(Math.min(100, until - Date.now()));
}
