import {
  CAMPAIGN_ACTIONS,
  type CampaignAction,
  type CampaignStatus,
} from '../../../../daemon/queues/campaignLifecycle.ts';

export type { CampaignAction };

/**
 * The campaign page's action buttons, in the order it shows them: one for every action
 * of the API's lifecycle table (a new action does not compile until it has its button).
 */
export const ACTION_BUTTONS: Record<CampaignAction, { label: string; primary?: boolean; danger?: boolean }> =
  {
    start: { label: 'Start', primary: true },
    pause: { label: 'Pause' },
    resume: { label: 'Resume', primary: true },
    cancel: { label: 'Cancel campaign', danger: true },
  };

/**
 * The buttons a campaign in `status` gets: those whose action the API allows from it. The
 * states come from the server's own table (src/daemon/queues/campaignLifecycle.ts,
 * imported, not copied), so the app never offers a button the API would refuse.
 */
export function offeredActions(status: CampaignStatus): CampaignAction[] {
  return (Object.keys(ACTION_BUTTONS) as CampaignAction[]).filter((action) =>
    (CAMPAIGN_ACTIONS[action].from as readonly CampaignStatus[]).includes(status),
  );
}
