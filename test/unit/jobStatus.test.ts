import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { JobData } from '../../src/daemon/queues/index.ts';
import { fromJob } from '../../src/daemon/queues/jobStatus.ts';

const job = (attemptsMade: number) =>
  ({
    id: 'j1',
    queueName: 'import',
    progress: {},
    attemptsMade,
    timestamp: Date.UTC(2026, 11, 1),
    data: { tenantId: 't', ownerId: 'o', subjectId: 's' },
  }) as unknown as Job<JobData>;

describe('a job as its status shows it', () => {
  it('counts the attempt in progress: an active job is on attempt 1, not 0', () => {
    expect(fromJob(job(0), 'active').attempts).toBe(1);
    expect(fromJob(job(1), 'active').attempts).toBe(2);
    expect(fromJob(job(0), 'waiting').attempts).toBe(0);
    expect(fromJob(job(1), 'completed').attempts).toBe(1);
  });
});
