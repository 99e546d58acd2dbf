import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Subscription } from '../src/shared/api.ts';
import type { Me } from '../src/shared/auth.tsx';
import { Component as AgentsPage } from '../src/user/AgentsPage.tsx';
import { Component as RolesPage } from '../src/user/RolesPage.tsx';
import { Component as TeamsPage } from '../src/user/TeamsPage.tsx';
import { renderRoutes } from './renderRoutes.tsx';

const TOKEN = `wuz_0123456789ab_${'A'.repeat(43)}`;
const ME: Me = {
  user: { id: 'u1', email: 'user01@demo-1.example', role: 'user' },
  tenant: { id: 't1', slug: 'demo-1', plan: 'pro' },
};
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const NOW = '2026-01-10T10:00:00.000Z';

interface Row {
  id: string;
  [key: string]: unknown;
}
interface Call {
  method: string;
  path: string;
  search: string;
  body: unknown;
}

/**
 * An in-memory stand-in for the daemon's /api/session/* and /api/user/subscription:
 * lists page, writes change what the next GET returns, and `refuse` makes the next
 * matching request fail the way the API does.
 */
function fakeApi(seed: { teams?: Row[]; roles?: Row[]; agents?: Row[]; maxAgents?: number }) {
  const tables: Record<string, Row[]> = {
    teams: seed.teams ?? [],
    roles: seed.roles ?? [],
    agents: seed.agents ?? [],
  };
  const calls: Call[] = [];
  const refusals: Array<{ method: string; path: RegExp; status: number; error: object }> = [];
  let next = 100;
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const parsed = new URL(url, 'http://localhost');
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, path: parsed.pathname, search: parsed.search, body });
    const refusal = refusals.findIndex((r) => r.method === method && r.path.test(parsed.pathname));
    if (refusal >= 0) {
      const [r] = refusals.splice(refusal, 1);
      return Response.json({ error: r?.error }, { status: r?.status });
    }
    if (parsed.pathname === '/api/user/subscription' && method === 'GET') {
      return Response.json({
        id: uuid(900),
        status: 'active',
        cancel_at_period_end: false,
        current_period_start: NOW,
        current_period_end: NOW,
        canceled_at: null,
        created_at: NOW,
        plan: {
          id: uuid(901),
          name: 'Pro',
          price_cents: 9900,
          currency: 'usd',
          interval: 'month',
          limits: { max_agents: seed.maxAgents ?? 10, messages_per_month: 10000 },
          stripe_price_id: null,
          trial_days: 0,
          created_at: NOW,
        },
        usage: { agents: tables.agents?.length ?? 0, messages_this_month: 0 },
      } satisfies Subscription);
    }
    const match = /^\/api\/session\/(teams|roles|agents)(?:\/([^/]+))?$/.exec(parsed.pathname);
    const table = match ? tables[match[1] as string] : undefined;
    if (!match || !table)
      return Response.json({ error: { code: 'not_found', message: 'no such route' } }, { status: 404 });
    const id = match[2];
    if (method === 'GET' && !id) {
      const page = Number(parsed.searchParams.get('page') ?? 1);
      const perPage = Number(parsed.searchParams.get('per_page') ?? 25);
      const teamId = parsed.searchParams.get('team_id');
      const rows = teamId ? table.filter((row) => row.team_id === teamId) : table;
      return Response.json({
        data: rows.slice((page - 1) * perPage, page * perPage),
        page,
        per_page: perPage,
        total: rows.length,
      });
    }
    if (method === 'POST') {
      const row = { id: uuid(next++), ...body, created_at: NOW, updated_at: NOW };
      table.push(row);
      return Response.json(row, { status: 201 });
    }
    const index = table.findIndex((row) => row.id === id);
    if (index < 0)
      return Response.json({ error: { code: 'not_found', message: 'not found' } }, { status: 404 });
    if (method === 'PATCH') {
      table[index] = { ...(table[index] as Row), ...body };
      return Response.json(table[index]);
    }
    if (method === 'DELETE') {
      table.splice(index, 1);
      return new Response(null, { status: 204 });
    }
    return Response.json({ error: { code: 'not_found', message: 'no such route' } }, { status: 404 });
  });
  vi.stubGlobal('fetch', fetch);
  return {
    tables,
    calls,
    writes: () => calls.filter((call) => call.method !== 'GET'),
    gets: (path: string) => calls.filter((call) => call.method === 'GET' && call.path === path).length,
    refuse(method: string, path: RegExp, status: number, error: object) {
      refusals.push({ method, path, status, error });
    },
  };
}

function renderPage(path: string) {
  localStorage.setItem('wuz.token', TOKEN);
  localStorage.setItem('wuz.me', JSON.stringify(ME));
  return renderRoutes(
    [
      { path: '/agents', element: <AgentsPage /> },
      { path: '/teams', element: <TeamsPage /> },
      { path: '/roles', element: <RolesPage /> },
      { path: '/subscription', element: <p>subscription page</p> },
    ],
    path,
  ).router;
}

const team = (n: number, name: string): Row => ({ id: uuid(n), name, created_at: NOW, updated_at: NOW });
const agent = (n: number, name: string, teamId: string | null = null): Row => ({
  id: uuid(n),
  name,
  email: `${name.toLowerCase()}@example.com`,
  status: 'active',
  team_id: teamId,
  role_id: null,
  created_at: NOW,
  updated_at: NOW,
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  localStorage.clear();
});

describe('teams', () => {
  it('validates the create form without calling the API, then POSTs, closes and shows the refetched list', async () => {
    const api = fakeApi({ teams: [team(1, 'Support')] });
    renderPage('/teams');
    expect(await screen.findByRole('cell', { name: 'Support' })).toBeInTheDocument();
    const listLoads = api.gets('/api/session/teams');

    await userEvent.click(screen.getByRole('button', { name: 'New team' }));
    const dialog = await screen.findByRole('dialog', { name: 'New team' });
    await userEvent.type(within(dialog).getByLabelText('Name'), '   ');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create team' }));
    expect(await within(dialog).findByText('Enter a name.')).toBeInTheDocument();
    expect(within(dialog).getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
    expect(api.writes()).toEqual([]);

    await userEvent.clear(within(dialog).getByLabelText('Name'));
    await userEvent.type(within(dialog).getByLabelText('Name'), '  Sales ');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create team' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(api.writes()).toEqual([
      { method: 'POST', path: '/api/session/teams', search: '', body: { name: 'Sales' } },
    ]);
    expect(screen.getByRole('cell', { name: 'Sales' })).toBeInTheDocument();
    expect(api.gets('/api/session/teams')).toBeGreaterThan(listLoads);
  });

  it('puts a duplicate name (409) under the name field', async () => {
    const api = fakeApi({ teams: [team(1, 'Support')] });
    renderPage('/teams');
    await userEvent.click(await screen.findByRole('button', { name: 'New team' }));
    const dialog = await screen.findByRole('dialog');
    api.refuse('POST', /teams$/, 409, {
      code: 'conflict',
      message: 'you already have a team with this name',
    });
    await userEvent.type(within(dialog).getByLabelText('Name'), 'support');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create team' }));
    expect(await within(dialog).findByText('You already have a team with this name.')).toBeInTheDocument();
    expect(within(dialog).getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByRole('dialog')).toBeInTheDocument();
  });

  it("shows a refused delete's 409 with the server's message and a way to the agents", async () => {
    const api = fakeApi({ teams: [team(1, 'Support'), team(2, 'Sales')] });
    renderPage('/teams');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete Support' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete team “Support”?' });
    api.refuse('DELETE', /teams\//, 409, {
      code: 'conflict',
      message: 'team is used by 2 agents',
      details: { agents: 2, agent_ids: [uuid(7), uuid(8)] },
    });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveTextContent('Team is used by 2 agents.');
    expect(within(alert).getByRole('link', { name: 'Show the agents in “Support”' })).toHaveAttribute(
      'href',
      `/agents?team_id=${uuid(1)}`,
    );
    expect(api.tables.teams).toHaveLength(2);
    expect(screen.getByRole('dialog')).toBeInTheDocument();
  });

  it('deletes, refetches, and puts focus back on the page when the row is gone', async () => {
    const api = fakeApi({ teams: [team(1, 'Support'), team(2, 'Sales')] });
    renderPage('/teams');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete Sales' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(api.writes()).toEqual([
      { method: 'DELETE', path: `/api/session/teams/${uuid(2)}`, search: '', body: undefined },
    ]);
    expect(screen.queryByRole('cell', { name: 'Sales' })).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole('button', { name: 'New team' })).toHaveFocus());
  });

  it('shows a failed load with a retry, and an empty state with a create button', async () => {
    const api = fakeApi({});
    api.refuse('GET', /teams$/, 500, { code: 'internal_error', message: 'internal server error' });
    renderPage('/teams');
    expect(await screen.findByRole('alert')).toHaveTextContent('internal server error');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('No teams yet')).toBeInTheDocument();
    // The empty state has its own create button besides the page's.
    expect(screen.getAllByRole('button', { name: 'New team' })).toHaveLength(2);
  });

  it('pages with ?page= and the pagination buttons', async () => {
    const api = fakeApi({ teams: Array.from({ length: 30 }, (_, i) => team(i + 1, `Team ${i + 1}`)) });
    renderPage('/teams');
    expect(await screen.findByRole('cell', { name: 'Team 25' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByRole('cell', { name: 'Team 30' })).toBeInTheDocument();
    expect(api.calls.some((call) => call.search === '?page=2&per_page=25')).toBe(true);
  });

  it('deleting the only row of the last page goes back to the page before it, in place', async () => {
    fakeApi({ teams: Array.from({ length: 26 }, (_, i) => team(i + 1, `Team ${i + 1}`)) });
    const router = renderPage('/teams?page=2');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete Team 26' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByRole('cell', { name: 'Team 25' })).toBeInTheDocument();
    expect(router.state.location.search).toBe('');
    // Replaced, not pushed: going back does not return to the page that no longer exists.
    expect(router.state.historyAction).toBe('REPLACE');
  });
});

describe('roles', () => {
  it('POSTs the checked permissions in the API order', async () => {
    const api = fakeApi({});
    renderPage('/roles');
    await userEvent.click((await screen.findAllByRole('button', { name: 'New role' }))[0] as HTMLElement);
    const dialog = await screen.findByRole('dialog', { name: 'New role' });
    await userEvent.type(within(dialog).getByLabelText('Name'), 'Supervisor');
    await userEvent.click(within(dialog).getByRole('checkbox', { name: /Send campaigns/ }));
    await userEvent.click(within(dialog).getByRole('checkbox', { name: /Read contacts/ }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create role' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(api.writes()[0]?.body).toEqual({
      name: 'Supervisor',
      permissions: ['contacts:read', 'campaigns:send'],
    });
    expect(await screen.findByRole('cell', { name: 'Supervisor' })).toBeInTheDocument();
  });
});

describe('agents', () => {
  it('validates the email, then POSTs the agent with its team and updates the plan usage', async () => {
    const api = fakeApi({ teams: [team(1, 'Support')], agents: [agent(10, 'Ana')] });
    renderPage('/agents');
    expect(await screen.findByText('1 of 10 agents on your Pro plan.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'New agent' }));
    const dialog = await screen.findByRole('dialog', { name: 'New agent' });
    await userEvent.type(within(dialog).getByLabelText('Name'), 'Bruno');
    await userEvent.type(within(dialog).getByLabelText('Email'), 'bruno-at-example');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create agent' }));
    expect(await within(dialog).findByText(/Enter a valid email address/)).toBeInTheDocument();
    expect(api.writes()).toEqual([]);

    await userEvent.clear(within(dialog).getByLabelText('Email'));
    await userEvent.type(within(dialog).getByLabelText('Email'), 'bruno@example.com');
    await userEvent.selectOptions(within(dialog).getByLabelText('Team'), 'Support');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create agent' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(api.writes()[0]?.body).toEqual({
      name: 'Bruno',
      email: 'bruno@example.com',
      status: 'active',
      team_id: uuid(1),
      role_id: null,
    });
    const row = (await screen.findByRole('cell', { name: /^Bruno/ })).closest('tr') as HTMLElement;
    expect(within(row).getByRole('cell', { name: 'Support' })).toBeInTheDocument();
    // Creating an agent changes the subscription's usage: it was invalidated and refetched.
    expect(await screen.findByText('2 of 10 agents on your Pro plan.')).toBeInTheDocument();
  });

  it('PATCHes only what changed on rename and leaves the subscription alone', async () => {
    const api = fakeApi({ agents: [agent(10, 'Ana')] });
    renderPage('/agents');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit Ana' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit agent “Ana”' });
    expect(within(dialog).getByLabelText('Email')).toHaveValue('ana@example.com');
    await waitFor(() => expect(api.gets('/api/user/subscription')).toBe(1));
    await userEvent.clear(within(dialog).getByLabelText('Name'));
    await userEvent.type(within(dialog).getByLabelText('Name'), 'Ana Lima');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(api.writes()).toEqual([
      { method: 'PATCH', path: `/api/session/agents/${uuid(10)}`, search: '', body: { name: 'Ana Lima' } },
    ]);
    expect(screen.getByRole('cell', { name: /^Ana Lima/ })).toBeInTheDocument();
    expect(api.gets('/api/user/subscription')).toBe(1);
    // Focus went back to the row's Edit button (still there, renamed).
    await waitFor(() => expect(screen.getByRole('button', { name: 'Edit Ana Lima' })).toHaveFocus());
  });

  it("shows the plan limit's 422 in the dialog with a way to the subscription", async () => {
    const api = fakeApi({ agents: [agent(10, 'Ana')], maxAgents: 1 });
    renderPage('/agents');
    await userEvent.click(await screen.findByRole('button', { name: 'New agent' }));
    const dialog = await screen.findByRole('dialog');
    api.refuse('POST', /agents$/, 422, {
      code: 'unprocessable',
      message: 'your Pro plan allows 1 agents: upgrade to add more',
      details: { max_agents: 1 },
    });
    await userEvent.type(within(dialog).getByLabelText('Name'), 'Bruno');
    await userEvent.type(within(dialog).getByLabelText('Email'), 'bruno@example.com');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create agent' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveTextContent('Your Pro plan allows 1 agents: upgrade to add more.');
    expect(within(alert).getByRole('link', { name: 'Change your plan' })).toHaveAttribute(
      'href',
      '/subscription',
    );
  });

  it('filters by the team in the URL (the link of a refused team delete)', async () => {
    const api = fakeApi({
      teams: [team(1, 'Support')],
      agents: [agent(10, 'Ana', uuid(1)), agent(11, 'Bruno')],
    });
    renderPage(`/agents?team_id=${uuid(1)}`);
    expect(await screen.findByRole('cell', { name: /^Ana/ })).toBeInTheDocument();
    expect(screen.queryByRole('cell', { name: /^Bruno/ })).not.toBeInTheDocument();
    expect(
      api.calls.some(
        (call) => call.path === '/api/session/agents' && call.search.includes(`team_id=${uuid(1)}`),
      ),
    ).toBe(true);
    await waitFor(() => expect(screen.getByLabelText('Team')).toHaveDisplayValue('Support'));
  });

  it('says so when offline instead of losing the change', async () => {
    const api = fakeApi({ agents: [agent(10, 'Ana')] });
    renderPage('/agents');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete Ana' }));
    vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete' }));
    expect(await within(screen.getByRole('dialog')).findByRole('alert')).toHaveTextContent('You are offline');
    expect(api.writes()).toEqual([]);
    expect(api.tables.agents).toHaveLength(1);
  });
});
