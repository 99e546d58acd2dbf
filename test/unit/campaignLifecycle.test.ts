import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  CAMPAIGN_ACTIONS,
  CAMPAIGN_STATUSES,
  type CampaignStatus,
  FINAL_CAMPAIGN_STATUSES,
  WORKER_MOVES,
} from '../../src/daemon/queues/campaignLifecycle.ts';
import { ACTION_BUTTONS, offeredActions } from '../../src/web/src/user/jobs/campaignActions.ts';

describe('the campaign lifecycle', () => {
  // The web app imports the table (its statuses: src/web/test/userJobsPages.test.tsx checks
  // the status filters list them); what it adds is which button each action is.
  it("is the web app's too: each action offered from exactly the states the API allows", () => {
    // Every action of the API has its button on the campaign page…
    expect(Object.keys(ACTION_BUTTONS).sort()).toEqual(Object.keys(CAMPAIGN_ACTIONS).sort());
    // …and a campaign in each status gets exactly the buttons whose action the API allows from it.
    for (const status of CAMPAIGN_STATUSES) {
      const allowed = Object.entries(CAMPAIGN_ACTIONS)
        .filter(([, move]) => (move.from as readonly CampaignStatus[]).includes(status))
        .map(([action]) => action);
      expect([...offeredActions(status)].sort(), status).toEqual(allowed.sort());
    }
    // A campaign that is over offers nothing.
    for (const status of FINAL_CAMPAIGN_STATUSES) expect(offeredActions(status), status).toEqual([]);
  });

  it('is drawn in docs/QUEUES.md: every move of a user or of the worker, and no other', async () => {
    const doc = await readFile(new URL('../../docs/QUEUES.md', import.meta.url), 'utf8');
    const diagram = /```mermaid\nstateDiagram-v2\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const drawn = new Set(
      [...diagram.matchAll(/^\s*(\w+) --> (\w+) : (\w+)$/gm)].map(
        ([, from, to, label]) => `${from}>${to}:${label}`,
      ),
    );
    const moves = new Set<string>();
    for (const [action, { from, to }] of Object.entries(CAMPAIGN_ACTIONS)) {
      for (const status of from) moves.add(`${status}>${to}:${action}`);
    }
    for (const [move, { from, to }] of Object.entries(WORKER_MOVES)) {
      for (const status of from)
        for (const target of to) if (status !== target) moves.add(`${status}>${target}:${move}`);
    }
    expect([...drawn].sort()).toEqual([...moves].sort());
  });
});
