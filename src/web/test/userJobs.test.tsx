import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Campaign,
  type Contact,
  type Import,
  type JobState,
  type JobStatus,
  OFFLINE_CHANGE_MESSAGE,
} from '../src/shared/api.ts';
import { apiError, fakeApi, goOffline, json, page, renderAt, TOKEN } from './userJobsHelpers.tsx';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  localStorage.clear();
});

const CAMPAIGN_ID = '11111111-1111-4111-8111-111111111111';
// Typed by the contract's shapes, so a fixture cannot drift from what the API answers.
const campaign: Campaign = {
  id: CAMPAIGN_ID,
  name: 'Black Friday',
  template: 'Hi {{name|there}}',
  status: 'scheduled',
  scheduled_at: null,
  min_delay_ms: 2000,
  max_delay_ms: 7500,
  session_token_hint: '…oken',
  audience: { filter: { q: 'são' } },
  total: 0,
  sent: 0,
  failed: 0,
  cancelled: 0,
  pending: 0,
  outcome: null,
  job_id: '22222222-2222-4222-8222-222222222222',
  error: null,
  created_at: '2026-11-01T10:00:00.000Z',
  updated_at: '2026-11-01T10:00:00.000Z',
  started_at: null,
  finished_at: null,
};

async function fillCampaign(values: { token?: string; min?: string; max?: string }) {
  const dialog = await screen.findByRole('dialog', { name: 'New campaign' });
  const d = within(dialog);
  await userEvent.type(d.getByLabelText('Name'), 'Black Friday');
  // `{` starts a special key in user-event: `{{` types one brace.
  await userEvent.type(d.getByLabelText('Message template'), 'Hi {{{{name|there}}');
  if (values.token) await userEvent.type(d.getByLabelText('WuzAPI session token'), values.token);
  for (const [label, value] of [
    ['Minimum delay (seconds)', values.min],
    ['Maximum delay (seconds)', values.max],
  ] as const) {
    if (value === undefined) continue;
    await userEvent.clear(d.getByLabelText(label));
    await userEvent.type(d.getByLabelText(label), value);
  }
  return d;
}

describe('the new-campaign form', () => {
  it('refuses a missing session token and a max delay below the min, without a request', async () => {
    const api = fakeApi({
      'GET /api/campaigns': json(page([])),
      'GET /api/contacts': json(page([], 12)),
    });
    renderAt('/campaigns?new=1');
    const d = await fillCampaign({ min: '10', max: '5' });
    await userEvent.click(d.getByRole('button', { name: 'Create and send' }));

    expect(await d.findByText('The WuzAPI session token is required to send.')).toBeInTheDocument();
    expect(d.getByText('The maximum delay must be at least the minimum delay.')).toBeInTheDocument();
    expect(d.getByLabelText('WuzAPI session token')).toHaveAttribute('aria-invalid', 'true');
    expect(d.getByLabelText('Maximum delay (seconds)')).toHaveAttribute('aria-invalid', 'true');
    expect(api.of('POST', '/api/campaigns')).toHaveLength(0);
  });

  it('POSTs the campaign with the delays in milliseconds and opens it', async () => {
    const api = fakeApi({
      'GET /api/campaigns': json(page([])),
      'GET /api/contacts': json(page([], 12)),
      'POST /api/campaigns': json(campaign, 202),
      [`GET /api/campaigns/${CAMPAIGN_ID}`]: json(campaign),
      [`GET /api/campaigns/${CAMPAIGN_ID}/recipients`]: json(page([])),
    });
    // The contacts page hands its search over in ?q=.
    renderAt('/campaigns?new=1&q=s%C3%A3o');
    const d = await fillCampaign({ token: '  secret-session-token ', min: '2', max: '7.5' });
    expect(d.getByLabelText('Search (empty: all your contacts)')).toHaveValue('são');
    expect(await d.findByText('12 contacts match now.')).toBeInTheDocument();
    await userEvent.click(d.getByRole('button', { name: 'Create and send' }));

    await waitFor(() => expect(api.of('POST', '/api/campaigns')).toHaveLength(1));
    const [post] = api.of('POST', '/api/campaigns');
    expect(post?.headers['content-type']).toBe('application/json');
    expect(post?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(post?.body ?? '')).toEqual({
      name: 'Black Friday',
      template: 'Hi {{name|there}}',
      audience: { filter: { q: 'são' } },
      session_token: 'secret-session-token',
      min_delay_ms: 2000,
      max_delay_ms: 7500,
      draft: false,
    });
    expect(await screen.findByRole('heading', { name: 'Black Friday', level: 1 })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(`/campaigns/${CAMPAIGN_ID}`);
  });

  it("shows the server's 422 and keeps the dialog open", async () => {
    fakeApi({
      'GET /api/campaigns': json(page([])),
      'GET /api/contacts': json(page([], 3)),
      'POST /api/campaigns': apiError(422, 'unprocessable', 'your plan allows 1,000 messages a month'),
    });
    renderAt('/campaigns?new=1');
    const d = await fillCampaign({ token: 'tok', min: '0', max: '0' });
    await userEvent.click(d.getByLabelText(/Save as a draft/));
    await userEvent.click(d.getByRole('button', { name: 'Save draft' }));
    expect(await d.findByRole('alert')).toHaveTextContent('your plan allows 1,000 messages a month');
    expect(screen.getByRole('dialog', { name: 'New campaign' })).toBeInTheDocument();
  });
});

describe('the new-campaign form, picked contacts', () => {
  it('sends the picked contact ids, the schedule as an ISO instant and the draft flag', async () => {
    const contacts = [0, 1, 2].map((n) => ({
      id: `aaaaaaaa-aaaa-4aaa-8aaa-00000000000${n}`,
      phone: `+551191111000${n}`,
      name: `Person ${n}`,
      variables: {},
      created_at: '2026-11-01T10:00:00.000Z',
    }));
    const api = fakeApi({
      'GET /api/campaigns': json(page([])),
      'GET /api/contacts': json(page(contacts, 3)),
      'POST /api/campaigns': json({ ...campaign, status: 'draft' }, 201),
      [`GET /api/campaigns/${CAMPAIGN_ID}`]: json({ ...campaign, status: 'draft' }),
      [`GET /api/campaigns/${CAMPAIGN_ID}/recipients`]: json(page([])),
    });
    renderAt('/campaigns?new=1');
    const d = await fillCampaign({ token: 'tok', min: '1', max: '1' });
    await userEvent.click(d.getByLabelText('Contacts I pick'));
    await userEvent.click(d.getByRole('button', { name: 'Create and send' }));
    expect(await d.findByText('Select at least one contact.')).toBeInTheDocument();
    await userEvent.click(await d.findByRole('checkbox', { name: /Person 0/ }));
    await userEvent.click(d.getByRole('checkbox', { name: /Person 2/ }));
    expect(d.getByText(/2 selected/)).toBeInTheDocument();
    const at = new Date(Date.now() + 2 * 86_400_000);
    at.setSeconds(0, 0);
    const pad = (n: number) => String(n).padStart(2, '0');
    const local = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
    await userEvent.type(d.getByLabelText('Send at (optional)'), local);
    await userEvent.click(d.getByLabelText(/Save as a draft/));
    await userEvent.click(d.getByRole('button', { name: 'Save draft' }));

    await waitFor(() => expect(api.of('POST', '/api/campaigns')).toHaveLength(1));
    expect(JSON.parse(api.of('POST', '/api/campaigns')[0]?.body ?? '')).toEqual({
      name: 'Black Friday',
      template: 'Hi {{name|there}}',
      audience: { contact_ids: [contacts[0]?.id, contacts[2]?.id] },
      session_token: 'tok',
      min_delay_ms: 1000,
      max_delay_ms: 1000,
      schedule_at: at.toISOString(),
      draft: true,
    });
  });
});

const IMPORT_ID = '33333333-3333-4333-8333-333333333333';
const JOB_ID = '44444444-4444-4444-8444-444444444444';
const CSV = 'phone,name,city\n+5511911110001,Ana,Recife\n+5511911110002,Bruno,\nbad,Carla,X\n';
const ana: Contact = {
  id: '55555555-5555-4555-8555-555555555555',
  phone: '+5511911110001',
  name: 'Ana',
  variables: { city: 'Recife' },
  created_at: '2026-11-01T10:00:00.000Z',
};
const job = (state: JobState, progress: object): JobStatus => ({
  id: JOB_ID,
  queue: 'import',
  state,
  progress,
  attempts: state === 'waiting' ? 0 : 1,
  timestamps: { created: '2026-11-01T10:00:00.000Z', started: null, finished: null },
  subject_id: IMPORT_ID,
});

describe('the CSV import', () => {
  it('uploads the file as text/csv, shows live progress, then the result, and refetches the contacts', async () => {
    const api = fakeApi({
      // Empty before the import, Ana after it.
      'GET /api/contacts': [json(page([])), json(page([ana]))],
      'POST /api/imports': json({ id: IMPORT_ID, job_id: JOB_ID, status: 'queued' }, 202),
      [`GET /api/jobs/${JOB_ID}/status`]: [
        json(job('active', { rows: 1, accepted: 1, rejected: 0 })),
        json(job('completed', { rows: 3, accepted: 2, rejected: 1 })),
      ],
      [`GET /api/imports/${IMPORT_ID}`]: json({
        id: IMPORT_ID,
        filename: 'contacts.csv',
        bytes: CSV.length,
        status: 'completed',
        total_rows: 3,
        accepted: 2,
        rejected: 1,
        rejections: [{ line: 4, reason: 'invalid phone (not E.164)', phone: 'bad' }],
        rejected_by_reason: { 'invalid phone (not E.164)': 1 },
        job_id: JOB_ID,
        error: null,
        created_at: '2026-11-01T10:00:00.000Z',
        finished_at: '2026-11-01T10:00:01.000Z',
      } satisfies Import),
    });
    renderAt('/contacts');
    expect(await screen.findByText('No contacts yet.')).toBeInTheDocument();

    const file = new File([CSV], 'contacts.csv', { type: 'text/csv' });
    await userEvent.upload(screen.getByLabelText('Import CSV'), file);

    await waitFor(() => expect(api.of('POST', '/api/imports')).toHaveLength(1));
    const [upload] = api.of('POST', '/api/imports');
    expect(upload?.url).toBe('/api/imports?filename=contacts.csv');
    expect(upload?.headers['content-type']).toBe('text/csv');
    expect(upload?.body).toBe(CSV);

    const panel = await screen.findByRole('region', { name: 'Import of contacts.csv' });
    // Live: the first poll answers "active" with one row read (of the file's 3).
    expect(await within(panel).findByText(/1 rows read · 1 accepted · 0 rejected/)).toBeInTheDocument();
    const bar = within(panel).getByRole('progressbar', { name: 'Rows of contacts.csv read' });
    expect(bar).toHaveAttribute('aria-valuenow', '1');
    expect(bar).toHaveAttribute('aria-valuemax', '3');

    // Then completed: the import's own record, with its rejected lines.
    expect(await within(panel).findByText('Rejected by reason', {}, { timeout: 4000 })).toBeInTheDocument();
    expect(within(panel).getByText('invalid phone (not E.164): 1')).toBeInTheDocument();
    const rejected = within(panel).getByRole('table');
    expect(within(rejected).getByRole('cell', { name: '4' })).toBeInTheDocument();
    expect(within(rejected).getByRole('cell', { name: 'bad' })).toBeInTheDocument();
    expect(within(panel).getByText('Accepted').nextElementSibling).toHaveTextContent('2');

    // …and the contacts list is fetched again: Ana is there.
    expect(await screen.findByRole('cell', { name: 'Ana' })).toBeInTheDocument();
    // Polling stopped once the job was completed.
    const polls = api.of('GET', `/api/jobs/${JOB_ID}/status`).length;
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(api.of('GET', `/api/jobs/${JOB_ID}/status`)).toHaveLength(polls);
  });

  it("shows the server's refusal of a file that is too large", async () => {
    fakeApi({
      'GET /api/contacts': json(page([])),
      'POST /api/imports': apiError(413, 'payload_too_large', 'the CSV is larger than 20480 kB'),
    });
    renderAt('/contacts');
    await userEvent.upload(
      await screen.findByLabelText('Import CSV'),
      new File([CSV], 'big.csv', { type: 'text/csv' }),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent('the CSV is larger than 20480 kB');
  });
});

describe('the contacts list', () => {
  it('deleting the only contact of the last page shows the page before it', async () => {
    const contacts = Array.from({ length: 26 }, (_, i) => ({
      id: `c${i + 1}`,
      phone: `+5511911110${String(i + 1).padStart(3, '0')}`,
      name: `Contact ${i + 1}`,
      variables: {},
      created_at: '2026-11-01T10:00:00.000Z',
    }));
    fakeApi({
      'GET /api/contacts': ({ url }) => {
        const at = Number(new URL(url, 'http://x').searchParams.get('page') ?? 1);
        return Response.json({
          data: contacts.slice((at - 1) * 25, at * 25),
          page: at,
          per_page: 25,
          total: contacts.length,
        });
      },
      'DELETE /api/contacts/c26': () => {
        contacts.pop();
        return new Response(null, { status: 204 });
      },
    });
    renderAt('/contacts');
    await screen.findByRole('cell', { name: 'Contact 25' });
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Delete Contact 26' }));
    const dialog = within(await screen.findByRole('dialog', { name: 'Delete this contact?' }));
    await userEvent.click(dialog.getByRole('button', { name: 'Delete' }));
    expect(await screen.findByRole('cell', { name: 'Contact 25' })).toBeInTheDocument();
    expect(screen.queryByText('No contacts yet.')).toBeNull();
    expect(screen.queryByRole('navigation', { name: 'Pagination' })).toBeNull();
  });
});

describe('offline changes', () => {
  it('an import attempted offline says so and sends nothing', async () => {
    const api = fakeApi({ 'GET /api/contacts': json(page([])) });
    renderAt('/contacts');
    await screen.findByText('No contacts yet.');
    const online = goOffline();
    try {
      await userEvent.upload(
        screen.getByLabelText('Import CSV'),
        new File([CSV], 'contacts.csv', { type: 'text/csv' }),
      );
      expect(await screen.findByRole('alert')).toHaveTextContent(OFFLINE_CHANGE_MESSAGE);
      expect(api.calls.filter((c) => c.method !== 'GET')).toHaveLength(0);
    } finally {
      online();
    }
  });

  it('a contact created offline is not lost silently', async () => {
    const api = fakeApi({ 'GET /api/contacts': json(page([])) });
    renderAt('/contacts');
    await userEvent.click(await screen.findByRole('button', { name: 'New contact' }));
    const dialog = within(await screen.findByRole('dialog', { name: 'New contact' }));
    await userEvent.type(dialog.getByLabelText('Phone'), '+55 11 91234-5678');
    await userEvent.type(dialog.getByLabelText('Name'), 'Ana');
    const online = goOffline();
    try {
      await userEvent.click(dialog.getByRole('button', { name: 'Add contact' }));
      expect(await dialog.findByRole('alert')).toHaveTextContent(OFFLINE_CHANGE_MESSAGE);
      // The form keeps what was typed, to try again.
      expect(dialog.getByLabelText('Name')).toHaveValue('Ana');
      expect(api.calls.filter((c) => c.method !== 'GET')).toHaveLength(0);
    } finally {
      online();
    }
  });
});
