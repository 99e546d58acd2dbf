import { zodResolver } from '@hookform/resolvers/zod';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, useSearchParams } from 'react-router';
import { ApiError, api, type Page as ListPage, query } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { dateTime, percent } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { Dialog } from '../shared/ui/Dialog.tsx';
import { Field } from '../shared/ui/Field.tsx';
import { ListTable } from '../shared/ui/ListTable.tsx';
import { Page } from '../shared/ui/Page.tsx';
import { EmptyState, ErrorState, Loading, MutationError } from '../shared/ui/States.tsx';
import { downloadWithToken } from './jobs/download.ts';
import './jobs/jobs.css';
import { StatusBadge } from './jobs/Progress.tsx';
import { type ReportBody, type ReportFormInput, reportForm, UUID } from './jobs/schemas.ts';
import {
  type Accepted,
  FINAL_WORK,
  REPORT_KIND_LABELS,
  REPORT_KINDS,
  type Report,
  type ReportSummary,
} from './jobs/types.ts';
import { retryTransient } from './jobs/useJobStatus.ts';

const PER_PAGE = 20;
/** Rows drawn on screen; the CSV has them all. */
const SHOWN_ROWS = 500;

const day = (iso: string) =>
  new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(new Date(iso));
/** The period's end is exclusive (midnight after the last day): show the last day. */
const period = (r: Pick<ReportSummary, 'period_from' | 'period_to'>) =>
  `${day(r.period_from)} – ${day(new Date(Date.parse(r.period_to) - 1).toISOString())}`;

/**
 * Reports: each is computed by a queue worker; the selected one (`?id=`) is shown live
 * until it is completed, then as a table with its CSV to download.
 */
export function Component() {
  const me = useMe();
  const queryClient = useQueryClient();
  const [searchParams, setSearchParams] = useSearchParams();
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const selected = searchParams.get('id');
  const list = useQuery({
    queryKey: [...keys(me).reports(), 'list', { page }],
    queryFn: () => api.get<ListPage<ReportSummary>>(`/api/reports${query({ page, per_page: PER_PAGE })}`),
    placeholderData: keepPreviousData,
    retry: retryTransient,
    refetchInterval: (q) => (q.state.data?.data.some((r) => !FINAL_WORK.includes(r.status)) ? 3000 : false),
  });
  const select = (id: string | null) =>
    setSearchParams(id ? { id } : {}, { replace: false, preventScrollReset: true });

  return (
    <Page
      title="Reports"
      actions={
        <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
          New report
        </button>
      }
    >
      {selected && <ReportView id={selected} onClose={() => select(null)} />}

      <ListTable
        list={list}
        loading="Loading reports…"
        empty={
          <EmptyState title="No reports yet.">
            <p>Create one: campaign delivery or daily usage over a period.</p>
          </EmptyState>
        }
        heading="Your reports"
        caption="Your reports"
        headers={['Kind', 'Scope', 'Period', 'Status', 'Rows', 'Created']}
        actions
        className="jobs-table"
        onPage={setPage}
        row={(report) => (
          <tr key={report.id} aria-current={report.id === selected ? 'true' : undefined}>
            <td>{REPORT_KIND_LABELS[report.kind] ?? report.kind}</td>
            <td>{report.scope === 'tenant' ? 'Tenant' : 'Mine'}</td>
            <td>{period(report)}</td>
            <td>
              <StatusBadge status={report.status} />
            </td>
            <td>{report.row_count ?? '—'}</td>
            <td>{dateTime(report.created_at)}</td>
            <td>
              <div className="row-actions">
                <Link
                  className="btn jobs-linkbtn"
                  to={`/reports?id=${report.id}`}
                  aria-label={`View the ${REPORT_KIND_LABELS[report.kind] ?? report.kind} report of ${dateTime(report.created_at)}`}
                >
                  View
                </Link>
              </div>
            </td>
          </tr>
        )}
      />

      <Dialog open={creating} onOpenChange={setCreating} title="New report">
        <ReportForm
          onCreated={(accepted) => {
            setCreating(false);
            void queryClient.invalidateQueries({ queryKey: keys(me).reports() });
            select(accepted.id);
          }}
        />
      </Dialog>
    </Page>
  );
}

function ReportForm({ onCreated }: { onCreated: (accepted: Accepted) => void }) {
  const me = useMe();
  const admin = me.user.role === 'admin';
  const form = useForm<ReportFormInput, unknown, ReportBody>({
    resolver: zodResolver(reportForm),
    defaultValues: { kind: 'campaign_delivery', from: '', to: '', scope: admin ? 'tenant' : '' },
  });
  const create = useMutation({
    mutationFn: (body: ReportBody) => api.post<Accepted>('/api/reports', body),
    onSuccess: onCreated,
  });
  const { errors } = form.formState;
  return (
    <form noValidate onSubmit={form.handleSubmit((body) => create.mutate(body))}>
      <Field label="Kind" error={errors.kind?.message}>
        {(props) => (
          <select {...props} {...form.register('kind')}>
            {REPORT_KINDS.filter((kind) => admin || kind !== 'subscriptions').map((kind) => (
              <option key={kind} value={kind}>
                {REPORT_KIND_LABELS[kind]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="jobs-row">
        <Field label="From (optional)" error={errors.from?.message}>
          {(props) => <input {...props} type="date" {...form.register('from')} />}
        </Field>
        <Field label="To (optional)" error={errors.to?.message}>
          {(props) => <input {...props} type="date" {...form.register('to')} />}
        </Field>
      </div>
      <p className="field-hint jobs-below">Both days included. Empty: the last 30 days. At most 366 days.</p>
      {admin && (
        <Field label="Scope" error={errors.scope?.message}>
          {(props) => (
            <select {...props} {...form.register('scope')}>
              <option value="tenant">Whole tenant</option>
              <option value="owner">Only my own data</option>
            </select>
          )}
        </Field>
      )}
      <MutationError error={create.error} />
      <div className="dialog-actions">
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create report'}
        </button>
      </div>
    </form>
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function cell(column: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'number' && column.endsWith('_rate')) return percent(value);
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)) return dateTime(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function ReportView({ id, onClose }: { id: string; onClose: () => void }) {
  const me = useMe();
  const valid = UUID.test(id);
  const report = useQuery({
    queryKey: keys(me).reports(id),
    queryFn: () => api.get<Report>(`/api/reports/${encodeURIComponent(id)}`),
    enabled: valid,
    retry: retryTransient,
    refetchInterval: (q) => (q.state.data && !FINAL_WORK.includes(q.state.data.status) ? 1000 : false),
  });
  const download = useMutation({
    mutationFn: (r: Report) =>
      downloadWithToken(`/api/reports/${r.id}?format=csv`, `${r.kind}-${r.period_from.slice(0, 10)}.csv`),
  });

  const head = (title: string, status?: string) => (
    <div className="jobs-panel-head">
      <h2 id="report-title">
        {title} {status && <StatusBadge status={status} />}
      </h2>
      <button type="button" className="btn" onClick={onClose}>
        Close
      </button>
    </div>
  );

  if (!valid || report.isError) {
    const missing = !valid || (report.error instanceof ApiError && report.error.status === 404);
    return (
      <section className="card jobs-panel" aria-labelledby="report-title">
        {head('Report')}
        <ErrorState
          error={missing ? new Error('There is no such report (or it is not yours).') : report.error}
          retry={missing ? undefined : () => void report.refetch()}
        />
      </section>
    );
  }
  if (report.isPending) {
    return (
      <section className="card jobs-panel" aria-labelledby="report-title">
        {head('Report')}
        <Loading label="Loading the report…" />
      </section>
    );
  }
  const r = report.data;
  const title = `${REPORT_KIND_LABELS[r.kind] ?? r.kind} · ${period(r)}`;
  const columns = r.columns ?? [];
  const rows = r.rows ?? [];
  return (
    <section className="card jobs-panel" aria-labelledby="report-title">
      {head(title, r.status)}
      <p className="field-hint">
        {r.scope === 'tenant' ? 'Whole tenant' : 'Your own data'} · created {dateTime(r.created_at)}
        {r.job_id && (
          <>
            {' '}
            · job <Link to={`/jobs?id=${r.job_id}`}>{r.job_id}</Link>
          </>
        )}
      </p>
      {r.status === 'failed' ? (
        <p className="form-error" role="alert">
          The report failed: {r.error ?? 'unknown error'}
        </p>
      ) : r.status !== 'completed' ? (
        <Loading label={r.status === 'running' ? 'Computing the report…' : 'Waiting for a worker…'} />
      ) : (
        <>
          <div className="jobs-actions">
            <button
              type="button"
              className="btn btn-primary"
              disabled={download.isPending}
              onClick={() => download.mutate(r)}
            >
              {download.isPending ? 'Downloading…' : 'Download CSV'}
            </button>
            <span className="field-hint" role="status">
              {download.isSuccess ? `Saved ${download.data}.` : plural(r.row_count ?? rows.length, 'row')}
            </span>
          </div>
          <MutationError error={download.error} />
          {rows.length === 0 ? (
            <EmptyState title="No rows in this period." />
          ) : (
            <div className="table-wrap jobs-table">
              <table>
                <caption className="visually-hidden">{title}</caption>
                <thead>
                  <tr>
                    {columns.map((column) => (
                      <th key={column} scope="col">
                        {column.replaceAll('_', ' ')}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.slice(0, SHOWN_ROWS).map((row, index) => (
                    // Report rows have no id of their own; their order is fixed.
                    // biome-ignore lint/suspicious/noArrayIndexKey: rows are static once completed
                    <tr key={index}>
                      {columns.map((column) => (
                        <td key={column}>{cell(column, row[column])}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {rows.length > SHOWN_ROWS && (
            <p className="field-hint">
              Showing {SHOWN_ROWS} of {rows.length} rows; the CSV has them all.
            </p>
          )}
        </>
      )}
    </section>
  );
}
