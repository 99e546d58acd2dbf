import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueConfig } from '../config/types.ts';
import { defaultJobOptions, QUEUE_PREFIX, type Queues } from './index.ts';
import type { QueueName } from './names.ts';

/**
 * Opening the BullMQ queues: the one module of the queue code that loads BullMQ itself
 * (index.ts only names its types), so that a process loads it when it opens them —
 * an API worker on its first job (onDemand.ts), not at start.
 */
export function openQueue(name: QueueName, connection: Redis, retention: QueueConfig['retention']): Queue {
  return new Queue(name, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: defaultJobOptions(retention),
    // The events stream keeps results too: cap it, or it grows forever.
    streams: { events: { maxLen: 1000 } },
  });
}

export function openQueues(connection: Redis, retention: QueueConfig['retention']): Queues {
  return {
    campaign: openQueue('campaign', connection, retention),
    import: openQueue('import', connection, retention),
    report: openQueue('report', connection, retention),
  };
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.allSettled(Object.values(queues).map((queue) => queue.close()));
}
