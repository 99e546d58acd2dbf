import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, api, type Page as ListPage, query } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { dateTime } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { ConfirmDialog } from '../shared/ui/Dialog.tsx';
import { ListTable } from '../shared/ui/ListTable.tsx';
import { Page } from '../shared/ui/Page.tsx';
import { EmptyState, ErrorState, Loading, MutationError } from '../shared/ui/States.tsx';
import './jobs/jobs.css';
import { ACTION_BUTTONS, type CampaignAction, offeredActions } from './jobs/campaignActions.ts';
import { CampaignBadge, ProgressBar, StatusBadge, StatusFilter } from './jobs/Progress.tsx';
import {
  ACTIVE_CAMPAIGN,
  type Campaign,
  processed,
  RECIPIENT_STATUSES,
  type Recipient,
  type RecipientStatus,
} from './jobs/types.ts';
import { CAMPAIGN_POLL_MS, retryTransient } from './jobs/useJobStatus.ts';

const PER_PAGE = 25;

type Action = CampaignAction;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** One campaign: its progress (live while it sends), its controls and its recipients. */
export function Component() {
  const { id = '' } = useParams();
  const me = useMe();
  const campaign = useQuery({
    queryKey: keys(me).campaign(id),
    queryFn: () => api.get<Campaign>(`/api/campaigns/${encodeURIComponent(id)}`),
    retry: retryTransient,
    refetchInterval: (q) =>
      q.state.data && ACTIVE_CAMPAIGN.includes(q.state.data.status) ? CAMPAIGN_POLL_MS : false,
  });

  if (campaign.isPending) {
    return (
      <Page title="Campaign">
        <Loading label="Loading the campaign…" />
      </Page>
    );
  }
  if (campaign.isError) {
    const missing = campaign.error instanceof ApiError && campaign.error.status === 404;
    return (
      <Page title="Campaign">
        <ErrorState
          error={missing ? new Error('There is no such campaign (or it is not yours).') : campaign.error}
          retry={missing ? undefined : () => void campaign.refetch()}
        />
        <p>
          <Link to="/campaigns">Back to the campaigns</Link>
        </p>
      </Page>
    );
  }
  const c = campaign.data;
  return (
    <Page title={c.name} actions={<Actions campaign={c} />}>
      <p className="jobs-back">
        <Link to="/campaigns">← All campaigns</Link>
      </p>
      <Details campaign={c} />
      <Recipients campaign={c} />
    </Page>
  );
}

function Actions({ campaign }: { campaign: Campaign }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const act = useMutation({
    mutationFn: (action: Action) => api.post<Campaign>(`/api/campaigns/${campaign.id}/${action}`),
    onSuccess: (updated) => {
      queryClient.setQueryData(keys(me).campaign(campaign.id), updated);
      setConfirmCancel(false);
    },
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: keys(me).campaign(campaign.id) });
      void queryClient.invalidateQueries({ queryKey: keys(me).campaigns() });
    },
  });
  const button = (action: Action) => {
    const { label, primary, danger } = ACTION_BUTTONS[action];
    return (
      <button
        key={action}
        type="button"
        className={`btn${primary ? ' btn-primary' : ''}${danger ? ' btn-danger' : ''}`}
        disabled={act.isPending}
        onClick={() => {
          if (action !== 'cancel') {
            act.mutate(action);
            return;
          }
          // Cancelling asks first: what is not sent yet never will be.
          act.reset();
          setConfirmCancel(true);
        }}
      >
        {act.isPending && act.variables === action && action !== 'cancel' ? 'Working…' : label}
      </button>
    );
  };
  return (
    <div className="jobs-actions">
      {offeredActions(campaign.status).map(button)}
      {!confirmCancel && <MutationError error={act.error} />}
      <ConfirmDialog
        open={confirmCancel}
        onOpenChange={(open) => {
          if (!open) act.reset();
          setConfirmCancel(open);
        }}
        title="Cancel this campaign?"
        description="Messages not sent yet will not be sent. A cancelled campaign cannot be resumed."
        confirmLabel="Cancel campaign"
        pending={act.isPending}
        error={<MutationError error={act.error} />}
        onConfirm={() => act.mutate('cancel')}
      />
    </div>
  );
}

function Details({ campaign: c }: { campaign: Campaign }) {
  const active = ACTIVE_CAMPAIGN.includes(c.status);
  const audience =
    'contact_ids' in c.audience
      ? `${c.audience.contact_ids} picked contact${c.audience.contact_ids === 1 ? '' : 's'}`
      : c.audience.filter.q
        ? `contacts matching “${c.audience.filter.q}”`
        : 'all contacts';
  return (
    <section className="card jobs-panel" aria-labelledby="campaign-progress">
      <div className="jobs-panel-head">
        <h2 id="campaign-progress">
          Progress <CampaignBadge campaign={c} />
        </h2>
        {active && (
          <span className="field-hint" aria-hidden="true">
            <span className="spinner" /> live
          </span>
        )}
      </div>
      <ProgressBar value={processed(c)} max={c.total} label="Recipients processed" />
      <dl className="jobs-stats" aria-live="polite">
        <div>
          <dt>Total</dt>
          <dd>{c.total}</dd>
        </div>
        <div>
          <dt>Sent</dt>
          <dd>{c.sent}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd>{c.failed}</dd>
        </div>
        <div>
          <dt>Cancelled</dt>
          <dd>{c.cancelled}</dd>
        </div>
        <div>
          <dt>Pending</dt>
          <dd>{c.pending}</dd>
        </div>
      </dl>
      {c.status === 'scheduled' && c.total === 0 && (
        <p className="field-hint">
          {c.scheduled_at && Date.parse(c.scheduled_at) > Date.now()
            ? `Scheduled for ${dateTime(c.scheduled_at)}.`
            : 'Waiting for a queue worker to pick it up…'}
        </p>
      )}
      {c.error && (
        <p className="form-error" role="alert">
          {c.error}
        </p>
      )}
      <dl className="jobs-facts">
        <dt>Audience</dt>
        <dd>{audience}</dd>
        <dt>Delay between messages</dt>
        <dd>
          {seconds(c.min_delay_ms)} – {seconds(c.max_delay_ms)}
        </dd>
        <dt>Session token</dt>
        <dd>
          <code>{c.session_token_hint}</code>
        </dd>
        <dt>Scheduled</dt>
        <dd>{dateTime(c.scheduled_at)}</dd>
        <dt>Created</dt>
        <dd>{dateTime(c.created_at)}</dd>
        <dt>Started</dt>
        <dd>{dateTime(c.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{dateTime(c.finished_at)}</dd>
        <dt>Job</dt>
        <dd>{c.job_id ? <Link to={`/jobs?id=${c.job_id}`}>{c.job_id}</Link> : '—'}</dd>
      </dl>
      <h3>Template</h3>
      <pre className="jobs-pre">{c.template}</pre>
    </section>
  );
}

function Recipients({ campaign }: { campaign: Campaign }) {
  const me = useMe();
  const [status, setStatus] = useState<RecipientStatus | ''>('');
  const [page, setPage] = useState(1);
  const params = { status, page, per_page: PER_PAGE };
  const active = ACTIVE_CAMPAIGN.includes(campaign.status);
  const queryClient = useQueryClient();
  // Polling stops when the campaign settles: fetch the recipients once more, and the list.
  const wasActive = useRef(active);
  useEffect(() => {
    if (wasActive.current && !active) {
      void queryClient.invalidateQueries({ queryKey: [...keys(me).campaign(campaign.id), 'recipients'] });
      void queryClient.invalidateQueries({ queryKey: keys(me).campaigns() });
    }
    wasActive.current = active;
  }, [active, queryClient, me, campaign.id]);
  const list = useQuery({
    queryKey: [...keys(me).campaign(campaign.id), 'recipients', params],
    queryFn: () => api.get<ListPage<Recipient>>(`/api/campaigns/${campaign.id}/recipients${query(params)}`),
    placeholderData: keepPreviousData,
    retry: retryTransient,
    refetchInterval: active ? CAMPAIGN_POLL_MS * 2 : false,
  });
  return (
    <section aria-labelledby="recipients-title">
      <div className="jobs-panel-head">
        <h2 id="recipients-title">Recipients</h2>
        <StatusFilter
          id="recipient-status"
          className="field jobs-inline"
          value={status}
          statuses={RECIPIENT_STATUSES}
          onChange={(next) => {
            setStatus(next);
            setPage(1);
          }}
        />
      </div>
      <ListTable
        list={list}
        loading="Loading recipients…"
        empty={
          <EmptyState
            title={
              status
                ? `No ${status} recipients.`
                : campaign.status === 'draft' || campaign.status === 'scheduled'
                  ? 'The recipients are listed once the campaign starts.'
                  : 'No recipients.'
            }
          />
        }
        caption="Recipients"
        headers={['#', 'Name', 'Phone', 'Status', 'Attempts', 'Sent', 'Error']}
        className="jobs-table"
        onPage={setPage}
        row={(r) => (
          <tr key={r.position}>
            <td>{r.position + 1}</td>
            <td>{r.name || '—'}</td>
            <td>{r.phone}</td>
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td>{r.attempts}</td>
            <td>{dateTime(r.sent_at)}</td>
            <td className="jobs-wrap">{r.error ?? '—'}</td>
          </tr>
        )}
      />
    </section>
  );
}
