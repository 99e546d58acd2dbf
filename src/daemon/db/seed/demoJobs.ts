import { randomUUID } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { shuffled } from '../../../random.ts';
import type { SecretBox } from '../../security/secretBox.ts';
import { CsvHeaderError, readContactsCsv } from '../../workers/csvContacts.ts';
import type { Queryable } from '../queryable.ts';
import { type CampaignStatus, insertCampaign } from '../repositories/campaigns.ts';
import {
  type ContactRow,
  emptyImportOutcome,
  type ImportOutcome,
  KEPT_REJECTIONS,
  upsertContacts,
} from '../repositories/imports.ts';
import type { Owner } from '../repositories/owned.ts';
import { computeReport, type ReportRequest, reportColumns } from '../repositories/reports.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 86_400_000;

/** What happened to one recipient: sent, failed (with the error and attempts), or not yet tried. */
type Send =
  | { status: 'sent' }
  | { status: 'failed'; error: string; attempts: number }
  | { status: 'pending' };

interface CampaignSpec {
  name: string;
  template: string;
  /** Created this long before the seed. */
  minutesAgo: number;
  /** Scheduled to start this long after it was created (null: started at once). */
  scheduledAfterMs: number | null;
  recipients: number;
  /** What happens to the recipient at each position. */
  send: (position: number) => Send;
  /** Paused by its user after this many sends (the rest stays pending). */
  pausedAfter?: number;
}

const NOT_ON_WHATSAPP = 'WuzAPI 400: phone is not on WhatsApp';
const SEND_FAILED = 'WuzAPI 500: failed to send message';
const UNREACHABLE = 'WuzAPI: ECONNREFUSED';
// The worker's defaults: a human-like 5–15 s between sends, 3 attempts 1 s then 2 s apart.
const MIN_DELAY_MS = 5000;
const MAX_DELAY_MS = 15_000;
const SEND_ATTEMPTS = 3;

interface DemoContact {
  id: string;
  phone: string;
  name: string;
  variables: Record<string, string>;
  created_at: Date;
}

/**
 * The background work of one demo user, as real runs leave it behind: four campaigns (all
 * delivered, partly failed, nothing delivered, paused part-way), two contact imports
 * (completed with rejected rows, failed) and two reports (completed, failed), each with
 * the `jobs` row its job would have written. Nothing goes to Redis (the seed also runs
 * without the daemon and its embedded Redis): the jobs are as after Redis' retention, the
 * database answers for them. The paused campaign resumes like any other, through the API
 * and a new job.
 *
 * Every count is what the workers would have counted (recipient rows settle the
 * campaigns' counters; the imports' CSV goes through the import parser and the contacts
 * upsert; the report is computed by its SQL query), every timestamp is in the past, and
 * everything drawn comes from the tenant's PRNG.
 */
export async function seedDemoJobs(
  db: Queryable,
  box: SecretBox,
  owner: Owner,
  slug: string,
  random: () => number,
  now: number,
): Promise<void> {
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const { rows: contacts } = await db.query<DemoContact>(
    `SELECT id, phone, name, variables, created_at FROM contacts
      WHERE tenant_id = $1 AND owner_id = $2 ORDER BY created_at, id`,
    [owner.tenantId, owner.userId],
  );
  /** `n` of the contacts that existed a minute before `at`, in a seeded order. */
  const audience = (at: number, n: number): DemoContact[] => {
    const existing = contacts.filter((contact) => contact.created_at.getTime() < at - MINUTE);
    if (existing.length < n) throw new Error(`demo data: ${n} contacts wanted, ${existing.length} exist`);
    return shuffled(existing, random).slice(0, n);
  };
  // The user's WuzAPI session token, stored encrypted like any campaign's.
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const sessionToken = `${slug}-session-${Array.from({ length: 16 }, () => alphabet[between(0, alphabet.length - 1)]).join('')}`;

  // ---- Campaigns -----------------------------------------------------------------
  const partialFailures = new Map(
    shuffled(
      Array.from({ length: 40 }, (_, k) => k),
      random,
    )
      .slice(0, 5)
      .map((position, k): [number, Send] => [
        position,
        k === 0
          ? { status: 'failed', error: SEND_FAILED, attempts: SEND_ATTEMPTS }
          : { status: 'failed', error: NOT_ON_WHATSAPP, attempts: 1 },
      ]),
  );
  const specs: CampaignSpec[] = [
    {
      name: 'Welcome message',
      template:
        'Olá {{first_name|cliente}}! Obrigado por se cadastrar. Qualquer dúvida, é só responder aqui.',
      minutesAgo: 100,
      scheduledAfterMs: null,
      recipients: 24,
      send: () => ({ status: 'sent' }),
    },
    {
      name: 'Weekend sale',
      template:
        'Oi {{first_name}}, neste fim de semana tem 20% de desconto na loja de {{city|sua cidade}}. Aproveite!',
      minutesAgo: 85,
      scheduledAfterMs: 10 * MINUTE,
      recipients: 40,
      send: (position) => partialFailures.get(position) ?? { status: 'sent' },
    },
    {
      name: 'Payment reminder',
      template:
        'Olá {{first_name}}, sua fatura vence amanhã. Precisa da segunda via? Responda esta mensagem.',
      minutesAgo: 60,
      scheduledAfterMs: null,
      recipients: 18,
      send: () => ({ status: 'failed', error: UNREACHABLE, attempts: SEND_ATTEMPTS }),
    },
    {
      name: 'Satisfaction survey',
      template:
        'Oi {{first_name}}! De 0 a 10, quanto você recomendaria nosso atendimento em {{city|sua cidade}}?',
      minutesAgo: 40,
      scheduledAfterMs: null,
      recipients: 60,
      send: (position) => (position < 22 ? { status: 'sent' } : { status: 'pending' }),
      pausedAfter: 22,
    },
  ];
  for (const spec of specs) await seedCampaign(spec);

  async function seedCampaign(spec: CampaignSpec): Promise<void> {
    const createdAt = now - spec.minutesAgo * MINUTE;
    const scheduledAt = spec.scheduledAfterMs === null ? null : createdAt + spec.scheduledAfterMs;
    const people = audience(createdAt, spec.recipients);
    const jobId = randomUUID();
    const { id } = await insertCampaign(db, box, owner, {
      name: spec.name,
      template: spec.template,
      audience: { contact_ids: people.map((person) => person.id) },
      session_token: sessionToken,
      min_delay_ms: MIN_DELAY_MS,
      max_delay_ms: MAX_DELAY_MS,
      scheduled_at: scheduledAt === null ? null : new Date(scheduledAt),
      status: 'scheduled',
      job_id: jobId,
    });

    // The job's run, send by send: claim, WuzAPI's answer (retries 1 s then 2 s apart),
    // settle, then the paced pause during which the job waits in the delayed set.
    const startedAt = (scheduledAt ?? createdAt) + between(20, 120);
    let clock = startedAt + between(10, 60); // the audience expanded into recipients
    let pausedAt: number | null = null;
    const recipients = people.map((person, position) => {
      const send = spec.send(position);
      if (send.status === 'pending')
        return { person, status: 'pending', attempts: 0, claimed: null, sent: null, error: null };
      const claimed = clock;
      let settled = claimed;
      const attempts = send.status === 'sent' ? 1 : send.attempts;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        settled += send.status === 'failed' && send.error === UNREACHABLE ? between(1, 6) : between(180, 900);
        if (attempt < attempts) settled += SECOND * 2 ** (attempt - 1);
      }
      const delay = between(MIN_DELAY_MS, MAX_DELAY_MS);
      if (spec.pausedAfter === position + 1) pausedAt = settled + Math.floor(delay * (0.2 + 0.6 * random()));
      clock = settled + delay + between(5, 40);
      return {
        person,
        status: send.status,
        attempts,
        claimed,
        sent: send.status === 'sent' ? settled : null,
        error: send.status === 'failed' ? send.error : null,
      };
    });
    // The job's last run: nothing left to claim (done), or the campaign no longer running.
    const jobFinishedAt = clock;
    const sent = recipients.filter((r) => r.status === 'sent').length;
    const failed = recipients.filter((r) => r.status === 'failed').length;
    const total = recipients.length;
    const pending = total - sent - failed;
    await db.query(
      `INSERT INTO campaign_recipients (tenant_id, campaign_id, position, contact_id, phone, name, variables,
                                        message_id, status, attempts, claimed_at, sent_at, error)
       SELECT $1::uuid, $2::uuid, r.position, r.contact_id, r.phone, r.name, r.variables,
              -- the message Id every run of every job uses (campaigns.expandRecipients)
              '3EB0' || upper(substr(md5($2::uuid::text || ':' || r.phone), 1, 16)),
              r.status, r.attempts, r.claimed_at, r.sent_at, r.error
         FROM unnest($3::int[], $4::uuid[], $5::text[], $6::text[], $7::jsonb[], $8::text[], $9::int[],
                     $10::timestamptz[], $11::timestamptz[], $12::text[])
              AS r(position, contact_id, phone, name, variables, status, attempts, claimed_at, sent_at, error)`,
      [
        owner.tenantId,
        id,
        recipients.map((_, position) => position),
        recipients.map((r) => r.person.id),
        recipients.map((r) => r.person.phone),
        recipients.map((r) => r.person.name),
        recipients.map((r) => JSON.stringify(r.person.variables)),
        recipients.map((r) => r.status),
        recipients.map((r) => r.attempts),
        recipients.map((r) => (r.claimed === null ? null : new Date(r.claimed))),
        recipients.map((r) => (r.sent === null ? null : new Date(r.sent))),
        recipients.map((r) => r.error),
      ],
    );

    // As campaigns.completeIfDone decides: failed when not one message went out, with the
    // most common reason; completed otherwise. A paused campaign is neither.
    let status: CampaignStatus = 'completed';
    let error: string | null = null;
    if (pausedAt !== null) status = 'paused';
    else if (sent === 0 && failed > 0) {
      status = 'failed';
      error = `no message was delivered: ${mostCommon(recipients.map((r) => r.error))}`;
    }
    const finishedAt = status === 'paused' ? null : jobFinishedAt;
    await db.query(
      `UPDATE campaigns SET status = $3, expanded = true, total = $4, sent = $5, failed = $6, error = $7,
              created_at = $8, started_at = $9, finished_at = $10, updated_at = $11
        WHERE tenant_id = $1 AND id = $2`,
      [
        owner.tenantId,
        id,
        status,
        total,
        sent,
        failed,
        error,
        new Date(createdAt),
        new Date(startedAt),
        finishedAt === null ? null : new Date(finishedAt),
        new Date(pausedAt ?? jobFinishedAt),
      ],
    );
    const counters = { total, sent, failed, cancelled: 0, pending };
    await insertJob(db, owner, {
      id: jobId,
      queue: 'campaign',
      subjectId: id,
      // The job that found its campaign paused ends completed ("paused"); one that
      // delivered nothing fails with the campaign's reason (campaignWorker).
      state: status === 'failed' ? 'failed' : 'completed',
      progress: counters,
      attempts: 1,
      result:
        status === 'failed' ? null : { outcome: status === 'paused' ? 'paused' : 'completed', ...counters },
      error,
      createdAt: createdAt + between(1, 5),
      startedAt,
      finishedAt: jobFinishedAt,
    });
  }

  // ---- Contact imports ---------------------------------------------------------------
  // A re-export of customers the user already has (their rows update them, unchanged),
  // with the typos a spreadsheet has; then a file exported without its phone column.
  {
    const createdAt = now - 70 * MINUTE;
    const people = audience(createdAt, 30);
    const rows: string[][] = people.map((p) => [
      p.phone,
      p.name,
      p.variables.first_name ?? '',
      p.variables.city ?? '',
    ]);
    const duplicate = rows[between(0, 9)] as string[];
    rows.splice(between(3, 8), 0, ['(11) 9876', 'Rafael Nunes', 'Rafael', 'Recife']);
    rows.splice(between(10, 16), 0, ['', 'Marta Rocha', 'Marta', 'Curitiba']);
    rows.splice(between(18, 24), 0, [...duplicate]);
    rows.splice(between(26, 30), 0, ['+55 11 9', 'Otávio Reis', 'Otávio', 'Salvador']);
    const source = stringify(rows, { header: true, columns: ['phone', 'name', 'first_name', 'city'] });
    // What importWorker does with it: the real parser, then one upsert batch.
    const outcome = emptyImportOutcome();
    const batch: ContactRow[] = [];
    for await (const item of readContactsCsv(source)) {
      outcome.total_rows += 1;
      if ('contact' in item) {
        batch.push(item.contact);
        continue;
      }
      outcome.rejected += 1;
      outcome.rejected_by_reason[item.reason] = (outcome.rejected_by_reason[item.reason] ?? 0) + 1;
      if (outcome.rejections.length < KEPT_REJECTIONS)
        outcome.rejections.push({
          line: item.line,
          reason: item.reason,
          ...(item.phone ? { phone: item.phone } : {}),
        });
    }
    const upserted = await upsertContacts(db, owner, batch);
    outcome.accepted = batch.length;
    outcome.created = upserted.created;
    outcome.updated = upserted.updated;
    const startedAt = createdAt + between(15, 80);
    const finishedAt = startedAt + between(60, 400);
    await seedImport({
      filename: 'customers-export.csv',
      source: '', // dropped once its rows are contacts
      bytes: Buffer.byteLength(source),
      status: 'completed',
      outcome,
      error: null,
      createdAt,
      startedAt,
      finishedAt,
      job: {
        progress: { rows: outcome.total_rows, accepted: outcome.accepted, rejected: outcome.rejected },
        result: { ...outcome, rejections: outcome.rejections.slice(0, 20) },
      },
    });
  }
  {
    const createdAt = now - 66 * MINUTE;
    const source = `${['nome;cidade;interesse', 'Ana Souza;Recife;planos', 'Bruno Lima;Curitiba;suporte', 'Carla Gomes;São Paulo;planos'].join('\n')}\n`;
    let error: string | null = null;
    try {
      for await (const _ of readContactsCsv(source)) {
        // a header without a phone column fails before the first row
      }
    } catch (reason) {
      if (!(reason instanceof CsvHeaderError)) throw reason;
      error = `the CSV could not be read: ${reason.message}`;
    }
    if (!error) throw new Error('demo data: the failed import was read');
    const startedAt = createdAt + between(15, 80);
    await seedImport({
      filename: 'event-leads.csv',
      source, // a failed import keeps its file
      bytes: Buffer.byteLength(source),
      status: 'failed',
      outcome: null,
      error,
      createdAt,
      startedAt,
      finishedAt: startedAt + between(5, 30),
      job: { progress: {}, result: null },
    });
  }

  async function seedImport(row: {
    filename: string;
    source: string;
    bytes: number;
    status: 'completed' | 'failed';
    outcome: ImportOutcome | null;
    error: string | null;
    createdAt: number;
    startedAt: number;
    finishedAt: number;
    job: { progress: object; result: object | null };
  }): Promise<void> {
    const jobId = randomUUID();
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO imports (tenant_id, owner_id, filename, source, bytes, status, total_rows, accepted, rejected,
                            rejections, rejected_by_reason, job_id, error, created_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
      [
        owner.tenantId,
        owner.userId,
        row.filename,
        row.source,
        row.bytes,
        row.status,
        row.outcome?.total_rows ?? 0,
        row.outcome?.accepted ?? 0,
        row.outcome?.rejected ?? 0,
        JSON.stringify(row.outcome?.rejections ?? []),
        JSON.stringify(row.outcome?.rejected_by_reason ?? {}),
        jobId,
        row.error,
        new Date(row.createdAt),
        new Date(row.finishedAt),
      ],
    );
    await insertJob(db, owner, {
      id: jobId,
      queue: 'import',
      subjectId: (rows[0] as { id: string }).id,
      state: row.status,
      progress: row.job.progress,
      attempts: 1, // an unreadable file fails at once, without retries
      result: row.job.result,
      error: row.error,
      createdAt: row.createdAt + between(1, 5),
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
    });
  }

  // ---- Reports -------------------------------------------------------------------------
  // The delivery report of the last 30 days, asked for after the campaigns (its rows are
  // the report query's, so the CSV is a real download); and a year of usage whose query
  // hit the database's statement timeout on each of its 3 attempts.
  {
    const to = now - 20 * MINUTE;
    const request: ReportRequest = {
      kind: 'campaign_delivery',
      scope: 'owner',
      from: new Date(to - 30 * DAY),
      to: new Date(to),
    };
    const rows = await computeReport(db, owner.tenantId, owner.userId, request);
    const columns = reportColumns(request.kind);
    // As reportWorker writes it.
    const csv = stringify(
      rows.map((row) => columns.map((column) => row[column] ?? '')),
      { header: true, columns },
    );
    const startedAt = to + between(10, 60);
    await seedReport(request, {
      status: 'completed',
      data: { columns, rows, csv },
      error: null,
      startedAt,
      finishedAt: startedAt + between(20, 150),
      attempts: 1,
      progress: { rows: rows.length },
      result: { rows: rows.length, kind: request.kind },
    });
  }
  {
    const to = now - 15 * MINUTE;
    const request: ReportRequest = {
      kind: 'usage',
      scope: 'owner',
      from: new Date(to - 365 * DAY),
      to: new Date(to),
    };
    const startedAt = to + between(10, 60);
    // Three attempts of ~30 s each, 2 s and 4 s apart (the queue's exponential backoff).
    const finishedAt = startedAt + 3 * 30 * SECOND + 6 * SECOND + between(50, 400);
    await seedReport(request, {
      status: 'failed',
      data: null,
      error: 'canceling statement due to statement timeout',
      startedAt,
      finishedAt,
      attempts: 3,
      progress: {},
      result: null,
    });
  }

  async function seedReport(
    request: ReportRequest,
    outcome: {
      status: 'completed' | 'failed';
      data: { columns: string[]; rows: unknown[]; csv: string } | null;
      error: string | null;
      startedAt: number;
      finishedAt: number;
      attempts: number;
      progress: object;
      result: object | null;
    },
  ): Promise<void> {
    const jobId = randomUUID();
    const createdAt = request.to.getTime() + between(0, 3);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO reports (tenant_id, owner_id, kind, scope, period_from, period_to, status, columns, rows, csv,
                            row_count, job_id, error, created_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
      [
        owner.tenantId,
        owner.userId,
        request.kind,
        request.scope,
        request.from,
        request.to,
        outcome.status,
        outcome.data?.columns ?? null,
        outcome.data ? JSON.stringify(outcome.data.rows) : null,
        outcome.data?.csv ?? null,
        outcome.data?.rows.length ?? null,
        jobId,
        outcome.error,
        new Date(createdAt),
        new Date(outcome.finishedAt),
      ],
    );
    await insertJob(db, owner, {
      id: jobId,
      queue: 'report',
      subjectId: (rows[0] as { id: string }).id,
      state: outcome.status,
      progress: outcome.progress,
      attempts: outcome.attempts,
      result: outcome.result,
      error: outcome.error,
      createdAt: createdAt + between(1, 5),
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
    });
  }
}

/** The most common value (ties: the first in sort order), as completeIfDone picks the reason. */
function mostCommon(values: Array<string | null>): string {
  const counts = new Map<string, number>();
  for (const value of values) if (value) counts.set(value, (counts.get(value) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return sorted[0]?.[0] ?? 'every send failed';
}

/** The `jobs` row the tracked processor (workers/jobTracking.ts) leaves for a finished job. */
async function insertJob(
  db: Queryable,
  owner: Owner,
  job: {
    id: string;
    queue: 'campaign' | 'import' | 'report';
    subjectId: string;
    state: 'completed' | 'failed';
    progress: object;
    attempts: number;
    result: object | null;
    error: string | null;
    createdAt: number;
    startedAt: number;
    finishedAt: number;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO jobs (id, tenant_id, owner_id, queue, subject_id, state, progress, attempts, result, error,
                       created_at, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      job.id,
      owner.tenantId,
      owner.userId,
      job.queue,
      job.subjectId,
      job.state,
      JSON.stringify(job.progress),
      job.attempts,
      job.result === null ? null : JSON.stringify(job.result),
      job.error,
      new Date(job.createdAt),
      new Date(job.startedAt),
      new Date(job.finishedAt),
    ],
  );
}
