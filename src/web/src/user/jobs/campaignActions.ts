import type { CampaignStatus } from './types.ts';

export type CampaignAction = 'start' | 'pause' | 'resume' | 'cancel';

/**
 * What the server allows from each state: a copy of its lifecycle table
 * (src/daemon/queues/campaignLifecycle.ts), which test/unit/campaignLifecycle.test.ts
 * keeps equal, so the app never offers a button the API would refuse.
 */
export const ALLOWED: Record<CampaignAction, readonly CampaignStatus[]> = {
  start: ['draft'],
  pause: ['scheduled', 'running'],
  resume: ['paused'],
  cancel: ['draft', 'scheduled', 'running', 'paused'],
};
