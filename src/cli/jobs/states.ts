import type { JobType } from 'bullmq';
import type { JobState } from '../../daemon/queues/jobStatus.ts';

/** The job states `wuzctl jobs` names, and what each is in BullMQ. */
export const JOB_STATES = [
  'waiting',
  'delayed',
  'active',
  'completed',
  'failed',
] as const satisfies readonly JobState[];
export const CLEAN_STATES = ['completed', 'failed', 'delayed', 'waiting'] as const;

/** BullMQ's lists behind each of our states (priority and parent/child waits are "waiting"). */
export const BULL_TYPES: Record<JobState, JobType[]> = {
  waiting: ['waiting', 'prioritized', 'waiting-children'],
  delayed: ['delayed'],
  active: ['active'],
  completed: ['completed'],
  failed: ['failed'],
};

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface QueueCounts extends Record<JobState, number> {
  paused: boolean;
}
