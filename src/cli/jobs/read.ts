import type { Job, Queue } from 'bullmq';
import type { JobData, Queues } from '../../daemon/queues/index.ts';
import { fromJob, type JobState, type JobStatus, jobStatus, liveJob } from '../../daemon/queues/jobStatus.ts';
import { QUEUE_NAMES, type QueueName } from '../../daemon/queues/names.ts';
import { withDatabase } from '../database.ts';
import { CliError, exitCodes, suggest } from '../output.ts';
import { BULL_TYPES, JOB_STATES, type QueueCounts, UUID } from './states.ts';

/** Reading jobs for `wuzctl jobs`: from Redis while it holds them, else the `jobs` table. */

/** While a watched job is only in the database, read it less often (it may open PGlite). */
const DATABASE_POLL_MS = 5000;
export const notFound = (id: string, hint?: string) =>
  new CliError(`job ${id} not found`, exitCodes.failure, hint);

/** The slugs of the jobs' tenants (one query); empty when the database cannot be read. */
export async function tenantSlugs(
  dataDir: string | undefined,
  list: JobStatus[],
): Promise<Map<string, string>> {
  const ids = [...new Set(list.map((job) => job.tenant_id).filter(Boolean))];
  if (ids.length === 0) return new Map();
  const rows = await withDatabase(dataDir, async (pool) => {
    const { rows } = await pool.query<{ id: string; slug: string }>(
      'SELECT id::text, slug FROM tenants WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return rows;
  }).catch(() => []);
  return new Map(rows.map((row) => [row.id, row.slug]));
}

/** A tenant id as given, or the id of a tenant slug (from the database). */
export async function resolveTenant(dataDir: string | undefined, value: string): Promise<string> {
  if (UUID.test(value)) return value.toLowerCase();
  const id = await withDatabase(dataDir, async (pool) => {
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [value]);
    return rows[0]?.id ?? null;
  });
  if (!id) {
    throw new CliError(
      `no tenant with slug "${value}"`,
      exitCodes.failure,
      `see them with \`${suggest('wuzctl tenants list', dataDir)}\``,
    );
  }
  return id;
}

export async function countJobs(queue: Queue): Promise<QueueCounts> {
  const raw = await queue.getJobCounts(...new Set(Object.values(BULL_TYPES).flat()));
  const counts = { paused: await queue.isPaused() } as QueueCounts;
  for (const state of JOB_STATES) {
    counts[state] = BULL_TYPES[state].reduce((sum, type) => sum + (raw[type] ?? 0), 0);
  }
  return counts;
}

/** The newest `limit` jobs of one queue and state, of one tenant when given. */
export async function recentJobs(
  queue: Queue,
  state: JobState,
  limit: number,
  tenantId: string | null,
): Promise<JobStatus[]> {
  const found: JobStatus[] = [];
  // Unfiltered, the first `limit` are the answer; filtered, page through until enough match.
  const page = tenantId ? Math.max(limit, 500) : limit;
  for (let start = 0; found.length < limit; start += page) {
    const jobs = (await queue.getJobs(BULL_TYPES[state], start, start + page - 1, false)) as Job<JobData>[];
    for (const job of jobs) {
      if (!job.data || (tenantId && job.data.tenantId !== tenantId)) continue;
      found.push(fromJob(job, state));
    }
    if (jobs.length < page) break;
  }
  return found.slice(0, limit);
}

export async function findJob(
  queues: Queues,
  id: string,
): Promise<{ queue: QueueName; job: Job<JobData>; state: JobState } | null> {
  for (const name of QUEUE_NAMES) {
    const live = await liveJob(queues[name], id);
    if (live) return { queue: name, ...live };
  }
  return null;
}

async function liveStatus(queues: Queues, id: string): Promise<JobStatus | null> {
  const found = await findJob(queues, id);
  return found ? fromJob(found.job, found.state) : null;
}

/** Redis while it holds the job, else the `jobs` table (which outlives Redis retention). */
export async function lookup(
  queues: Queues,
  id: string,
  dataDir: string | undefined,
): Promise<JobStatus | null> {
  const live = await liveStatus(queues, id);
  if (live) return live;
  // Our job ids are UUIDs: anything else cannot be in the table (and would not parse as uuid).
  if (!UUID.test(id)) return null;
  return withDatabase(dataDir, (pool) => jobStatus(pool, null, id, null));
}

/** Like lookup, but a job known only to the database is re-read every few seconds. */
export function lookupForWatch(
  queues: Queues,
  id: string,
  dataDir: string | undefined,
): () => Promise<JobStatus | null> {
  let stored: { at: number; status: JobStatus | null } | null = null;
  return async () => {
    const live = await liveStatus(queues, id);
    if (live) {
      stored = null;
      return live;
    }
    if (!UUID.test(id)) return null;
    if (!stored || Date.now() - stored.at >= DATABASE_POLL_MS) {
      stored = {
        at: Date.now(),
        status: await withDatabase(dataDir, (pool) => jobStatus(pool, null, id, null)),
      };
    }
    return stored.status;
  };
}
