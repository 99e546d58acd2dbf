import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  CAMPAIGN_ACTIONS,
  CAMPAIGN_STATUSES,
  WORKER_MOVES,
} from '../../src/daemon/queues/campaignLifecycle.ts';
import { ALLOWED } from '../../src/web/src/user/jobs/campaignActions.ts';
import { CAMPAIGN_STATUSES as WEB_STATUSES } from '../../src/web/src/user/jobs/types.ts';

describe('the campaign lifecycle', () => {
  it("is the web app's too: the same statuses, and each action offered from exactly the states the API allows", () => {
    expect([...WEB_STATUSES]).toEqual([...CAMPAIGN_STATUSES]);
    const server = Object.fromEntries(
      Object.entries(CAMPAIGN_ACTIONS).map(([action, move]) => [action, [...move.from]]),
    );
    expect(Object.fromEntries(Object.entries(ALLOWED).map(([action, from]) => [action, [...from]]))).toEqual(
      server,
    );
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
