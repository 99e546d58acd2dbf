/** The BullMQ queues the daemon runs, by name (config, metrics, `wuzctl jobs`). */
export const QUEUE_NAMES = ['campaign', 'import', 'report'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
