import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueConfig } from '../config/types.ts';
import { withTimeout } from '../services/redis.ts';
import { defaultJobOptions, QUEUE_PREFIX, type Queues } from './index.ts';
import type { QueueName } from './names.ts';

/**
 * Opening the BullMQ queues: the one module of the queue code that loads BullMQ itself
 * (index.ts only names its types), so that a process loads it when it opens them —
 * an API worker on its first job (onDemand.ts), not at start.
 */
function openQueue(name: QueueName, connection: Redis, retention: QueueConfig['retention']): Queue {
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

/**
 * The queues of a process that opens them on demand, on a connection it shares. BullMQ's
 * first use of a connection waits for it to be ready — through an outage, for as long as
 * it lasts — and a connection lost while a queue sets up leaves that queue failing for
 * good. So: refuse at once while the connection is away (the route answers 503), and wait
 * for the queues to be ready for at most `timeoutMs`, closing them if they are not (the
 * next request opens new ones). Closing leaves the shared connection open.
 */
export async function openQueuesWhenUp(
  connection: Redis,
  retention: QueueConfig['retention'],
  timeoutMs = 3000,
): Promise<Queues> {
  if (connection.status !== 'ready') throw new Error(`Redis is not connected (${connection.status})`);
  const queues = openQueues(connection, retention);
  try {
    await withTimeout(
      Promise.all(Object.values(queues).map((queue) => queue.waitUntilReady())),
      timeoutMs,
      `the queues were not ready within ${timeoutMs} ms`,
    );
    return queues;
  } catch (error) {
    // Not awaited: the answer is "unavailable" now, whatever closing takes.
    void closeQueues(queues);
    throw error;
  }
}
