import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, JobType, Queue } from 'bullmq';
import { Command } from 'commander';
import yoctoSpinner, { type Spinner } from 'yocto-spinner';
import { QUEUE_NAMES, type QueueName } from '../../daemon/config.ts';
import type { JobData, Queues } from '../../daemon/queues/index.ts';
import {
  fromJob,
  isQueueName,
  type JobState,
  type JobStatus,
  jobStatus,
  liveJob,
} from '../../daemon/queues/jobStatus.ts';
import { withDatabase } from '../database.ts';
import { parseDuration } from '../duration.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { bold, CliError, dim, exitCodes, green, printJson, red, suggest, table, yellow } from '../output.ts';
import { withQueues } from '../queues.ts';

const JOB_STATES = [
  'waiting',
  'delayed',
  'active',
  'completed',
  'failed',
] as const satisfies readonly JobState[];
const CLEAN_STATES = ['completed', 'failed', 'delayed', 'waiting'] as const;

/** BullMQ's lists behind each of our states (priority and parent/child waits are "waiting"). */
const BULL_TYPES: Record<JobState, JobType[]> = {
  waiting: ['waiting', 'prioritized', 'waiting-children'],
  delayed: ['delayed'],
  active: ['active'],
  completed: ['completed'],
  failed: ['failed'],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const POLL_MS = 500;
/** While a watched job is only in the database, read it less often (it may open PGlite). */
const DATABASE_POLL_MS = 5000;
const CLEAN_BATCH = 10_000;

const PAUSE_CAVEAT =
  "pausing stops every tenant's jobs in that queue (BullMQ has no per-tenant pause); " +
  'pause a single campaign through the API instead';

export interface QueueCounts extends Record<JobState, number> {
  paused: boolean;
}

export function jobsCommand(): Command {
  const jobs = new Command('jobs').description(
    'inspect and operate the background job queues (campaign, import, report) of a running daemon, or of REDIS_URL',
  );

  jobs
    .command('list')
    .description('job counts per queue and state, then the most recent jobs')
    .option('--queue <queue>', `only this queue: ${QUEUE_NAMES.join(', ')}`)
    .option('--state <state>', `only jobs in this state: ${JOB_STATES.join(', ')}`)
    .option('--tenant <tenant>', 'only jobs of this tenant (slug or id); the counts stay queue-wide')
    .option('--limit <n>', 'how many jobs to show', '20')
    .addOption(dataDirOption())
    .addOption(
      jsonOption('print {"counts":{queue:{waiting,delayed,active,completed,failed,paused}},"jobs":[…]}'),
    )
    .action(
      async (options: {
        queue?: string;
        state?: string;
        tenant?: string;
        limit: string;
        dataDir?: string;
        json?: boolean;
      }) => {
        const queueNames = options.queue ? [queueArg(options.queue)] : [...QUEUE_NAMES];
        const states = options.state ? [stateArg(options.state, JOB_STATES)] : [...JOB_STATES];
        const limit = Number(options.limit);
        if (!/^\d+$/.test(options.limit) || limit < 1 || limit > 1000) {
          throw new CliError('--limit must be a whole number from 1 to 1000', exitCodes.usage);
        }
        const tenantId = options.tenant ? await resolveTenant(options.dataDir, options.tenant) : null;
        const { counts, list } = await withQueues(options.dataDir, async (queues) => {
          const counts: Partial<Record<QueueName, QueueCounts>> = {};
          for (const name of queueNames) counts[name] = await countJobs(queues[name]);
          const found: JobStatus[] = [];
          for (const name of queueNames) {
            for (const state of states)
              found.push(...(await recentJobs(queues[name], state, limit, tenantId)));
          }
          found.sort((a, b) => (b.timestamps.created ?? '').localeCompare(a.timestamps.created ?? ''));
          return { counts, list: found.slice(0, limit) };
        });
        const slugs = await tenantSlugs(options.dataDir, list);
        const named = list.map((job) => ({ ...job, tenant_slug: slugs.get(job.tenant_id) ?? null }));
        if (options.json) {
          printJson({ counts, jobs: named });
          return;
        }
        process.stdout.write(`${renderCounts(counts)}\n\n`);
        if (named.length === 0) {
          process.stdout.write(`${dim('no jobs match')}\n`);
          return;
        }
        process.stdout.write(`${renderJobs(named)}\n`);
      },
    );

  jobs
    .command('status')
    .description(
      'one job: state, progress, attempts, timestamps, result or error (from Redis, else the database)',
    )
    .argument('<id>', 'the job id')
    .option('--watch', 'follow the job until it completes (exit 0) or fails (exit 1)')
    .addOption(dataDirOption())
    .addOption(jsonOption('print the status as JSON; with --watch, one JSON line per change'))
    .action(async (id: string, options: { watch?: boolean; dataDir?: string; json?: boolean }) => {
      const status = await withQueues(options.dataDir, async (queues) => {
        const first = await lookup(queues, id, options.dataDir);
        if (!first) throw notFound(id);
        if (!options.watch) return first;
        return watch(first, lookupForWatch(queues, id, options.dataDir), Boolean(options.json));
      });
      if (options.watch) {
        if (!options.json) process.stdout.write(`${renderStatus(status)}\n`);
        if (status.state === 'failed') process.exitCode = exitCodes.failure;
        return;
      }
      if (options.json) printJson(status);
      else process.stdout.write(`${renderStatus(status)}\n`);
    });

  jobs
    .command('retry')
    .description('run a failed job again (its attempts count on from where they were)')
    .argument('<id>', 'the job id')
    .addOption(dataDirOption())
    .addOption(jsonOption('print {"id","queue","state"}'))
    .action(async (id: string, options: { dataDir?: string; json?: boolean }) => {
      const queue = await withQueues(options.dataDir, async (queues) => {
        const found = await findJob(queues, id);
        if (!found) throw notFound(id, 'only jobs still in Redis can be retried (see --job-retention)');
        if (found.state !== 'failed') {
          throw new CliError(`job ${id} is ${found.state}; only failed jobs can be retried`);
        }
        await found.job.retry('failed').catch((error: Error) => {
          throw new CliError(`job ${id} could not be retried: ${error.message}`);
        });
        return found.queue;
      });
      if (options.json) printJson({ id, queue, state: 'waiting' });
      else process.stdout.write(`${green('retrying')} ${queue} job ${id}\n`);
    });

  jobs
    .command('remove')
    .description('delete a job that is not running from Redis (its row in the database stays)')
    .argument('<id>', 'the job id')
    .addOption(dataDirOption())
    .addOption(jsonOption('print {"id","queue","removed"}'))
    .action(async (id: string, options: { dataDir?: string; json?: boolean }) => {
      const queue = await withQueues(options.dataDir, async (queues) => {
        const found = await findJob(queues, id);
        if (!found) throw notFound(id);
        if (found.state === 'active') {
          throw new CliError(`job ${id} is running; pause its queue or wait`);
        }
        await found.job.remove().catch((error: Error) => {
          throw new CliError(`job ${id} could not be removed: ${error.message}`);
        });
        return found.queue;
      });
      if (options.json) printJson({ id, queue, removed: true });
      else process.stdout.write(`${green('removed')} ${queue} job ${id}\n`);
    });

  for (const action of ['pause', 'resume'] as const) {
    jobs
      .command(action)
      .description(
        action === 'pause'
          ? `stop handing out the jobs of a queue (running jobs finish); ${PAUSE_CAVEAT}`
          : 'hand out the jobs of a paused queue again',
      )
      .argument('<queue>', `the queue: ${QUEUE_NAMES.join(', ')}`)
      .addOption(dataDirOption())
      .addOption(jsonOption('print {"queue","paused"}'))
      .action(async (name: string, options: { dataDir?: string; json?: boolean }) => {
        const queueName = queueArg(name);
        const paused = await withQueues(options.dataDir, async (queues) => {
          const queue = queues[queueName];
          if (action === 'pause') await queue.pause();
          else await queue.resume();
          return queue.isPaused();
        });
        if (options.json) {
          printJson({ queue: queueName, paused });
          return;
        }
        process.stdout.write(`${queueName} queue ${paused ? yellow('paused') : green('running')}\n`);
        if (paused) {
          process.stderr.write(
            dim(`every tenant's ${queueName} jobs wait until: wuzctl jobs resume ${queueName}\n`),
          );
        }
      });
  }

  jobs
    .command('clean')
    .description('delete the jobs of a queue in one state that are older than a duration (Redis only)')
    .argument('<queue>', `the queue: ${QUEUE_NAMES.join(', ')}`)
    .requiredOption('--state <state>', `which jobs: ${CLEAN_STATES.join(', ')}`)
    .requiredOption('--older-than <duration>', 'minimum age, e.g. 30s, 15m, 2h, 7d (0s: all of them)')
    .addOption(dataDirOption())
    .addOption(jsonOption('print {"removed"}'))
    .action(
      async (
        name: string,
        options: { state: string; olderThan: string; dataDir?: string; json?: boolean },
      ) => {
        const queueName = queueArg(name);
        const state = stateArg(options.state, CLEAN_STATES);
        const graceMs = parseDuration(options.olderThan);
        if (graceMs === null) {
          throw new CliError(
            `invalid duration "${options.olderThan}"`,
            exitCodes.usage,
            'a number and a unit: 30s, 15m, 2h, 7d (also ms and w)',
          );
        }
        const removed = await withQueues(options.dataDir, async (queues) => {
          let total = 0;
          for (;;) {
            const ids = await queues[queueName].clean(graceMs, CLEAN_BATCH, state);
            total += ids.length;
            if (ids.length < CLEAN_BATCH) return total;
          }
        });
        if (options.json) printJson({ removed });
        else
          process.stdout.write(
            `${green('removed')} ${removed} ${state} ${queueName} job${removed === 1 ? '' : 's'} older than ${options.olderThan}\n`,
          );
      },
    );

  return jobs;
}

// ---------------------------------------------------------------------------------------
// Arguments

function queueArg(value: string): QueueName {
  if (!isQueueName(value)) {
    throw new CliError(`unknown queue "${value}"`, exitCodes.usage, `queues: ${QUEUE_NAMES.join(', ')}`);
  }
  return value;
}

function stateArg<S extends string>(value: string, valid: readonly S[]): S {
  if (!(valid as readonly string[]).includes(value)) {
    throw new CliError(`unknown state "${value}"`, exitCodes.usage, `states: ${valid.join(', ')}`);
  }
  return value as S;
}

/** The slugs of the jobs' tenants (one query); empty when the database cannot be read. */
async function tenantSlugs(dataDir: string | undefined, list: JobStatus[]): Promise<Map<string, string>> {
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
async function resolveTenant(dataDir: string | undefined, value: string): Promise<string> {
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

const notFound = (id: string, hint?: string) => new CliError(`job ${id} not found`, exitCodes.failure, hint);

// ---------------------------------------------------------------------------------------
// Reading the queues

export async function countJobs(queue: Queue): Promise<QueueCounts> {
  const raw = await queue.getJobCounts(...new Set(Object.values(BULL_TYPES).flat()));
  const counts = { paused: await queue.isPaused() } as QueueCounts;
  for (const state of JOB_STATES) {
    counts[state] = BULL_TYPES[state].reduce((sum, type) => sum + (raw[type] ?? 0), 0);
  }
  return counts;
}

/** The newest `limit` jobs of one queue and state, of one tenant when given. */
async function recentJobs(
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

async function findJob(
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
async function lookup(queues: Queues, id: string, dataDir: string | undefined): Promise<JobStatus | null> {
  const live = await liveStatus(queues, id);
  if (live) return live;
  // Our job ids are UUIDs: anything else cannot be in the table (and would not parse as uuid).
  if (!UUID.test(id)) return null;
  return withDatabase(dataDir, (pool) => jobStatus(pool, null, id, null));
}

/** Like lookup, but a job known only to the database is re-read every few seconds. */
function lookupForWatch(
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

const isFinal = (state: JobState) => state === 'completed' || state === 'failed';

/**
 * Polls until the job completes or fails and returns its last status. A terminal gets a
 * spinner line on stderr; otherwise each change is one line on stdout (NDJSON with --json).
 */
async function watch(
  first: JobStatus,
  read: () => Promise<JobStatus | null>,
  json: boolean,
): Promise<JobStatus> {
  const spinner: Spinner | null =
    !json && process.stderr.isTTY
      ? yoctoSpinner({ stream: process.stderr, handleSignals: false }).start()
      : null;
  const interrupted = () => {
    spinner?.stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  let status = first;
  let shown = '';
  try {
    for (;;) {
      const key = JSON.stringify(status);
      if (key !== shown) {
        shown = key;
        if (json) process.stdout.write(`${key}\n`);
        else if (spinner) spinner.text = watchLine(status);
        else process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${watchLine(status)}\n`);
      }
      if (isFinal(status.state)) break;
      await sleep(POLL_MS);
      const next = await read();
      if (!next) throw notFound(status.id, 'it was removed while being watched');
      status = next;
    }
  } finally {
    process.off('SIGINT', interrupted);
    if (spinner && !isFinal(status.state)) spinner.stop();
  }
  if (spinner) {
    if (status.state === 'completed') spinner.success(watchLine(status));
    else spinner.error(watchLine(status));
  }
  return status;
}

/** Short enough for one terminal line: the id is the one the user typed. */
const watchLine = (status: JobStatus) =>
  `${status.queue} job ${status.state} · ${describeProgress(status.progress)}`;

// ---------------------------------------------------------------------------------------
// Rendering

/**
 * Any numeric fields of a progress object, in their order, led by a percentage when the
 * object has a `total` and a done count: `total - pending`, else `done`/`processed`,
 * else the sum of the other counters (sent + failed + …).
 */
export function describeProgress(progress: unknown): string {
  if (typeof progress === 'number') return `${progress}%`;
  if (progress === null || typeof progress !== 'object') {
    return progress === undefined || progress === null || progress === '' ? '-' : String(progress);
  }
  const numbers = Object.entries(progress as Record<string, unknown>).filter(
    (entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]),
  );
  if (numbers.length === 0) return '-';
  const field = new Map(numbers);
  const parts = numbers.map(([key, value]) => `${key} ${value}`);
  const total = field.get('total');
  if (total !== undefined && total > 0) {
    const others = numbers.filter(([key]) => key !== 'total' && key !== 'pending');
    const done =
      field.get('pending') !== undefined
        ? total - (field.get('pending') as number)
        : (field.get('done') ??
          field.get('processed') ??
          (others.length > 0 ? others.reduce((sum, [, value]) => sum + value, 0) : undefined));
    if (done !== undefined) {
      parts.unshift(`${Math.min(100, Math.max(0, Math.floor((done / total) * 100)))}%`);
    }
  }
  return parts.join(' · ');
}

const colourState = (state: JobState) =>
  state === 'completed'
    ? green(state)
    : state === 'failed'
      ? red(state)
      : state === 'active'
        ? bold(state)
        : state;

const time = (iso: string | null) => (iso ? iso.slice(0, 19).replace('T', ' ') : '-');

function renderCounts(counts: Partial<Record<QueueName, QueueCounts>>): string {
  return table([
    ['QUEUE', ...JOB_STATES.map((s) => s.toUpperCase()), ''].map(dim),
    ...Object.entries(counts).map(([name, c]) => [
      name,
      ...JOB_STATES.map((s) => String(c[s])),
      c.paused ? yellow('paused') : '',
    ]),
  ]);
}

function renderJobs(list: Array<JobStatus & { tenant_slug: string | null }>): string {
  return table([
    ['ID', 'QUEUE', 'STATE', 'TENANT', 'ATTEMPTS', 'PROGRESS', 'CREATED (UTC)', 'FINISHED (UTC)'].map(dim),
    ...list.map((job) => [
      job.id,
      job.queue,
      colourState(job.state),
      job.tenant_slug ?? (job.tenant_id ? job.tenant_id.slice(0, 8) : '-'),
      String(job.attempts),
      describeProgress(job.progress),
      time(job.timestamps.created),
      time(job.timestamps.finished),
    ]),
  ]);
}

function renderStatus(status: JobStatus): string {
  const row = (label: string, value: string) => `  ${dim(label.padEnd(9))} ${value}`;
  const lines = [
    `${bold('job')} ${status.id}`,
    row('queue', status.queue),
    row('state', colourState(status.state)),
    row('progress', describeProgress(status.progress)),
    row('attempts', String(status.attempts)),
    row('tenant', status.tenant_id),
    row('subject', status.subject_id),
    row('created', time(status.timestamps.created)),
    row('started', time(status.timestamps.started)),
    row('finished', time(status.timestamps.finished)),
  ];
  if (status.result !== undefined) lines.push(row('result', JSON.stringify(status.result)));
  if (status.error) lines.push(row('error', red(status.error)));
  return lines.join('\n');
}
