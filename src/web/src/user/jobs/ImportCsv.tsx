import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { api, query } from '../../shared/api.ts';
import { useMe } from '../../shared/auth.tsx';
import { keys } from '../../shared/queryKeys.ts';
import { ErrorState, Loading, MutationError } from '../../shared/ui/States.tsx';
import { ProgressBar, StatusBadge } from './Progress.tsx';
import { type Accepted, FINAL_WORK, type Import } from './types.ts';
import { isFinalJob, retryTransient, useJobStatus } from './useJobStatus.ts';

/** The rejections listed on screen (the API keeps the first 1,000). */
const SHOWN_REJECTIONS = 20;

interface Upload extends Accepted {
  filename: string;
  /** Data lines in the file (a header, then rows), for the progress bar's end. */
  lines: number;
}

function dataLines(text: string): number {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '').length;
  return Math.max(0, lines - 1);
}

/**
 * "Import CSV": the chosen file is read here and sent as the request body (text/csv);
 * the import job's progress is then polled until it ends, and its outcome shown. The
 * contacts list is refetched when it is done. The button and the status are placed apart
 * (header and body), so they share this state.
 */
export function useCsvImport() {
  const me = useMe();
  const queryClient = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [current, setCurrent] = useState<Upload | null>(null);
  const upload = useMutation({
    mutationFn: async (file: File) => {
      const text = await file.text();
      const accepted = await api.upload<Accepted>(
        `/api/imports${query({ filename: file.name.slice(0, 200) })}`,
        text,
        'text/csv',
      );
      return { ...accepted, filename: file.name, lines: dataLines(text) };
    },
    onMutate: () => setCurrent(null),
    onSuccess: (accepted) => {
      setCurrent(accepted);
      void queryClient.invalidateQueries({ queryKey: keys(me).imports() });
    },
    onSettled: () => {
      // The same file may be chosen again (after fixing it, or to re-run the import).
      if (input.current) input.current.value = '';
    },
  });
  return { upload, current, dismiss: () => setCurrent(null), input };
}
type CsvImport = ReturnType<typeof useCsvImport>;

export function ImportCsvButton({ state }: { state: CsvImport }) {
  const { upload, input } = state;
  return (
    <label className={`btn jobs-file${upload.isPending ? ' is-busy' : ''}`}>
      {upload.isPending ? 'Uploading…' : 'Import CSV'}
      <input
        ref={input}
        type="file"
        className="visually-hidden"
        accept=".csv,text/csv"
        disabled={upload.isPending}
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          if (file) upload.mutate(file);
        }}
      />
    </label>
  );
}

export function ImportCsvStatus({ state }: { state: CsvImport }) {
  const { upload, current, dismiss } = state;
  if (upload.error) {
    return (
      <div className="jobs-panel">
        <MutationError error={upload.error} />
      </div>
    );
  }
  return current ? <ImportProgress upload={current} onDismiss={dismiss} /> : null;
}

export function ImportProgress({ upload, onDismiss }: { upload: Upload; onDismiss: () => void }) {
  const job = useJobStatus(upload.job_id);
  const done = isFinalJob(job.data);
  return (
    <section className="card jobs-panel" aria-label={`Import of ${upload.filename}`}>
      <div className="jobs-panel-head">
        <h2>
          Import of {upload.filename} <StatusBadge status={job.data?.state ?? 'waiting'} />
        </h2>
        {done && (
          <button type="button" className="btn" onClick={onDismiss}>
            Dismiss
          </button>
        )}
      </div>
      {!done && <LiveImport upload={upload} job={job} />}
      {done && <ImportResult importId={upload.id} jobError={job.data?.error} />}
      <p className="field-hint">
        Job <Link to={`/jobs?id=${upload.job_id}`}>{upload.job_id}</Link>
      </p>
    </section>
  );
}

function LiveImport({ upload, job }: { upload: Upload; job: ReturnType<typeof useJobStatus> }) {
  if (job.isError && !job.data) return <ErrorState error={job.error} retry={() => void job.refetch()} />;
  const progress = (job.data?.progress ?? {}) as { rows?: number; accepted?: number; rejected?: number };
  const rows = progress.rows ?? 0;
  return (
    <div aria-live="polite">
      <ProgressBar
        value={rows}
        max={Math.max(upload.lines, rows)}
        label={`Rows of ${upload.filename} read`}
      />
      <p className="jobs-counts">
        {job.data?.state === 'active' ? 'Importing' : 'Waiting for a worker'}: {rows} rows read ·{' '}
        {progress.accepted ?? 0} accepted · {progress.rejected ?? 0} rejected
      </p>
    </div>
  );
}

/** `GET /api/imports/:id`: the counts, the reasons and the first rejected lines. */
export function ImportResult({ importId, jobError }: { importId: string; jobError?: string }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const result = useQuery({
    queryKey: keys(me).imports(importId),
    queryFn: () => api.get<Import>(`/api/imports/${importId}`),
    retry: retryTransient,
    // The job ends right after the import's row is written; ask again if it lags.
    refetchInterval: (q) => (q.state.data && !FINAL_WORK.includes(q.state.data.status) ? 1000 : false),
  });
  const status = result.data?.status;
  useEffect(() => {
    if (status === 'completed') void queryClient.invalidateQueries({ queryKey: keys(me).contacts() });
  }, [status, queryClient, me]);

  if (result.isPending) return <Loading label="Loading the import's result…" />;
  if (result.isError) return <ErrorState error={result.error} retry={() => void result.refetch()} />;
  const detail = result.data;
  if (detail.status === 'failed' || (detail.status !== 'completed' && jobError)) {
    return (
      <p className="form-error" role="alert">
        The import failed: {detail.error ?? jobError ?? 'unknown error'}
      </p>
    );
  }
  if (detail.status !== 'completed') return <Loading label="Finishing…" />;
  const reasons = Object.entries(detail.rejected_by_reason ?? {});
  const rejections = detail.rejections ?? [];
  return (
    <div className="jobs-result" role="status">
      <dl className="jobs-stats">
        <div>
          <dt>Rows</dt>
          <dd>{detail.total_rows}</dd>
        </div>
        <div>
          <dt>Accepted</dt>
          <dd>{detail.accepted}</dd>
        </div>
        <div>
          <dt>Rejected</dt>
          <dd>{detail.rejected}</dd>
        </div>
      </dl>
      {reasons.length > 0 && (
        <>
          <h3>Rejected by reason</h3>
          <ul className="jobs-reasons">
            {reasons.map(([reason, count]) => (
              <li key={reason}>
                {reason}: {count}
              </li>
            ))}
          </ul>
        </>
      )}
      {rejections.length > 0 && (
        <>
          <h3>First rejected lines</h3>
          <div className="table-wrap jobs-table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Phone</th>
                </tr>
              </thead>
              <tbody>
                {rejections.slice(0, SHOWN_REJECTIONS).map((rejection) => (
                  <tr key={`${rejection.line}-${rejection.reason}`}>
                    <td>{rejection.line}</td>
                    <td>{rejection.reason}</td>
                    <td>{rejection.phone ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {detail.rejected > SHOWN_REJECTIONS && (
            <p className="field-hint">
              Showing the first {SHOWN_REJECTIONS} of {detail.rejected} rejected lines.
            </p>
          )}
        </>
      )}
    </div>
  );
}
