import type { Queue } from 'bullmq';
import type { QueueSource, Queues } from './index.ts';
import type { QueueName } from './names.ts';

/**
 * The queues of a process that enqueues now and then — an API worker: most of its requests
 * never touch a job. BullMQ and what it brings (its Lua scripts, luxon, cron-parser,
 * msgpackr) are ~6 MB of an idle worker's memory, so they are loaded and the queues opened
 * by the first request that enqueues a job or reads one's live state (one import, ~0.1 s,
 * once per worker); requests that arrive meanwhile wait for the same opening.
 */
export class QueuesOnDemand implements QueueSource {
  private opening?: Promise<Queues>;
  private readonly open: () => Promise<Queues>;

  constructor(open: () => Promise<Queues>) {
    this.open = open;
  }

  queue(name: QueueName): Promise<Queue> {
    // An opening that failed is tried again by the next request, not remembered.
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening.then((queues) => queues[name]);
  }

  /** Closes them if they were opened; an opening still under way is waited for. */
  async close(): Promise<void> {
    const queues = await this.opening?.catch(() => undefined);
    if (!queues) return;
    const { closeQueues } = await import('./open.ts');
    await closeQueues(queues);
  }
}
