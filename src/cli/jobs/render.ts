import type { JobState, JobStatus } from '../../daemon/queues/jobStatus.ts';
import type { QueueName } from '../../daemon/queues/names.ts';
import { bold, dim, green, red, table, yellow } from '../output.ts';
import { JOB_STATES, type QueueCounts } from './states.ts';

// How `wuzctl jobs` shows counts, lists and one job on a terminal.

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

export function renderCounts(counts: Partial<Record<QueueName, QueueCounts>>): string {
  return table([
    ['QUEUE', ...JOB_STATES.map((s) => s.toUpperCase()), ''].map(dim),
    ...Object.entries(counts).map(([name, c]) => [
      name,
      ...JOB_STATES.map((s) => String(c[s])),
      c.paused ? yellow('paused') : '',
    ]),
  ]);
}

export function renderJobs(list: Array<JobStatus & { tenant_slug: string | null }>): string {
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

export function renderStatus(status: JobStatus): string {
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
