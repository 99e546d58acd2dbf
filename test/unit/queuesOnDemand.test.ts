import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { Queues } from '../../src/daemon/queues/index.ts';
import { QUEUE_NAMES } from '../../src/daemon/queues/names.ts';
import { QueuesOnDemand } from '../../src/daemon/queues/onDemand.ts';

/** Stand-ins for BullMQ's queues: what is checked here is when they are opened and closed. */
function queuesRecordingClose(closed: string[]): Queues {
  const queues: Partial<Queues> = {};
  for (const name of QUEUE_NAMES) {
    queues[name] = {
      name,
      close: async () => {
        closed.push(name);
      },
    } as unknown as Queue;
  }
  return queues as Queues;
}

describe('QueuesOnDemand (an API worker opens its queues with its first job)', () => {
  it('opens nothing until asked, then once for every caller, even at the same time', async () => {
    let opened = 0;
    const queues = new QueuesOnDemand(async () => {
      opened++;
      return queuesRecordingClose([]);
    });
    expect(opened).toBe(0);
    const [campaign, report, again] = await Promise.all([
      queues.queue('campaign'),
      queues.queue('report'),
      queues.queue('campaign'),
    ]);
    expect(opened).toBe(1);
    expect(campaign.name).toBe('campaign');
    expect(report.name).toBe('report');
    expect(again).toBe(campaign);
  });

  it('tries again after an opening that failed', async () => {
    let attempts = 0;
    const queues = new QueuesOnDemand(async () => {
      attempts++;
      if (attempts === 1) throw new Error('no BullMQ today');
      return queuesRecordingClose([]);
    });
    await expect(queues.queue('import')).rejects.toThrow('no BullMQ today');
    expect((await queues.queue('import')).name).toBe('import');
    expect(attempts).toBe(2);
  });

  it('closes only what was opened', async () => {
    const closed: string[] = [];
    let opened = 0;
    const never = new QueuesOnDemand(async () => {
      opened++;
      return queuesRecordingClose(closed);
    });
    await never.close();
    expect({ opened, closed }).toEqual({ opened: 0, closed: [] });

    const used = new QueuesOnDemand(async () => queuesRecordingClose(closed));
    await used.queue('report');
    await used.close();
    expect(closed.sort()).toEqual([...QUEUE_NAMES].sort());
  });
});
