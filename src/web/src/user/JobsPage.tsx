import { zodResolver } from '@hookform/resolvers/zod';
import { type UseQueryResult, useQuery } from '@tanstack/react-query';
import { type ReactNode, useEffect } from 'react';
import { useForm } from 'react-hook-form';
import { Link, useSearchParams } from 'react-router';
import type { z } from 'zod';
import { api, type Page as ListPage, query } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { dateTime } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { Field } from '../shared/ui/Field.tsx';
import { ListStates } from '../shared/ui/ListTable.tsx';
import { Page } from '../shared/ui/Page.tsx';
import { EmptyState } from '../shared/ui/States.tsx';
import { ImportResult } from './jobs/ImportCsv.tsx';
import './jobs/jobs.css';
import { JobStatusCard, StatusBadge } from './jobs/Progress.tsx';
import { jobLookup } from './jobs/schemas.ts';
import { type Campaign, type ImportSummary, REPORT_KIND_LABELS, type ReportSummary } from './jobs/types.ts';
import { isFinalJob, retryTransient, useJobStatus } from './jobs/useJobStatus.ts';

const RECENT = 10;

/**
 * A background job's status by id (`?id=`), live until it ends; and the caller's recent
 * imports, reports and campaigns with their job ids, so there is something to click.
 */
export function Component() {
  const [searchParams, setSearchParams] = useSearchParams();
  const id = searchParams.get('id')?.trim() ?? '';
  const form = useForm<z.input<typeof jobLookup>, unknown, z.output<typeof jobLookup>>({
    resolver: zodResolver(jobLookup),
    defaultValues: { id },
  });
  // Following a link to another job fills the box with it.
  useEffect(() => {
    form.reset({ id });
  }, [id, form]);

  return (
    <Page title="Jobs">
      <form
        className="jobs-toolbar"
        noValidate
        onSubmit={form.handleSubmit((values) => setSearchParams({ id: values.id.toLowerCase() }))}
      >
        <Field label="Job id" error={form.formState.errors.id?.message}>
          {(props) => (
            <input
              {...props}
              autoComplete="off"
              spellCheck={false}
              placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
              className="jobs-id-input"
              {...form.register('id')}
            />
          )}
        </Field>
        <button type="submit" className="btn btn-primary">
          Look up
        </button>
      </form>

      {id && <LookedUp key={id} jobId={id} />}

      <div className="jobs-columns">
        <RecentImports />
        <RecentReports />
        <RecentCampaigns />
      </div>
    </Page>
  );
}

function LookedUp({ jobId }: { jobId: string }) {
  const job = useJobStatus(jobId);
  return (
    <>
      <JobStatusCard jobId={jobId} />
      {job.data?.queue === 'import' && isFinalJob(job.data) && (
        <section className="card jobs-panel" aria-label="Import result">
          <h2>Import result</h2>
          <ImportResult importId={job.data.subject_id} jobError={job.data.error} />
        </section>
      )}
    </>
  );
}

const jobLink = (jobId: string | null) =>
  jobId ? (
    <Link to={`/jobs?id=${jobId}`} className="jobs-mono">
      {jobId.slice(0, 8)}…
    </Link>
  ) : (
    '—'
  );

function Recent<T extends { id: string }>({
  title,
  list,
  empty,
  row,
}: {
  title: string;
  list: UseQueryResult<ListPage<T>>;
  empty: string;
  row: (item: T) => ReactNode;
}) {
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      <ListStates list={list} empty={<EmptyState title={empty} />}>
        {(page) => (
          <ul className="jobs-recent">
            {page.data.map((item) => (
              <li key={item.id}>{row(item)}</li>
            ))}
          </ul>
        )}
      </ListStates>
    </section>
  );
}

function RecentImports() {
  const me = useMe();
  const list = useQuery({
    queryKey: [...keys(me).imports(), 'list', { page: 1 }],
    queryFn: () => api.get<ListPage<ImportSummary>>(`/api/imports${query({ per_page: RECENT })}`),
    retry: retryTransient,
  });
  return (
    <Recent
      title="Recent imports"
      list={list}
      empty="No imports yet."
      row={(item) => (
        <>
          <span>
            {item.filename || 'CSV'} <StatusBadge status={item.status} />
          </span>
          <span className="field-hint">
            {item.accepted} accepted · {item.rejected} rejected · {dateTime(item.created_at)}
          </span>
          <span>Job {jobLink(item.job_id)}</span>
        </>
      )}
    />
  );
}

function RecentReports() {
  const me = useMe();
  const list = useQuery({
    queryKey: [...keys(me).reports(), 'list', { page: 1 }],
    queryFn: () => api.get<ListPage<ReportSummary>>(`/api/reports${query({ per_page: RECENT })}`),
    retry: retryTransient,
  });
  return (
    <Recent
      title="Recent reports"
      list={list}
      empty="No reports yet."
      row={(item) => (
        <>
          <span>
            <Link to={`/reports?id=${item.id}`}>{REPORT_KIND_LABELS[item.kind] ?? item.kind}</Link>{' '}
            <StatusBadge status={item.status} />
          </span>
          <span className="field-hint">{dateTime(item.created_at)}</span>
          <span>Job {jobLink(item.job_id)}</span>
        </>
      )}
    />
  );
}

function RecentCampaigns() {
  const me = useMe();
  const params = { page: 1, per_page: RECENT };
  const list = useQuery({
    queryKey: keys(me).campaigns(params),
    queryFn: () => api.get<ListPage<Campaign>>(`/api/campaigns${query(params)}`),
    retry: retryTransient,
  });
  return (
    <Recent
      title="Recent campaigns"
      list={list}
      empty="No campaigns yet."
      row={(item) => (
        <>
          <span>
            <Link to={`/campaigns/${item.id}`}>{item.name}</Link> <StatusBadge status={item.status} />
          </span>
          <span className="field-hint">
            {item.sent} sent of {item.total} · {dateTime(item.created_at)}
          </span>
          <span>Job {jobLink(item.job_id)}</span>
        </>
      )}
    />
  );
}
