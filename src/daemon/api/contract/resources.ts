import { z } from 'zod';
import { REPORT_KINDS } from '../../db/repositories/reportKinds.ts';
import { CAMPAIGN_STATUSES, RECIPIENT_STATUSES } from '../../queues/campaignLifecycle.ts';
import { QUEUE_NAMES } from '../../queues/names.ts';
import { API_ERRORS, type ApiErrorCode } from '../errorCatalogue.ts';
import { PERMISSIONS } from '../routes/session/permissions.ts';

/**
 * What the API answers, as zod schemas: the OpenAPI document's response schemas, and
 * what the tests check every response against. Request schemas live with their routes,
 * where they validate; these exist only to describe (the handlers build rows in SQL).
 * Objects are strict, so a field added to a response without its schema fails the tests.
 */

const id = z.uuid();
const timestamp = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);

export const errorSchema = (codes: readonly ApiErrorCode[] = Object.keys(API_ERRORS) as ApiErrorCode[]) =>
  z.strictObject({
    error: z.strictObject({
      code: z.enum(codes as [ApiErrorCode, ...ApiErrorCode[]]),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  });

/** A page of a list: `data`, where it starts and how many there are in all. */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    data: z.array(item),
    page: z.number().int().min(1),
    per_page: z.number().int(),
    total: count,
  });

export const Me = z
  .strictObject({
    user: z.strictObject({ id, email: z.string(), role: z.enum(['admin', 'user']) }),
    tenant: z.strictObject({ id, slug: z.string(), plan: z.enum(['free', 'pro', 'enterprise']) }),
  })
  .meta({ id: 'Me' });

export const Agent = z
  .strictObject({
    id,
    name: z.string(),
    email: z.string(),
    status: z.enum(['active', 'away', 'inactive']),
    team_id: id.nullable(),
    role_id: id.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Agent' });

export const Team = z
  .strictObject({ id, name: z.string(), created_at: timestamp, updated_at: timestamp })
  .meta({ id: 'Team' });

export const Role = z
  .strictObject({
    id,
    name: z.string(),
    permissions: z.array(z.enum(PERMISSIONS)),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Role' });

const variables = z.record(z.string(), z.string());

export const Contact = z
  .strictObject({ id, phone: z.string(), name: z.string(), variables, created_at: timestamp })
  .meta({ id: 'Contact' });

export const ContactBatchResult = z
  .strictObject({
    created: z.array(Contact),
    skipped: z.array(z.strictObject({ index: count, phone: z.string(), reason: z.literal('duplicate') })),
  })
  .meta({ id: 'ContactBatchResult' });

export const Plan = z
  .strictObject({
    id,
    name: z.string(),
    price_cents: count,
    currency: z.string(),
    interval: z.enum(['month', 'year']),
    limits: z.strictObject({ max_agents: count, messages_per_month: count }),
    stripe_price_id: z.string().nullable(),
    trial_days: count,
    created_at: timestamp,
  })
  .meta({ id: 'Plan' });

export const Subscription = z
  .strictObject({
    id,
    status: z.enum(['trialing', 'active', 'past_due', 'canceled']),
    cancel_at_period_end: z.boolean(),
    current_period_start: timestamp,
    current_period_end: timestamp,
    canceled_at: timestamp.nullable(),
    created_at: timestamp,
    plan: Plan,
    usage: z.strictObject({ agents: count, messages_this_month: count }),
  })
  .meta({ id: 'Subscription' });

export const UserListItem = z
  .strictObject({
    id,
    email: z.string(),
    name: z.string(),
    role: z.enum(['admin', 'user']),
    created_at: timestamp,
    subscription: z
      .strictObject({ status: z.enum(['trialing', 'active', 'past_due']), plan: z.string() })
      .nullable(),
  })
  .meta({ id: 'User' });

export const StripeSettings = z
  .strictObject({
    configured: z.boolean(),
    publishable_key: z.string().nullable(),
    secret_key_last4: z.string().nullable(),
    webhook_secret_last4: z.string().nullable(),
    currency: z.string(),
    updated_at: timestamp.nullable(),
  })
  .meta({
    id: 'StripeSettings',
    description: 'The secrets leave the server only as their last 4 characters.',
  });

export const StripeAnalytics = z
  .strictObject({
    currency: z.string(),
    mrr_cents: count,
    arr_cents: count,
    subscriptions: z.strictObject({ active: count, trialing: count, past_due: count, canceled: count }),
    churn_rate_30d: z.number().min(0).max(1),
    revenue_by_plan: z.array(
      z.strictObject({ plan_id: id, plan: z.string(), subscriptions: count, mrr_cents: count }),
    ),
    new_subscriptions_per_day: z.array(z.strictObject({ date: z.iso.date(), count })),
  })
  .meta({ id: 'StripeAnalytics' });

const audienceView = z.union([
  z.strictObject({ contact_ids: count.meta({ description: 'how many contacts were named' }) }),
  z.strictObject({ filter: z.strictObject({ q: z.string().optional() }) }),
]);

export const Campaign = z
  .strictObject({
    id,
    name: z.string(),
    template: z.string(),
    status: z.enum(CAMPAIGN_STATUSES),
    scheduled_at: timestamp.nullable(),
    min_delay_ms: count,
    max_delay_ms: count,
    session_token_hint: z.string().meta({ description: 'the last 4 characters of the session token' }),
    audience: audienceView,
    total: count,
    sent: count,
    failed: count,
    cancelled: count,
    pending: count,
    outcome: z.enum(['delivered', 'partial', 'failed']).nullable(),
    job_id: id.nullable(),
    error: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    started_at: timestamp.nullable(),
    finished_at: timestamp.nullable(),
  })
  .meta({ id: 'Campaign' });

export const Recipient = z
  .strictObject({
    position: count,
    contact_id: id.nullable(),
    phone: z.string(),
    name: z.string(),
    status: z.enum(RECIPIENT_STATUSES),
    attempts: count,
    message_id: z.string(),
    sent_at: timestamp.nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'Recipient' });

/** What imports and reports share: the four states of their job, and its traces. */
const jobSubject = {
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  job_id: id.nullable(),
  error: z.string().nullable(),
  created_at: timestamp,
  finished_at: timestamp.nullable(),
};

const importFields = {
  id,
  ...jobSubject,
  filename: z.string(),
  bytes: count,
  total_rows: count,
  accepted: count,
  rejected: count,
};

export const ImportSummary = z.strictObject(importFields).meta({ id: 'ImportSummary' });

export const Import = z
  .strictObject({
    ...importFields,
    rejections: z.array(z.strictObject({ line: count, reason: z.string(), phone: z.string().optional() })),
    rejected_by_reason: z.record(z.string(), count),
  })
  .meta({ id: 'Import' });

const reportFields = {
  id,
  ...jobSubject,
  kind: z.enum(REPORT_KINDS),
  scope: z.enum(['tenant', 'owner']),
  period_from: timestamp,
  period_to: timestamp,
  columns: z.array(z.string()).nullable(),
  row_count: count.nullable(),
};

export const ReportSummary = z.strictObject(reportFields).meta({ id: 'ReportSummary' });

export const Report = z
  .strictObject({
    ...reportFields,
    rows: z.array(z.record(z.string(), z.unknown())).nullable().meta({ description: 'once completed' }),
  })
  .meta({ id: 'Report' });

/** The 202 of a request that started a job: poll GET /api/jobs/{job_id}/status. */
export const Accepted = z
  .strictObject({ id, job_id: id, status: z.literal('queued') })
  .meta({ id: 'Accepted' });

const iso = timestamp.nullable();

export const JobStatus = z
  .strictObject({
    id,
    queue: z.enum(QUEUE_NAMES),
    state: z.enum(['waiting', 'delayed', 'active', 'completed', 'failed']),
    progress: z.unknown(),
    attempts: count,
    result: z.unknown().optional(),
    error: z.string().optional(),
    timestamps: z.strictObject({ created: iso, started: iso, finished: iso }),
    subject_id: id,
  })
  .meta({ id: 'JobStatus' });

export const Health = z.strictObject({ status: z.literal('ok') });

export const Readiness = z.strictObject({
  status: z.enum(['ready', 'not ready']),
  checks: z.strictObject({
    redis: z.string(),
    database: z.string(),
    draining: z.boolean(),
    stopping: z.boolean(),
  }),
});
