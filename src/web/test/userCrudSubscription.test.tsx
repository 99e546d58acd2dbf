import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plan, Subscription } from '../src/shared/api.ts';
import type { Me } from '../src/shared/auth.tsx';
import { Component as AgentsPage } from '../src/user/AgentsPage.tsx';
import { Component as SubscriptionPage } from '../src/user/SubscriptionPage.tsx';
import { renderRoutes } from './renderRoutes.tsx';

const TOKEN = `wuz_0123456789ab_${'A'.repeat(43)}`;
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const me = (role: 'admin' | 'user'): Me => ({
  user: { id: 'u1', email: `${role}@demo-1.example`, role },
  tenant: { id: 't1', slug: 'demo-1', plan: 'pro' },
});

// Typed by the contract's shapes, so a fixture cannot drift from what the API answers.
const plan = (n: number, name: string, maxAgents: number, priceCents: number): Plan => ({
  id: uuid(n),
  name,
  price_cents: priceCents,
  currency: 'usd',
  interval: 'month',
  limits: { max_agents: maxAgents, messages_per_month: maxAgents * 1000 },
  stripe_price_id: null,
  trial_days: 0,
  created_at: '2026-01-01T00:00:00.000Z',
});
const PLANS = [plan(1, 'Basic', 3, 2900), plan(2, 'Pro', 10, 9900), plan(3, 'Business', 50, 29900)];

function subscriptionOn(p: Plan, agents: number, cancel = false): Subscription {
  return {
    id: uuid(50),
    status: 'active',
    cancel_at_period_end: cancel,
    current_period_start: '2026-01-01T00:00:00.000Z',
    current_period_end: '2026-02-01T00:00:00.000Z',
    canceled_at: null,
    created_at: '2026-01-01T00:00:00.000Z',
    plan: p,
    usage: { agents, messages_this_month: 0 },
  };
}

type Reply = (init: RequestInit, url: URL) => Response;

/** Routes by "METHOD /path"; a route given a list answers its replies in turn (the last one repeats). */
function stubApi(routes: Record<string, Reply | Reply[]>) {
  const calls: Array<{ method: string; path: string; body: unknown }> = [];
  const used: Record<string, number> = {};
  const fetch = vi.fn(async (input: string, init: RequestInit) => {
    const url = new URL(input, 'http://localhost');
    const key = `${init.method ?? 'GET'} ${url.pathname}`;
    calls.push({
      method: init.method ?? 'GET',
      path: url.pathname,
      body: init.body ? JSON.parse(String(init.body)) : undefined,
    });
    const route = routes[key];
    if (!route)
      return Response.json({ error: { code: 'not_found', message: `no stub for ${key}` } }, { status: 404 });
    const replies = Array.isArray(route) ? route : [route];
    const n = used[key] ?? 0;
    used[key] = n + 1;
    return (replies[Math.min(n, replies.length - 1)] as Reply)(init, url);
  });
  vi.stubGlobal('fetch', fetch);
  return {
    calls,
    count: (key: string) => calls.filter((call) => `${call.method} ${call.path}` === key).length,
  };
}

function renderPage(who: Me) {
  localStorage.setItem('wuz.token', TOKEN);
  localStorage.setItem('wuz.me', JSON.stringify(who));
  renderRoutes(
    [
      { path: '/subscription', element: <SubscriptionPage /> },
      { path: '/agents', element: <p>agents page</p> },
    ],
    '/subscription',
  );
}

/** What the API answers a caller with no subscription (docs/API.md): `200` and `null`. */
const none = () => Response.json(null);

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('the subscription page', () => {
  it('shows the plan, its status and the usage against the limits', async () => {
    stubApi({ 'GET /api/user/subscription': () => Response.json(subscriptionOn(PLANS[1] as never, 3)) });
    renderPage(me('user'));
    expect(await screen.findByRole('heading', { name: 'Pro plan' })).toBeInTheDocument();
    expect(screen.getByText('Active')).toHaveClass('badge-ok');
    const agents = screen.getByRole('progressbar', { name: 'Agents' });
    expect(agents).toHaveAttribute('aria-valuenow', '3');
    expect(agents).toHaveAttribute('aria-valuemax', '10');
    expect(agents.firstElementChild).toHaveStyle({ width: '30%' });
    expect(screen.getByText('3 of 10')).toBeInTheDocument();
  });

  it('shows an empty state when the API answers null (no subscription)', async () => {
    const consoleError = vi.spyOn(console, 'error');
    stubApi({ 'GET /api/user/subscription': none });
    renderPage(me('user'));
    expect(await screen.findByText('You have no subscription')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Choose a plan' })).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(consoleError).not.toHaveBeenCalled();
    consoleError.mockRestore();
  });

  it.each([
    [404, 'not_found', 'subscription not found'],
    [500, 'internal_error', 'internal server error'],
  ])(
    'shows a failed load (%i) as an error with a retry, never as "no subscription"',
    async (status, code, message) => {
      stubApi({
        'GET /api/user/subscription': [
          () => Response.json({ error: { code, message } }, { status }),
          () => Response.json(subscriptionOn(PLANS[1] as never, 3)),
        ],
      });
      renderPage(me('user'));
      expect(await screen.findByRole('alert')).toHaveTextContent(message);
      expect(screen.queryByText('You have no subscription')).not.toBeInTheDocument();
      await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
      expect(await screen.findByRole('heading', { name: 'Pro plan' })).toBeInTheDocument();
    },
  );

  it('subscribes from the empty state and shows the new subscription at once', async () => {
    const api = stubApi({
      'GET /api/user/subscription': [none, () => Response.json(subscriptionOn(PLANS[0] as never, 0))],
      'GET /api/user/plans': () => Response.json({ data: PLANS, page: 1, per_page: 3, total: 3 }),
      'GET /api/session/agents': () => Response.json({ data: [], page: 1, per_page: 1, total: 0 }),
      'POST /api/user/subscription': () =>
        Response.json(subscriptionOn(PLANS[0] as never, 0), { status: 201 }),
    });
    renderPage(me('user'));
    await userEvent.click(await screen.findByRole('button', { name: 'Choose a plan' }));
    const dialog = await screen.findByRole('dialog', { name: 'Choose a plan' });
    await userEvent.selectOptions(await within(dialog).findByLabelText('Plan'), uuid(1));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Subscribe' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.getByRole('status')).toHaveTextContent('You are now on the Basic plan.');
    expect(await screen.findByRole('heading', { name: 'Basic plan' })).toBeInTheDocument();
    expect(screen.queryByText('You have no subscription')).not.toBeInTheDocument();
    expect(api.calls.find((call) => call.method === 'POST')?.body).toEqual({ plan_id: uuid(1) });
    expect(api.count('GET /api/user/subscription')).toBe(2);
  });

  it("an admin picks a plan from the tenant's plans; a 422 (too many agents) is shown in the dialog", async () => {
    const api = stubApi({
      'GET /api/user/subscription': () => Response.json(subscriptionOn(PLANS[1] as never, 5)),
      'GET /api/user/plans': () => Response.json({ data: PLANS, page: 1, per_page: 3, total: 3 }),
      'POST /api/user/subscription': () =>
        Response.json(
          {
            error: {
              code: 'unprocessable',
              message: 'the Basic plan allows 3 agents and you have 5: remove some first',
              details: { agents: 5, max_agents: 3 },
            },
          },
          { status: 422 },
        ),
    });
    renderPage(me('admin'));
    await userEvent.click(await screen.findByRole('button', { name: 'Change plan' }));
    const dialog = await screen.findByRole('dialog', { name: 'Change plan' });
    const select = await within(dialog).findByLabelText('Plan');
    // The current plan cannot be chosen again.
    expect(within(select).getByRole('option', { name: /^Pro .*\(current\)$/ })).toBeDisabled();

    await userEvent.click(within(dialog).getByRole('button', { name: 'Change plan' }));
    expect(await within(dialog).findByText('Choose a plan.')).toBeInTheDocument();
    expect(api.count('POST /api/user/subscription')).toBe(0);

    await userEvent.selectOptions(select, uuid(1));
    expect(
      within(dialog).getByText(/allows 3 agents and you have 5: the change will be refused/),
    ).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Change plan' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveTextContent('The Basic plan allows 3 agents and you have 5: remove some first.');
    expect(within(alert).getByRole('link', { name: 'Go to your agents' })).toHaveAttribute('href', '/agents');
    expect(api.calls.find((call) => call.method === 'POST')?.body).toEqual({ plan_id: uuid(1) });
    expect(screen.getByRole('dialog')).toBeInTheDocument();
  });

  it("a user picks from their tenant's plans (GET /api/user/plans); the change is saved and shown", async () => {
    const api = stubApi({
      'GET /api/user/subscription': [
        () => Response.json(subscriptionOn(PLANS[1] as never, 2)),
        () => Response.json(subscriptionOn(PLANS[2] as never, 2)),
      ],
      'GET /api/user/plans': () => Response.json({ data: PLANS, page: 1, per_page: 3, total: 3 }),
      'POST /api/user/subscription': () => Response.json(subscriptionOn(PLANS[2] as never, 2)),
    });
    renderPage(me('user'));
    await userEvent.click(await screen.findByRole('button', { name: 'Change plan' }));
    const dialog = await screen.findByRole('dialog', { name: 'Change plan' });
    await userEvent.selectOptions(await within(dialog).findByLabelText('Plan'), uuid(3));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Change plan' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.getByRole('status')).toHaveTextContent('You are now on the Business plan.');
    expect(await screen.findByRole('heading', { name: 'Business plan' })).toBeInTheDocument();
    expect(api.calls.find((call) => call.method === 'POST')?.body).toEqual({ plan_id: uuid(3) });
    expect(api.count('GET /api/admin/plans')).toBe(0);
    expect(api.count('GET /api/user/subscription')).toBe(2);
  });

  it('cancels at period end after confirmation and shows it', async () => {
    const api = stubApi({
      'GET /api/user/subscription': [
        () => Response.json(subscriptionOn(PLANS[1] as never, 2)),
        () => Response.json(subscriptionOn(PLANS[1] as never, 2, true)),
      ],
      'DELETE /api/user/subscription': () => Response.json(subscriptionOn(PLANS[1] as never, 2, true)),
    });
    renderPage(me('user'));
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel subscription' }));
    const dialog = await screen.findByRole('dialog', { name: 'Cancel your subscription?' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel subscription' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(api.count('DELETE /api/user/subscription')).toBe(1);
    expect(await screen.findByText('Cancels at period end')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel subscription' })).not.toBeInTheDocument();
    // Its button is gone: focus lands on "Change plan", not on <body>.
    await waitFor(() => expect(screen.getByRole('button', { name: 'Change plan' })).toHaveFocus());
  });

  it("shows a refused cancel's 409 in the confirmation", async () => {
    stubApi({
      'GET /api/user/subscription': () => Response.json(subscriptionOn(PLANS[1] as never, 2)),
      'DELETE /api/user/subscription': () =>
        Response.json(
          { error: { code: 'conflict', message: 'the subscription is already set to cancel at period end' } },
          { status: 409 },
        ),
    });
    renderPage(me('user'));
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel subscription' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel subscription' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'The subscription is already set to cancel at period end.',
    );
  });
});

describe("the agents page's plan line (the same subscription query)", () => {
  const emptyList = () => Response.json({ data: [], page: 1, per_page: 25, total: 0 });
  const renderAgents = () => {
    localStorage.setItem('wuz.token', TOKEN);
    localStorage.setItem('wuz.me', JSON.stringify(me('user')));
    renderRoutes(
      [
        { path: '/agents', element: <AgentsPage /> },
        { path: '/subscription', element: <p>subscription page</p> },
      ],
      '/agents',
    );
  };
  const lists = {
    'GET /api/session/agents': emptyList,
    'GET /api/session/teams': emptyList,
    'GET /api/session/roles': emptyList,
  };

  it('says no agent limit applies when the API answers null', async () => {
    stubApi({ ...lists, 'GET /api/user/subscription': none });
    renderAgents();
    expect(
      await screen.findByText(/You have no subscription, so no agent limit applies\./),
    ).toBeInTheDocument();
  });

  it('never takes a failed load (a 404) for "no subscription"', async () => {
    const api = stubApi({
      ...lists,
      'GET /api/user/subscription': () =>
        Response.json({ error: { code: 'not_found', message: 'not found' } }, { status: 404 }),
    });
    renderAgents();
    await waitFor(() => expect(api.count('GET /api/user/subscription')).toBe(1));
    await waitFor(() => expect(api.count('GET /api/session/agents')).toBeGreaterThan(0));
    expect(await screen.findByRole('heading', { name: 'Agents' })).toBeInTheDocument();
    expect(screen.queryByText(/You have no subscription/)).not.toBeInTheDocument();
  });
});
