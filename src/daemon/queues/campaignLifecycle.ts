/**
 * A campaign's states and every move between them, in one table: what its user may do
 * (the API's actions) and what its job does (the worker's moves). The routes and the
 * repository take their `from` and `to` from here, the web app imports it (its buttons
 * are tested against it in test/unit/campaignLifecycle.test.ts) and docs/QUEUES.md draws it.
 */
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

/** What became of one recipient: claimed (sending) before WuzAPI is called, settled after. */
export const RECIPIENT_STATUSES = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const;
export type RecipientStatus = (typeof RECIPIENT_STATUSES)[number];

interface Move {
  from: readonly CampaignStatus[];
  to: CampaignStatus;
  /** How the refusal says it: "only a campaign that is paused can be resumed". */
  done: string;
}

/** `POST /api/campaigns/:id/<action>`. Start and resume hand the campaign to a new job. */
export const CAMPAIGN_ACTIONS = {
  start: { from: ['draft'], to: 'scheduled', done: 'started' },
  resume: { from: ['paused'], to: 'scheduled', done: 'resumed' },
  pause: { from: ['scheduled', 'running'], to: 'paused', done: 'paused' },
  cancel: { from: ['draft', 'scheduled', 'running', 'paused'], to: 'cancelled', done: 'cancelled' },
} as const satisfies Record<string, Move>;
export type CampaignAction = keyof typeof CAMPAIGN_ACTIONS;

/**
 * What the campaign's job does, each guarded by the job id that owns the campaign (a job
 * a user replaced by resuming cannot move it). `finish` ends in `failed` when nothing was
 * delivered and in `completed` otherwise.
 */
export const WORKER_MOVES = {
  run: { from: ['scheduled', 'running'], to: ['running'] },
  finish: { from: ['running'], to: ['completed', 'failed'] },
  /** WuzAPI said its session is gone: the user must reconnect it, then resume. */
  loseSession: { from: ['scheduled', 'running'], to: ['paused'] },
  /** The job's attempts ran out. */
  giveUp: { from: ['scheduled', 'running'], to: ['failed'] },
} as const satisfies Record<string, { from: readonly CampaignStatus[]; to: readonly CampaignStatus[] }>;

/** Statuses a campaign never leaves. */
export const FINAL_CAMPAIGN_STATUSES: readonly CampaignStatus[] = ['completed', 'cancelled', 'failed'];
