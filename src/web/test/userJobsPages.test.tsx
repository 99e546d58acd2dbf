import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CAMPAIGN_STATUSES, RECIPIENT_STATUSES } from '../../daemon/queues/campaignLifecycle.ts';
import type {
  Campaign,
  CampaignStatus,
  Recipient,
  RecipientStatus,
  Report,
  WorkStatus,
} from '../src/shared/api.ts';
import { ADMIN, apiError, fakeApi, json, page, renderAt, TOKEN } from './userJobsHelpers.tsx';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  localStorage.clear();
});

const ID = '11111111-1111-4111-8111-111111111111';
const JOB = '22222222-2222-4222-8222-222222222222';
// Typed by the contract's shapes, so a fixture cannot drift from what the API answers.
const campaign = (
  status: CampaignStatus,
  counts: { sent: number; failed?: number; total: number },
): Campaign => ({
  id: ID,
  name: 'Black Friday',
  template: 'Hi {{name|there}}',
  status,
  scheduled_at: null,
  min_delay_ms: 0,
  max_delay_ms: 0,
  session_token_hint: '…abcd',
  audience: { filter: {} },
  total: counts.total,
  sent: counts.sent,
  failed: counts.failed ?? 0,
  cancelled: status === 'cancelled' ? counts.total - counts.sent : 0,
  pending: status === 'cancelled' ? 0 : counts.total - counts.sent - (counts.failed ?? 0),
  outcome:
    status === 'completed'
      ? counts.failed
        ? 'partial'
        : 'delivered'
      : status === 'failed'
        ? 'failed'
        : null,
  job_id: JOB,
  error: null,
  created_at: '2026-11-01T10:00:00.000Z',
  updated_at: '2026-11-01T10:00:00.000Z',
  started_at: '2026-11-01T10:00:00.000Z',
  finished_at: null,
});
const recipient = (position: number, status: RecipientStatus): Recipient => ({
  position,
  contact_id: null,
  phone: `+55119111100${10 + position}`,
  name: `Contact ${position}`,
  status,
  attempts: status === 'pending' ? 0 : 1,
  message_id: `msg-${position}`,
  sent_at: status === 'sent' ? '2026-11-01T10:00:01.000Z' : null,
  error: status === 'failed' ? 'not on WhatsApp' : null,
});

describe('the campaign page', () => {
  it('follows a running campaign until it completes, then stops polling', async () => {
    const api = fakeApi({
      [`GET /api/campaigns/${ID}`]: [
        json(campaign('running', { sent: 3, total: 10 })),
        json(campaign('completed', { sent: 9, failed: 1, total: 10 })),
      ],
      [`GET /api/campaigns/${ID}/recipients`]: json(page([recipient(0, 'sent'), recipient(1, 'failed')], 10)),
    });
    renderAt(`/campaigns/${ID}`);
    const bar = await screen.findByRole('progressbar', { name: 'Recipients processed' });
    expect(bar).toHaveAttribute('aria-valuenow', '3');
    expect(bar).toHaveAttribute('aria-valuemax', '10');
    expect(screen.getByRole('button', { name: 'Pause' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Start' })).not.toBeInTheDocument();
    expect(await screen.findByRole('cell', { name: 'not on WhatsApp' })).toBeInTheDocument();

    await waitFor(() => expect(bar).toHaveAttribute('aria-valuenow', '10'), { timeout: 4000 });
    expect(screen.queryByRole('button', { name: 'Pause' })).not.toBeInTheDocument();
    // 9 of 10 sent is not the green "completed" of a full delivery.
    const badge = screen.getByText('completed with failures');
    expect(badge).toHaveClass('badge-warn');
    expect(screen.queryByText(/^completed$/)).not.toBeInTheDocument();
    const polls = api.of('GET', `/api/campaigns/${ID}`).length;
    await new Promise((resolve) => setTimeout(resolve, 2300));
    expect(api.of('GET', `/api/campaigns/${ID}`)).toHaveLength(polls);
  });

  it('shows a campaign that delivered nothing as failed, with the reason', async () => {
    fakeApi({
      [`GET /api/campaigns/${ID}`]: json({
        ...campaign('failed', { sent: 0, failed: 10, total: 10 }),
        error: 'no message was delivered: WuzAPI unreachable: connect ECONNREFUSED',
      }),
      [`GET /api/campaigns/${ID}/recipients`]: json(page([recipient(0, 'failed')], 10)),
    });
    renderAt(`/campaigns/${ID}`);
    expect(await screen.findByText(/no message was delivered: WuzAPI unreachable/)).toBeInTheDocument();
    const badges = screen.getAllByText('failed').filter((node) => node.classList.contains('badge'));
    expect(badges[0]).toHaveClass('badge-bad');
  });

  it("shows the server's 409 when an action is no longer allowed", async () => {
    fakeApi({
      [`GET /api/campaigns/${ID}`]: json(campaign('paused', { sent: 3, total: 10 })),
      [`GET /api/campaigns/${ID}/recipients`]: json(page([])),
      [`POST /api/campaigns/${ID}/resume`]: apiError(
        409,
        'conflict',
        'the campaign is cancelled; only a campaign that is paused can be resumed',
      ),
    });
    renderAt(`/campaigns/${ID}`);
    await userEvent.click(await screen.findByRole('button', { name: 'Resume' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'the campaign is cancelled; only a campaign that is paused can be resumed',
    );
  });

  it('cancels after confirmation and filters the recipients by status', async () => {
    let status: CampaignStatus = 'paused';
    const api = fakeApi({
      [`GET /api/campaigns/${ID}`]: () => Response.json(campaign(status, { sent: 3, total: 10 })),
      [`GET /api/campaigns/${ID}/recipients`]: json(page([recipient(0, 'sent')], 1)),
      [`GET /api/campaigns/${ID}/recipients?status=failed&page=1&per_page=25`]: json(page([])),
      [`POST /api/campaigns/${ID}/cancel`]: () => {
        status = 'cancelled';
        return Response.json(campaign(status, { sent: 3, total: 10 }));
      },
    });
    renderAt(`/campaigns/${ID}`);
    // The filter offers every status a recipient can have: the daemon's own list.
    const options = within(await screen.findByLabelText('Status')).getAllByRole('option');
    expect(options.map((o) => (o as HTMLOptionElement).value)).toEqual(['', ...RECIPIENT_STATUSES]);
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'failed');
    expect(await screen.findByText('No failed recipients.')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Cancel campaign' }));
    const dialog = within(await screen.findByRole('dialog', { name: 'Cancel this campaign?' }));
    await userEvent.click(dialog.getByRole('button', { name: 'Cancel campaign' }));
    await waitFor(() => expect(api.of('POST', `/api/campaigns/${ID}/cancel`)).toHaveLength(1));
    expect(await screen.findByText('cancelled', { selector: '.badge' })).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel campaign' })).not.toBeInTheDocument();
  });
});

const REPORT = '66666666-6666-4666-8666-666666666666';
const report = (status: WorkStatus): Report => ({
  id: REPORT,
  kind: 'usage',
  scope: 'owner',
  period_from: '2026-10-01T03:00:00.000Z',
  period_to: '2026-10-03T03:00:00.000Z',
  status,
  columns: status === 'completed' ? ['day', 'messages_sent', 'messages_failed'] : null,
  row_count: status === 'completed' ? 2 : null,
  rows:
    status === 'completed'
      ? [
          { day: '2026-10-01', messages_sent: 7, messages_failed: 1 },
          { day: '2026-10-02', messages_sent: 12, messages_failed: 0 },
        ]
      : null,
  job_id: JOB,
  error: null,
  created_at: '2026-11-01T10:00:00.000Z',
  finished_at: null,
});

describe('the campaigns page', () => {
  it('lists the campaigns and filters them by status through the URL', async () => {
    const api = fakeApi({
      'GET /api/campaigns': json(page([campaign('running', { sent: 3, total: 10 })])),
      'GET /api/campaigns?status=failed&page=1&per_page=20': json(page([])),
    });
    renderAt('/campaigns');
    const table = within(await screen.findByRole('table', { name: 'Campaigns' }));
    expect(table.getByRole('link', { name: 'Black Friday' })).toHaveAttribute('href', `/campaigns/${ID}`);
    expect(table.getByText('3 / 0 / 10')).toBeInTheDocument();
    // The filter offers every status of the API's lifecycle table (the daemon's own list).
    const options = within(screen.getByLabelText('Status')).getAllByRole('option');
    expect(options.map((o) => (o as HTMLOptionElement).value)).toEqual(['', ...CAMPAIGN_STATUSES]);
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'failed');
    expect(await screen.findByText('No failed campaigns.')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/campaigns?status=failed');
    expect(api.calls.at(-1)?.url).toBe('/api/campaigns?status=failed&page=1&per_page=20');
  });
});

describe('the reports page', () => {
  it('offers users no subscriptions report nor scope; admins both', async () => {
    fakeApi({ 'GET /api/reports': json(page([])) });
    renderAt('/reports');
    await userEvent.click(await screen.findByRole('button', { name: 'New report' }));
    const kinds = within(await screen.findByLabelText('Kind')).getAllByRole('option');
    expect(kinds.map((o) => o.textContent)).toEqual(['Campaign delivery', 'Usage']);
    expect(screen.queryByLabelText('Scope')).not.toBeInTheDocument();
  });

  it('an admin can ask for the subscriptions report of the whole tenant', async () => {
    const api = fakeApi({
      'GET /api/reports': json(page([])),
      'POST /api/reports': json({ id: REPORT, job_id: JOB, status: 'queued' }, 202),
      [`GET /api/reports/${REPORT}`]: json(report('queued')),
    });
    renderAt('/reports', ADMIN);
    await userEvent.click(await screen.findByRole('button', { name: 'New report' }));
    await userEvent.selectOptions(await screen.findByLabelText('Kind'), 'subscriptions');
    expect(screen.getByLabelText('Scope')).toHaveValue('tenant');
    await userEvent.click(screen.getByRole('button', { name: 'Create report' }));
    await waitFor(() => expect(api.of('POST', '/api/reports')).toHaveLength(1));
    expect(JSON.parse(api.of('POST', '/api/reports')[0]?.body ?? '')).toEqual({
      kind: 'subscriptions',
      scope: 'tenant',
    });
  });

  it('creates a report, follows it until completed, shows its rows and downloads its CSV with the token', async () => {
    const api = fakeApi({
      'GET /api/reports': json(page([])),
      'POST /api/reports': json({ id: REPORT, job_id: JOB, status: 'queued' }, 202),
      [`GET /api/reports/${REPORT}`]: [json(report('running')), json(report('completed'))],
      [`GET /api/reports/${REPORT}?format=csv`]: () =>
        new Response('day,messages_sent\n2026-10-01,7\n', {
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': 'attachment; filename="usage-2026-10-01-2026-10-03.csv"',
          },
        }),
    });
    const createObjectURL = vi.fn((_blob: Blob) => 'blob:report');
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() }));
    const clicks: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(`${this.download} ${this.href}`);
    });
    renderAt('/reports');
    await userEvent.click(await screen.findByRole('button', { name: 'New report' }));
    await userEvent.selectOptions(await screen.findByLabelText('Kind'), 'usage');
    await userEvent.type(screen.getByLabelText('From (optional)'), '2026-10-01');
    await userEvent.type(screen.getByLabelText('To (optional)'), '2026-10-02');
    await userEvent.click(screen.getByRole('button', { name: 'Create report' }));

    await waitFor(() => expect(api.of('POST', '/api/reports')).toHaveLength(1));
    const body = JSON.parse(api.of('POST', '/api/reports')[0]?.body ?? '');
    // The days are the browser's: from the start of the first to the start of the day after the last.
    expect(body).toEqual({
      kind: 'usage',
      from: new Date(2026, 9, 1).toISOString(),
      to: new Date(2026, 9, 3).toISOString(),
    });
    expect(await screen.findByText('Computing the report…')).toBeInTheDocument();
    const table = await screen.findByRole('table', { name: /^Usage/ }, { timeout: 3000 });
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(within(table).getByRole('columnheader', { name: 'messages sent' })).toBeInTheDocument();
    expect(within(table).getByRole('cell', { name: '12' })).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Download CSV' }));
    expect(await screen.findByText('Saved usage-2026-10-01-2026-10-03.csv.')).toBeInTheDocument();
    const [download] = api.calls.filter((c) => c.url.endsWith('?format=csv'));
    expect(download?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(await createObjectURL.mock.calls[0]?.[0].text()).toBe('day,messages_sent\n2026-10-01,7\n');
    expect(clicks).toEqual(['usage-2026-10-01-2026-10-03.csv blob:report']);
  });

  it("shows a failed download's message", async () => {
    fakeApi({
      'GET /api/reports': json(page([report('completed')])),
      [`GET /api/reports/${REPORT}`]: json(report('completed')),
      [`GET /api/reports/${REPORT}?format=csv`]: apiError(409, 'conflict', 'the report is running'),
    });
    renderAt(`/reports?id=${REPORT}`);
    await userEvent.click(await screen.findByRole('button', { name: 'Download CSV' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('the report is running');
  });
});

describe('the jobs page', () => {
  it('checks the id, then shows the live status of the job and links the recent work', async () => {
    const api = fakeApi({
      'GET /api/imports': json(page([])),
      'GET /api/reports': json(page([report('completed')])),
      'GET /api/campaigns': json(page([campaign('running', { sent: 1, total: 2 })])),
      [`GET /api/jobs/${JOB}/status`]: [
        json({
          id: JOB,
          queue: 'campaign',
          state: 'active',
          progress: { total: 2, sent: 1, failed: 0, cancelled: 0, pending: 1 },
          attempts: 1,
          timestamps: {
            created: '2026-11-01T10:00:00.000Z',
            started: '2026-11-01T10:00:00.000Z',
            finished: null,
          },
          subject_id: ID,
        }),
      ],
    });
    renderAt('/jobs');
    await userEvent.type(screen.getByLabelText('Job id'), 'nope');
    await userEvent.click(screen.getByRole('button', { name: 'Look up' }));
    expect(await screen.findByText(/A job id is a UUID/)).toBeInTheDocument();
    expect(api.calls.filter((c) => c.url.startsWith('/api/jobs'))).toHaveLength(0);

    // The recent campaign's job is a link to its status.
    const recent = within(await screen.findByRole('region', { name: 'Recent campaigns' }));
    await userEvent.click(recent.getByRole('link', { name: `${JOB.slice(0, 8)}…` }));
    expect(screen.getByTestId('location')).toHaveTextContent(`/jobs?id=${JOB}`);
    expect(screen.getByLabelText('Job id')).toHaveValue(JOB);
    const card = within(await screen.findByRole('region', { name: 'Job status' }));
    expect(card.getByText('active')).toBeInTheDocument();
    expect(card.getByRole('progressbar', { name: 'Messages processed' })).toHaveAttribute(
      'aria-valuenow',
      '1',
    );
    expect(card.getByRole('link', { name: 'open the campaign' })).toHaveAttribute('href', `/campaigns/${ID}`);
  });

  it('an unknown job id is said so, without a pointless retry or more polling', async () => {
    const api = fakeApi({
      'GET /api/imports': json(page([])),
      'GET /api/reports': json(page([])),
      'GET /api/campaigns': json(page([])),
      [`GET /api/jobs/${JOB}/status`]: apiError(404, 'not_found', 'job not found'),
    });
    renderAt(`/jobs?id=${JOB}`);
    expect(await screen.findByRole('alert')).toHaveTextContent('job not found');
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(api.of('GET', `/api/jobs/${JOB}/status`)).toHaveLength(1);
  });
});
