/**
 * The shapes the background-job routes answer (docs/API.md "Contacts" and "Background
 * jobs"; src/daemon/api/routes/contacts.ts and routes/queues/*.ts).
 */
export interface Contact {
  id: string;
  phone: string;
  name: string;
  variables: Record<string, string>;
  created_at: string;
}

export const CAMPAIGN_STATUSES = [
  'draft',
  'scheduled',
  'running',
  'paused',
  'completed',
  'cancelled',
  'failed',
] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
/** The worker is (or will soon be) moving these: worth polling. */
export const ACTIVE_CAMPAIGN: readonly CampaignStatus[] = ['scheduled', 'running'];

export interface Campaign {
  id: string;
  name: string;
  template: string;
  status: CampaignStatus;
  scheduled_at: string | null;
  min_delay_ms: number;
  max_delay_ms: number;
  session_token_hint: string;
  /** A count of contact ids (the ids themselves are not returned), or the filter. */
  audience: { contact_ids: number } | { filter: { q?: string } };
  total: number;
  sent: number;
  failed: number;
  cancelled: number;
  pending: number;
  job_id: string | null;
  error: string | null;
  /** Once finished: every message sent, some failed, or none delivered. */
  outcome?: 'delivered' | 'partial' | 'failed' | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** Recipients the campaign is done with: sent, failed or cancelled. */
export const processed = (c: Pick<Campaign, 'sent' | 'failed' | 'cancelled'>) =>
  c.sent + c.failed + c.cancelled;

export const RECIPIENT_STATUSES = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const;
export type RecipientStatus = (typeof RECIPIENT_STATUSES)[number];

export interface Recipient {
  position: number;
  contact_id: string | null;
  phone: string;
  name: string;
  status: RecipientStatus;
  attempts: number;
  message_id: string | null;
  sent_at: string | null;
  error: string | null;
}

/** Imports and reports share the queue's four states. */
export type WorkStatus = 'queued' | 'running' | 'completed' | 'failed';
export const FINAL_WORK: readonly WorkStatus[] = ['completed', 'failed'];

export interface Accepted {
  id: string;
  job_id: string;
  status: WorkStatus;
}

export interface ImportSummary {
  id: string;
  filename: string;
  bytes: number;
  status: WorkStatus;
  total_rows: number;
  accepted: number;
  rejected: number;
  job_id: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface ImportDetail extends ImportSummary {
  rejections: Array<{ line: number; reason: string; phone?: string }>;
  rejected_by_reason: Record<string, number>;
}

export const REPORT_KINDS = ['campaign_delivery', 'usage', 'subscriptions'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const REPORT_KIND_LABELS: Record<ReportKind, string> = {
  campaign_delivery: 'Campaign delivery',
  usage: 'Usage',
  subscriptions: 'Subscriptions',
};

export interface ReportSummary {
  id: string;
  kind: ReportKind;
  scope: 'tenant' | 'owner';
  period_from: string;
  period_to: string;
  status: WorkStatus;
  columns: string[] | null;
  row_count: number | null;
  job_id: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface ReportDetail extends ReportSummary {
  rows: Array<Record<string, unknown>> | null;
}

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';
export const FINAL_JOB: readonly JobState[] = ['completed', 'failed'];

export interface JobStatus {
  id: string;
  queue: 'campaign' | 'import' | 'report';
  state: JobState;
  /** campaign: {total, sent, failed, cancelled, pending}; import: {rows, accepted, rejected}; report: {rows}. */
  progress: Record<string, unknown> | number | null;
  attempts: number;
  result?: unknown;
  error?: string;
  timestamps: { created: string | null; started: string | null; finished: string | null };
  subject_id: string;
}
