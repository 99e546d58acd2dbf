import { Command } from 'commander';
import { isQueueName, type JobStatus } from '../../daemon/queues/jobStatus.ts';
import { QUEUE_NAMES, type QueueName } from '../../daemon/queues/names.ts';
import { parseDuration } from '../duration.ts';
import {
  countJobs,
  findJob,
  lookup,
  lookupForWatch,
  notFound,
  recentJobs,
  resolveTenant,
  tenantSlugs,
} from '../jobs/read.ts';
import { renderCounts, renderJobs, renderStatus } from '../jobs/render.ts';
import { CLEAN_STATES, JOB_STATES, type QueueCounts } from '../jobs/states.ts';
import { watch } from '../jobs/watch.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { CliError, dim, exitCodes, green, printJson, yellow } from '../output.ts';
import { withQueues } from '../queues.ts';

const CLEAN_BATCH = 10_000;

const PAUSE_CAVEAT =
  "pausing stops every tenant's jobs in that queue (BullMQ has no per-tenant pause); " +
  'pause a single campaign through the API instead';

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
