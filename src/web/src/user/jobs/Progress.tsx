import { Link } from 'react-router';
import { dateTime } from '../../shared/format.ts';
import { ErrorState, Loading } from '../../shared/ui/States.tsx';
import type { Campaign, JobStatus } from './types.ts';
import { isPermanent, useJobStatus } from './useJobStatus.ts';

/** A labelled progress bar (`.progress`); `max` 0 shows an empty bar, not NaN. */
export function ProgressBar({ value, max, label }: { value: number; max: number; label: string }) {
  const clamped = Math.max(0, Math.min(value, max));
  const share = max > 0 ? Math.round((clamped / max) * 1000) / 10 : 0;
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={clamped}
      aria-valuetext={max > 0 ? `${clamped} of ${max} (${share}%)` : 'not started'}
    >
      <span style={{ width: `${share}%` }} />
    </div>
  );
}

const OK = new Set(['completed', 'sent']);
const BAD = new Set(['failed', 'cancelled']);
const PLAIN = new Set(['draft']);

/** A status as a coloured badge: done green, failed/cancelled red, under way amber. */
export function StatusBadge({ status }: { status: string }) {
  const tone = OK.has(status)
    ? ' badge-ok'
    : BAD.has(status)
      ? ' badge-bad'
      : PLAIN.has(status)
        ? ''
        : ' badge-warn';
  return <span className={`badge${tone}`}>{status}</span>;
}

/**
 * A campaign's badge: its status, except that a completed campaign with failed messages
 * says so in words and amber — it is not the green "completed" of a full delivery.
 */
export function CampaignBadge({ campaign }: { campaign: Pick<Campaign, 'status' | 'failed'> }) {
  if (campaign.status === 'completed' && campaign.failed > 0) {
    return <span className="badge badge-warn">completed with failures</span>;
  }
  return <StatusBadge status={campaign.status} />;
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** A job's progress in the words of its queue. */
export function JobProgressDetail({ job }: { job: JobStatus }) {
  // The contract leaves `progress` open (each queue reports its own counts): read what is there.
  const progress: Record<string, unknown> =
    job.progress && typeof job.progress === 'object' ? (job.progress as Record<string, unknown>) : {};
  if (job.queue === 'campaign') {
    const total = num(progress.total);
    const done = num(progress.sent) + num(progress.failed) + num(progress.cancelled);
    return (
      <>
        <ProgressBar value={done} max={total} label="Messages processed" />
        <p className="jobs-counts">
          {num(progress.sent)} sent · {num(progress.failed)} failed · {num(progress.cancelled)} cancelled ·{' '}
          {num(progress.pending)} pending of {total}
        </p>
      </>
    );
  }
  if (job.queue === 'import') {
    return (
      <p className="jobs-counts" aria-live="polite">
        {num(progress.rows)} rows read · {num(progress.accepted)} accepted · {num(progress.rejected)} rejected
      </p>
    );
  }
  return (
    <p className="jobs-counts" aria-live="polite">
      {'rows' in progress ? `${num(progress.rows)} rows` : 'Computing…'}
    </p>
  );
}

const SUBJECT_LINK: Record<JobStatus['queue'], (id: string) => string> = {
  campaign: (id) => `/campaigns/${id}`,
  import: () => '/contacts',
  report: (id) => `/reports?id=${id}`,
};

/** A job's status card, polled live until it is completed or failed. */
export function JobStatusCard({ jobId, heading = 'Job status' }: { jobId: string; heading?: string }) {
  const status = useJobStatus(jobId);
  if (status.isPending) return <Loading label="Loading the job's status…" />;
  if (status.isError && !status.data) {
    // A 404 (unknown id, or not yours) will not change by asking again.
    const retry = isPermanent(status.error) ? undefined : () => void status.refetch();
    return <ErrorState error={status.error} retry={retry} />;
  }
  const job = status.data as JobStatus;
  return (
    <section className="card jobs-status" aria-label={heading}>
      <h2>
        {heading} <StatusBadge status={job.state} />
      </h2>
      <dl className="jobs-facts">
        <dt>Job</dt>
        <dd>
          <code>{job.id}</code>
        </dd>
        <dt>Queue</dt>
        <dd>
          {job.queue} · <Link to={SUBJECT_LINK[job.queue](job.subject_id)}>open the {job.queue}</Link>
        </dd>
        <dt>Attempts</dt>
        <dd>{job.attempts}</dd>
        <dt>Created</dt>
        <dd>{dateTime(job.timestamps.created)}</dd>
        <dt>Started</dt>
        <dd>{dateTime(job.timestamps.started)}</dd>
        <dt>Finished</dt>
        <dd>{dateTime(job.timestamps.finished)}</dd>
      </dl>
      <JobProgressDetail job={job} />
      {job.error && (
        <p className="form-error" role="alert">
          {job.error}
        </p>
      )}
      {status.isError && <p className="field-hint">Could not refresh the status; retrying…</p>}
      {job.result !== undefined && (
        <details>
          <summary>Result</summary>
          <pre className="jobs-pre">{JSON.stringify(job.result, null, 2)}</pre>
        </details>
      )}
    </section>
  );
}

/** "Status: All | …" for a list filtered by status; "" is All. */
export function StatusFilter<S extends string>({
  id,
  value,
  statuses,
  onChange,
  className = 'field',
}: {
  id: string;
  value: S | '';
  statuses: readonly S[];
  onChange: (status: S | '') => void;
  className?: string;
}) {
  return (
    <div className={className}>
      <label htmlFor={id}>Status</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value as S | '')}>
        <option value="">All</option>
        {statuses.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
    </div>
  );
}
