import type pg from 'pg';
import {
  CAMPAIGN_ACTIONS,
  type CampaignAction,
  type CampaignStatus,
  WORKER_MOVES,
} from '../../queues/campaignLifecycle.ts';
import { type SecretBox, secretContext } from '../../security/secretBox.ts';
import { pageWithTotal, type Queryable } from '../queryable.ts';
import { listOwned, newestFirst, type Owner } from './owned.ts';

/**
 * Campaigns and their recipients. Every statement is scoped by tenant (and, for the
 * API, by owner). The worker's statements are the idempotency record: a recipient is
 * claimed (pending → sending) before WuzAPI is called and settled afterwards.
 */
export type { CampaignStatus };

export type Audience = { contact_ids: string[] } | { filter: { q?: string } };

export interface NewCampaign {
  name: string;
  template: string;
  audience: Audience;
  session_token: string;
  min_delay_ms: number;
  max_delay_ms: number;
  scheduled_at: Date | null;
  status: 'draft' | 'scheduled' | 'running';
  job_id: string | null;
}

// The session token is a secret: only its last 4 characters leave the database.
const COLUMNS = `id, name, template, status, scheduled_at, min_delay_ms, max_delay_ms,
  '…' || session_token_last4 AS session_token_hint,
  CASE WHEN audience ? 'contact_ids' THEN jsonb_build_object('contact_ids', jsonb_array_length(audience->'contact_ids'))
       ELSE audience END AS audience,
  total, sent, failed, cancelled, greatest(total - sent - failed - cancelled, 0) AS pending,
  CASE WHEN status = 'failed' THEN 'failed'
       WHEN status = 'completed' AND failed > 0 THEN 'partial'
       WHEN status = 'completed' THEN 'delivered' END AS outcome,
  job_id, error, created_at, updated_at, started_at, finished_at`;

export interface CampaignRow {
  id: string;
  status: CampaignStatus;
  total: number;
  sent: number;
  failed: number;
  cancelled: number;
  pending: number;
  job_id: string | null;
  [key: string]: unknown;
}

/** The session token is stored encrypted (SecretBox), bound to the campaign's tenant. */
export async function insertCampaign(
  db: Queryable,
  box: SecretBox,
  owner: Owner,
  campaign: NewCampaign,
): Promise<CampaignRow> {
  const { rows } = await db.query(
    `INSERT INTO campaigns (tenant_id, owner_id, name, template, audience, session_token, min_delay_ms,
                            max_delay_ms, scheduled_at, status, job_id, session_token_last4)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
    [
      owner.tenantId,
      owner.userId,
      campaign.name,
      campaign.template,
      JSON.stringify(campaign.audience),
      box.seal(campaign.session_token, secretContext('campaign.session_token', owner.tenantId)),
      campaign.min_delay_ms,
      campaign.max_delay_ms,
      campaign.scheduled_at,
      campaign.status,
      campaign.job_id,
      campaign.session_token.slice(-4),
    ],
  );
  return rows[0] as CampaignRow;
}

/** Undoes a create whose job Redis refused (nothing was sent: the job never existed). */
export async function deleteCampaign(db: Queryable, owner: Owner, id: string): Promise<void> {
  await db.query('DELETE FROM campaigns WHERE tenant_id = $1 AND owner_id = $2 AND id = $3', [
    owner.tenantId,
    owner.userId,
    id,
  ]);
}

export async function listRecipients(
  db: Queryable,
  owner: Owner,
  campaignId: string,
  status: string | undefined,
  page: { limit: number; offset: number },
): Promise<{ rows: unknown[]; total: number }> {
  // The campaign was found as the owner's by the route; tenant_id still scopes every row.
  const { rows } = await db.query(
    `SELECT position, contact_id, phone, name, status, attempts, message_id, sent_at, error,
            count(*) OVER ()::int AS total_count
       FROM campaign_recipients WHERE tenant_id = $1 AND campaign_id = $2 AND ($3::text IS NULL OR status = $3)
      ORDER BY position LIMIT $4 OFFSET $5`,
    [owner.tenantId, campaignId, status ?? null, page.limit, page.offset],
  );
  return pageWithTotal(rows);
}

export async function findCampaign(db: Queryable, owner: Owner, id: string): Promise<CampaignRow | null> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM campaigns WHERE tenant_id = $1 AND owner_id = $2 AND id = $3`,
    [owner.tenantId, owner.userId, id],
  );
  return (rows[0] as CampaignRow) ?? null;
}

const campaignList = newestFirst('campaigns', COLUMNS);

export const listCampaigns = (
  db: Queryable,
  owner: Owner,
  status: CampaignStatus | undefined,
  page: { limit: number; offset: number },
) =>
  listOwned<CampaignRow>(
    db,
    campaignList,
    owner,
    status ? [{ sql: 'status = $?', value: status }] : [],
    page,
  );

/**
 * Moves a campaign from one of `from` to `to` and points it at `jobId` (when given);
 * null when the campaign is not the caller's or not in a state that allows the move.
 */
export async function transitionCampaign(
  db: Queryable,
  owner: Owner,
  id: string,
  from: CampaignStatus[],
  to: CampaignStatus,
  jobId?: string | null,
): Promise<CampaignRow | null> {
  const { rows } = await db.query(
    `UPDATE campaigns SET status = $4, job_id = CASE WHEN $5::boolean THEN $6::uuid ELSE job_id END,
            error = CASE WHEN $4 IN ('running', 'scheduled') THEN NULL ELSE error END,
            finished_at = CASE WHEN $4 IN ('cancelled', 'completed', 'failed') THEN now() ELSE finished_at END,
            updated_at = now()
      WHERE tenant_id = $1 AND owner_id = $2 AND id = $3 AND status = ANY($7::text[])
      RETURNING ${COLUMNS}`,
    [owner.tenantId, owner.userId, id, to, jobId !== undefined, jobId ?? null, from],
  );
  return (rows[0] as CampaignRow) ?? null;
}

/** A user's action (start, resume, pause, cancel), with its moves from the lifecycle table. */
export function applyAction(
  db: Queryable,
  owner: Owner,
  id: string,
  action: CampaignAction,
  jobId?: string | null,
): Promise<CampaignRow | null> {
  const { from, to } = CAMPAIGN_ACTIONS[action];
  return transitionCampaign(db, owner, id, [...from], to, jobId);
}

/** Cancels the recipients not yet claimed, and counts them on the campaign. */
export async function cancelPendingRecipients(
  db: Queryable,
  tenantId: string,
  campaignId: string,
): Promise<void> {
  await db.query(
    `WITH c AS (UPDATE campaign_recipients SET status = 'cancelled'
                 WHERE campaign_id = $2 AND tenant_id = $1 AND status = 'pending' RETURNING 1)
     UPDATE campaigns SET cancelled = cancelled + (SELECT count(*) FROM c), updated_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, campaignId],
  );
}

// ---- The worker's side -------------------------------------------------------------

export interface WorkerCampaign {
  id: string;
  tenant_id: string;
  owner_id: string;
  template: string;
  session_token: string;
  status: CampaignStatus;
  min_delay_ms: number;
  max_delay_ms: number;
  expanded: boolean;
  job_id: string | null;
}

/** The campaign as its job needs it, the session token decrypted. */
export async function loadForWorker(
  db: Queryable,
  box: SecretBox,
  tenantId: string,
  id: string,
): Promise<WorkerCampaign | null> {
  const { rows } = await db.query(
    `SELECT id, tenant_id, owner_id, template, session_token, status, min_delay_ms, max_delay_ms, expanded, job_id
       FROM campaigns WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  const row = rows[0] as WorkerCampaign | undefined;
  if (!row) return null;
  return {
    ...row,
    session_token: box.open(row.session_token, secretContext('campaign.session_token', tenantId)),
  };
}

/** scheduled → running when the job that owns the campaign starts. */
export async function markRunning(db: Queryable, tenantId: string, id: string, jobId: string): Promise<void> {
  await db.query(
    `UPDATE campaigns SET status = $5, started_at = coalesce(started_at, now()), updated_at = now()
      WHERE tenant_id = $1 AND id = $2 AND job_id = $3 AND status = ANY($4::text[])`,
    [tenantId, id, jobId, WORKER_MOVES.run.from, WORKER_MOVES.run.to[0]],
  );
}

/**
 * Turns the audience into recipient rows, once: under the campaign's row lock, so a
 * concurrent cancel waits for it and a re-run finds `expanded` set. Each recipient's
 * message Id is derived from the campaign and the phone, so it is the same on every run.
 * Duplicate phones collapse into one recipient.
 */
export async function expandRecipients(pool: pg.Pool, tenantId: string, id: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(
      'SELECT owner_id, audience, expanded, total FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE',
      [tenantId, id],
    );
    const campaign = rows[0];
    if (!campaign || campaign.expanded) {
      await client.query('COMMIT');
      return campaign?.total ?? 0;
    }
    const audience = campaign.audience as Audience;
    const source =
      'contact_ids' in audience
        ? {
            from: `unnest($4::uuid[]) WITH ORDINALITY AS a(id, ord)
                   JOIN contacts c ON c.id = a.id AND c.tenant_id = $1::uuid AND c.owner_id = $3::uuid`,
            order: 'a.ord',
            param: audience.contact_ids,
          }
        : {
            from: `contacts c WHERE c.tenant_id = $1::uuid AND c.owner_id = $3::uuid
                   AND ($4::text IS NULL OR strpos(lower(c.name), lower($4)) > 0 OR strpos(c.phone, $4) > 0)`,
            order: 'c.created_at, c.id',
            param: audience.filter.q ?? null,
          };
    const inserted = await client.query(
      `INSERT INTO campaign_recipients (tenant_id, campaign_id, position, contact_id, phone, name, variables, message_id)
       SELECT $1::uuid, $2::uuid, (row_number() OVER (ORDER BY ${source.order}))::int - 1, c.id, c.phone, c.name,
              c.variables, '3EB0' || upper(substr(md5($2::uuid::text || ':' || c.phone), 1, 16))
         FROM ${source.from}
       ON CONFLICT DO NOTHING`,
      [tenantId, id, campaign.owner_id, source.param],
    );
    const total = inserted.rowCount ?? 0;
    await client.query(
      'UPDATE campaigns SET expanded = true, total = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2',
      [tenantId, id, total],
    );
    await client.query('COMMIT');
    return total;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export interface Recipient {
  position: number;
  phone: string;
  name: string;
  variables: Record<string, string>;
  message_id: string;
  attempts: number;
}

/**
 * Claims up to `limit` pending recipients for this job — only while the campaign runs
 * and still belongs to this job, which is how pause, cancel and resume reach a worker
 * within one send.
 */
export async function claimRecipients(
  db: Queryable,
  tenantId: string,
  campaignId: string,
  jobId: string,
  limit: number,
): Promise<Recipient[]> {
  // The pick is a CTE: PostgreSQL runs it once. As an `IN (subquery)` the planner may
  // re-run it per row, and with SKIP LOCKED each run finds another row — LIMIT ignored.
  const { rows } = await db.query(
    `WITH picked AS (
       SELECT r.position FROM campaign_recipients r
        WHERE r.campaign_id = $2 AND r.tenant_id = $1 AND r.status = 'pending'
          AND EXISTS (SELECT 1 FROM campaigns c
                       WHERE c.tenant_id = $1 AND c.id = $2 AND c.status = 'running' AND c.job_id = $3)
        ORDER BY r.position LIMIT $4 FOR UPDATE OF r SKIP LOCKED)
     UPDATE campaign_recipients r SET status = 'sending', claimed_at = now()
       FROM picked WHERE r.campaign_id = $2 AND r.position = picked.position
     RETURNING r.position, r.phone, r.name, r.variables, r.message_id, r.attempts`,
    [tenantId, campaignId, jobId, limit],
  );
  return (rows as Recipient[]).sort((a, b) => a.position - b.position);
}

/**
 * A recipient whose send never settled (its worker was killed mid-call) goes back to
 * pending after the job lock's lifetime; it is re-sent with the same message Id.
 */
export async function reclaimStale(
  db: Queryable,
  tenantId: string,
  campaignId: string,
  olderThanMs: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE campaign_recipients SET status = 'pending'
      WHERE tenant_id = $1 AND campaign_id = $2 AND status = 'sending'
        AND claimed_at < now() - make_interval(secs => $3::float8 / 1000)`,
    [tenantId, campaignId, olderThanMs],
  );
  return rowCount ?? 0;
}

export type Settlement =
  | { status: 'sent'; attempts: number }
  | { status: 'failed'; attempts: number; error: string }
  | { status: 'pending'; attempts: number; error: string };

/** One claimed recipient's outcome, for `settleRecipients`. */
export type Settled = Settlement & { position: number };

/** The campaign as a settle leaves it: whether this job still owns it, and its counters. */
export type Tally = Omit<Counters, 'in_flight'>;

/**
 * Settles a batch of claimed recipients — each with its own status, attempts and error —
 * and moves the campaign's counters, in one statement: one round trip per batch instead of
 * one per message. Only rows still `sending` change, so a batch that arrives after a
 * reclaim counts nothing twice. Returns the campaign's state after the settle, which is
 * how a pipelined worker learns of a pause, cancel or resume without a query of its own.
 *
 * `position = ANY($3)` repeats the join on purpose: it puts the positions into the index
 * condition. Joined on `s.position` alone, the plan read every pending recipient of the
 * campaign through the partial index to hash them (each settle O(recipients left)).
 */
export async function settleRecipients(
  db: Queryable,
  tenantId: string,
  campaignId: string,
  batch: readonly Settled[],
): Promise<Tally | null> {
  const { rows } = await db.query(
    `WITH s AS (
       SELECT * FROM unnest($3::int[], $4::text[], $5::int[], $6::text[]) AS s(position, status, attempts, error)),
     r AS (
       UPDATE campaign_recipients r SET status = s.status, attempts = s.attempts, error = s.error,
              sent_at = CASE WHEN s.status = 'sent' THEN now() ELSE r.sent_at END
         FROM s
        WHERE r.tenant_id = $1 AND r.campaign_id = $2 AND r.position = ANY($3::int[])
          AND r.position = s.position AND r.status = 'sending'
       RETURNING r.status)
     UPDATE campaigns SET sent = sent + (SELECT count(*) FROM r WHERE status = 'sent'),
                          failed = failed + (SELECT count(*) FROM r WHERE status = 'failed'),
                          updated_at = now()
      WHERE tenant_id = $1 AND id = $2
     RETURNING status, job_id, total, sent, failed, cancelled,
               greatest(total - sent - failed - cancelled, 0) AS pending`,
    [
      tenantId,
      campaignId,
      batch.map((s) => s.position),
      batch.map((s) => s.status),
      batch.map((s) => s.attempts),
      batch.map((s) => ('error' in s ? s.error : null)),
    ],
  );
  return (rows[0] as Tally) ?? null;
}

/**
 * Gives back claimed recipients that were never sent (a worker stopping with claims in
 * hand): pending again, or cancelled when the campaign was cancelled meanwhile — the
 * campaign row is locked first, so a concurrent cancel either sees them pending (and
 * cancels them itself) or has committed (and they are cancelled and counted here).
 */
export async function releaseRecipients(
  db: Queryable,
  tenantId: string,
  campaignId: string,
  positions: readonly number[],
): Promise<void> {
  if (positions.length === 0) return;
  await db.query(
    `WITH c AS (SELECT status FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE),
     r AS (
       UPDATE campaign_recipients
          SET status = CASE WHEN (SELECT status FROM c) = 'cancelled' THEN 'cancelled' ELSE 'pending' END
        WHERE tenant_id = $1 AND campaign_id = $2 AND position = ANY($3::int[]) AND status = 'sending'
       RETURNING status)
     UPDATE campaigns SET cancelled = cancelled + (SELECT count(*) FROM r WHERE status = 'cancelled'),
                          updated_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, campaignId, positions],
  );
}

/** A campaign's status, owner job and recipient counters. */
export interface Counters {
  status: CampaignStatus;
  job_id: string | null;
  total: number;
  sent: number;
  failed: number;
  cancelled: number;
  pending: number;
  in_flight: number;
}

export async function campaignCounters(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<Counters | null> {
  const { rows } = await db.query(
    `SELECT status, job_id, total, sent, failed, cancelled, greatest(total - sent - failed - cancelled, 0) AS pending,
            (SELECT count(*)::int FROM campaign_recipients WHERE campaign_id = $2 AND status = 'sending') AS in_flight
       FROM campaigns WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return (rows[0] as Counters) ?? null;
}

/** running → completed once nothing is pending or in flight; false otherwise. */
/** How a finished campaign went: every message out, some failed, or none delivered. */
export type CampaignOutcome = 'delivered' | 'partial' | 'failed';

/**
 * running → completed once nothing is pending, or → failed when not one message was
 * delivered (every send failed): the campaign's truth, with the most common reason of
 * its recipients ("WuzAPI unreachable: …"), not a green "completed". Null: not done yet.
 */
export async function completeIfDone(
  db: Queryable,
  tenantId: string,
  id: string,
  jobId: string,
): Promise<{ outcome: CampaignOutcome; error: string | null } | null> {
  const { rows } = await db.query<{ outcome: CampaignOutcome; error: string | null }>(
    `WITH reason AS (
       SELECT error FROM campaign_recipients
        WHERE campaign_id = $2 AND status = 'failed' AND error IS NOT NULL
        GROUP BY error ORDER BY count(*) DESC, error LIMIT 1)
     UPDATE campaigns c
        SET status = CASE WHEN c.sent = 0 AND c.failed > 0 THEN 'failed' ELSE 'completed' END,
            error = CASE WHEN c.sent = 0 AND c.failed > 0
                         THEN 'no message was delivered: ' || coalesce((SELECT error FROM reason), 'every send failed')
                         ELSE NULL END,
            finished_at = now(), updated_at = now()
      WHERE c.tenant_id = $1 AND c.id = $2 AND c.job_id = $3 AND c.status = ANY($4::text[])
        AND NOT EXISTS (SELECT 1 FROM campaign_recipients
                         WHERE campaign_id = $2 AND status IN ('pending', 'sending'))
     RETURNING CASE WHEN c.status = 'failed' THEN 'failed' WHEN c.failed > 0 THEN 'partial' ELSE 'delivered' END AS outcome,
               c.error`,
    [tenantId, id, jobId, WORKER_MOVES.finish.from],
  );
  return rows[0] ?? null;
}

/** running/scheduled → paused by the worker (WuzAPI said "No session"), with the reason. */
export async function pauseWithError(
  db: Queryable,
  tenantId: string,
  id: string,
  error: string,
): Promise<void> {
  await db.query(
    `UPDATE campaigns SET status = $5, error = $3, updated_at = now()
      WHERE tenant_id = $1 AND id = $2 AND status = ANY($4::text[])`,
    [tenantId, id, error, WORKER_MOVES.loseSession.from, WORKER_MOVES.loseSession.to[0]],
  );
}

/** The job gave up (its attempts ran out): the campaign says so, with the reason. */
export async function failCampaign(
  db: Queryable,
  tenantId: string,
  id: string,
  jobId: string,
  error: string,
): Promise<void> {
  await db.query(
    `UPDATE campaigns SET status = $6, error = $4, finished_at = now(), updated_at = now()
      WHERE tenant_id = $1 AND id = $2 AND job_id = $3 AND status = ANY($5::text[])`,
    [tenantId, id, jobId, error, WORKER_MOVES.giveUp.from, WORKER_MOVES.giveUp.to[0]],
  );
}
