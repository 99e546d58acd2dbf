import type { Campaign, CampaignStatus, JobState, ReportKind, WorkStatus } from '../../shared/api.ts';

export { REPORT_KINDS } from '../../../../daemon/db/repositories/reportKinds.ts';
export { CAMPAIGN_STATUSES, RECIPIENT_STATUSES } from '../../../../daemon/queues/campaignLifecycle.ts';
/**
 * What the background-job pages read about the API's answers. The shapes are the
 * contract's (shared/api.ts); the status and kind lists are the daemon's own constants,
 * imported (they are modules without imports: the bundle takes the arrays and nothing
 * else). What stays here is the app's: which states to poll, the kinds' labels.
 */
export type {
  Accepted,
  Campaign,
  CampaignStatus,
  Contact,
  Import,
  ImportSummary,
  JobState,
  JobStatus,
  Recipient,
  RecipientStatus,
  Report,
  ReportKind,
  ReportSummary,
  WorkStatus,
} from '../../shared/api.ts';

/** The worker is (or will soon be) moving these: worth polling. */
export const ACTIVE_CAMPAIGN: readonly CampaignStatus[] = ['scheduled', 'running'];

/** Recipients the campaign is done with: sent, failed or cancelled. */
export const processed = (c: Pick<Campaign, 'sent' | 'failed' | 'cancelled'>) =>
  c.sent + c.failed + c.cancelled;

export const FINAL_WORK: readonly WorkStatus[] = ['completed', 'failed'];

/** One for every kind the API knows: a new kind does not compile until it has its label. */
export const REPORT_KIND_LABELS: Record<ReportKind, string> = {
  campaign_delivery: 'Campaign delivery',
  usage: 'Usage',
  subscriptions: 'Subscriptions',
};

export const FINAL_JOB: readonly JobState[] = ['completed', 'failed'];
