import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, type Page as ListPage, query } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { dateTime } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { Dialog } from '../shared/ui/Dialog.tsx';
import { ListTable } from '../shared/ui/ListTable.tsx';
import { Page } from '../shared/ui/Page.tsx';
import { EmptyState } from '../shared/ui/States.tsx';
import { CampaignForm } from './jobs/CampaignForm.tsx';
import './jobs/jobs.css';
import { CampaignBadge, ProgressBar, StatusFilter } from './jobs/Progress.tsx';
import {
  ACTIVE_CAMPAIGN,
  CAMPAIGN_STATUSES,
  type Campaign,
  type CampaignStatus,
  processed,
} from './jobs/types.ts';
import { retryTransient } from './jobs/useJobStatus.ts';

const PER_PAGE = 20;

/**
 * The caller's campaigns, filtered by status, with their progress (refreshed while any
 * on the page is sending), and the new-campaign dialog (`?new=1&q=…` opens it, which is
 * how the contacts page hands over its search).
 */
export function Component() {
  const me = useMe();
  const navigate = useNavigate();
  const [searchParams, setSearchParams] = useSearchParams();
  const rawStatus = searchParams.get('status') ?? '';
  const status = (CAMPAIGN_STATUSES as readonly string[]).includes(rawStatus)
    ? (rawStatus as CampaignStatus)
    : '';
  const page = Math.max(1, Number(searchParams.get('page')) || 1);
  const creating = searchParams.get('new') === '1';
  const params = { status, page, per_page: PER_PAGE };
  const list = useQuery({
    queryKey: keys(me).campaigns(params),
    queryFn: () => api.get<ListPage<Campaign>>(`/api/campaigns${query(params)}`),
    placeholderData: keepPreviousData,
    retry: retryTransient,
    refetchInterval: (q) =>
      q.state.data?.data.some((c) => ACTIVE_CAMPAIGN.includes(c.status)) ? 3000 : false,
  });

  const update = (changes: Record<string, string | null>) =>
    setSearchParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [key, value] of Object.entries(changes)) {
          if (value) next.set(key, value);
          else next.delete(key);
        }
        return next;
      },
      { replace: true },
    );

  return (
    <Page
      title="Campaigns"
      actions={
        <button type="button" className="btn btn-primary" onClick={() => update({ new: '1' })}>
          New campaign
        </button>
      }
    >
      <div className="jobs-toolbar">
        <StatusFilter
          id="campaign-status"
          value={status}
          statuses={CAMPAIGN_STATUSES}
          onChange={(next) => update({ status: next || null, page: null })}
        />
      </div>

      <ListTable
        list={list}
        loading="Loading campaigns…"
        empty={
          <EmptyState title={status ? `No ${status} campaigns.` : 'No campaigns yet.'}>
            {!status && <p>Create one to message your contacts through your WhatsApp session.</p>}
          </EmptyState>
        }
        caption="Campaigns"
        headers={['Name', 'Status', 'Progress', 'Sent / failed / total', 'Created']}
        className="jobs-table"
        onPage={(next) => update({ page: String(next) })}
        row={(campaign) => (
          <tr key={campaign.id}>
            <td>
              <Link to={`/campaigns/${campaign.id}`}>{campaign.name}</Link>
            </td>
            <td>
              <CampaignBadge campaign={campaign} />
            </td>
            <td className="jobs-progress-cell">
              <ProgressBar
                value={processed(campaign)}
                max={campaign.total}
                label={`Progress of ${campaign.name}`}
              />
            </td>
            <td>
              {campaign.sent} / {campaign.failed} / {campaign.total}
            </td>
            <td>{dateTime(campaign.created_at)}</td>
          </tr>
        )}
      />

      <Dialog
        open={creating}
        onOpenChange={(open) => update(open ? { new: '1' } : { new: null, q: null })}
        title="New campaign"
        description="Messages go out from your WhatsApp session, one contact at a time."
      >
        <CampaignForm
          initialQ={searchParams.get('q') ?? ''}
          onCreated={(campaign) => navigate(`/campaigns/${campaign.id}`)}
        />
      </Dialog>
    </Page>
  );
}
