import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Component as PlansPage } from '../src/admin/PlansPage.tsx';
import { Component as StripeSettingsPage } from '../src/admin/StripeSettingsPage.tsx';
import type { Plan, StripeSettings } from '../src/shared/api.ts';
import type { Me } from '../src/shared/auth.tsx';
import { keys } from '../src/shared/queryKeys.ts';
import { renderRoutes } from './renderRoutes.tsx';

const TOKEN = `wuz_0123456789ab_${'A'.repeat(43)}`;
const ME: Me = {
  user: { id: 'u1', email: 'admin@demo-1.example', role: 'admin' },
  tenant: { id: 't1', slug: 'demo-1', plan: 'pro' },
};

interface Call {
  method: string;
  url: string;
  body: unknown;
}
type Handler = (call: Call) => Response | Promise<Response>;

/** A fake API: `"PUT /api/…"` → handler; every request is recorded; anything else is a 404. */
function fakeApi(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const call = {
        method: init?.method ?? 'GET',
        url,
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      calls.push(call);
      const handler = routes[`${call.method} ${url}`];
      if (!handler)
        return Response.json({ error: { code: 'not_found', message: 'no route' } }, { status: 404 });
      return handler(call);
    }),
  );
  return { calls, writes: () => calls.filter((c) => c.method !== 'GET') };
}

const apiError = (status: number, code: string, message: string, details?: unknown) =>
  Response.json({ error: { code, message, details } }, { status });

function renderAt(path: string, element: ReactNode) {
  return renderRoutes([{ path, element }], path).queryClient;
}

beforeEach(() => {
  localStorage.setItem('wuz.token', TOKEN);
  localStorage.setItem('wuz.me', JSON.stringify(ME));
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  localStorage.clear();
});

const STORED: StripeSettings = {
  configured: true,
  publishable_key: 'pk_test_51Habcdefgh',
  secret_key_last4: '4242',
  webhook_secret_last4: '9f3a',
  currency: 'usd',
  updated_at: '2026-11-24T10:00:00.000Z',
};
const NOT_CONFIGURED: StripeSettings = {
  configured: false,
  publishable_key: null,
  secret_key_last4: null,
  webhook_secret_last4: null,
  currency: 'usd',
  updated_at: null,
};

describe('the Stripe settings form', () => {
  async function openStripe(stored: StripeSettings, put?: Handler) {
    // Like the server: a GET after a successful PUT answers what was saved.
    let current = stored;
    const api = fakeApi({
      'GET /api/admin/stripe/settings': () => Response.json(current),
      ...(put
        ? {
            'PUT /api/admin/stripe/settings': async (call: Call) => {
              const response = await put(call);
              if (response.ok) current = await response.clone().json();
              return response;
            },
          }
        : {}),
    });
    const queryClient = renderAt('/admin/stripe', <StripeSettingsPage />);
    expect(await screen.findByLabelText('Publishable key')).toHaveValue(stored.publishable_key ?? '');
    return { api, queryClient };
  }
  const input = (label: string) => screen.getByLabelText(label);
  async function replace(label: string, value: string) {
    await userEvent.clear(input(label));
    if (value) await userEvent.type(input(label), value);
  }

  it('shows the stored settings, the secrets only as their last 4 characters', async () => {
    await openStripe(STORED);
    expect(input('Secret key')).toHaveValue('');
    expect(input('Secret key')).toHaveAttribute('type', 'password');
    expect(input('Webhook signing secret')).toHaveValue('');
    expect(screen.getByText(/Stored: …4242\. Leave blank to keep it\./)).toBeInTheDocument();
    expect(input('Currency')).toHaveValue('usd');
  });

  it('refuses a malformed publishable key without sending anything', async () => {
    const put = vi.fn(() => Response.json(STORED));
    const { api } = await openStripe(STORED, put);
    await replace('Publishable key', 'sk_test_notapublishablekey');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText('Must look like pk_test_… or pk_live_…')).toBeInTheDocument();
    expect(input('Publishable key')).toHaveAttribute('aria-invalid', 'true');
    expect(input('Publishable key')).toHaveFocus();
    expect(put).not.toHaveBeenCalled();
    expect(api.writes()).toEqual([]);
  });

  it('requires both secrets the first time, and the same mode for both keys', async () => {
    const { api } = await openStripe(NOT_CONFIGURED, () => Response.json(STORED));
    await replace('Publishable key', 'pk_live_abcdefgh1234');
    await replace('Currency', 'usd');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findAllByText('Required the first time settings are saved')).toHaveLength(2);
    await userEvent.type(input('Secret key'), 'sk_test_abcdefgh1234');
    await userEvent.type(input('Webhook signing secret'), 'whsec_abcdefgh1234');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText(/must both be test keys or both be live keys/)).toBeInTheDocument();
    expect(input('Secret key')).toHaveAttribute('aria-invalid', 'true');
    expect(api.writes()).toEqual([]);
  });

  it('sends only what changed: secrets left blank are left out, the currency lower-cased', async () => {
    const saved: StripeSettings = { ...STORED, publishable_key: 'pk_test_newkey12345', currency: 'brl' };
    const { api, queryClient } = await openStripe(STORED, () => Response.json(saved));
    queryClient.setQueryData(keys(ME).analytics, { stale: true });
    queryClient.setQueryData(keys(ME).plans, { untouched: true });
    await replace('Publishable key', '  pk_test_newkey12345 ');
    await replace('Currency', 'BRL');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Stripe settings saved.'));
    expect(api.writes()).toEqual([
      {
        method: 'PUT',
        url: '/api/admin/stripe/settings',
        body: { publishable_key: 'pk_test_newkey12345', currency: 'brl' },
      },
    ]);
    // What the API invalidates on this write, and nothing else.
    expect(queryClient.getQueryState(keys(ME).analytics)?.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(keys(ME).plans)?.isInvalidated).toBe(false);
    expect(input('Currency')).toHaveValue('brl');
  });

  it('sends new secrets when they are typed', async () => {
    const { api } = await openStripe(NOT_CONFIGURED, () => Response.json(STORED));
    await replace('Publishable key', 'pk_test_abcdefgh1234');
    await userEvent.type(input('Secret key'), 'rk_test_abcdefgh1234');
    await userEvent.type(input('Webhook signing secret'), 'whsec_abc+/=defgh');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await screen.findByText('Stripe settings saved.');
    expect(api.writes().map((c) => c.body)).toEqual([
      {
        publishable_key: 'pk_test_abcdefgh1234',
        secret_key: 'rk_test_abcdefgh1234',
        webhook_secret: 'whsec_abc+/=defgh',
        currency: 'usd',
      },
    ]);
    // The form is cleared of the secrets and now says what is stored.
    expect(input('Secret key')).toHaveValue('');
    expect(screen.getByText(/Stored: …4242/)).toBeInTheDocument();
  });

  it("puts a 400's details under the fields they name", async () => {
    await openStripe(STORED, () =>
      apiError(400, 'invalid_request', 'body.webhook_secret: must look like whsec_…', [
        { path: 'body.webhook_secret', message: 'must look like whsec_…' },
      ]),
    );
    await userEvent.type(input('Webhook signing secret'), 'whsec_abcdefgh1234');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText('Must look like whsec_…')).toBeInTheDocument();
    expect(input('Webhook signing secret')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByText('Stripe settings saved.')).not.toBeInTheDocument();
  });

  it("shows a 422's message for the form", async () => {
    await openStripe(STORED, () =>
      apiError(
        422,
        'unprocessable',
        'publishable_key and secret_key must both be test keys or both be live keys',
      ),
    );
    await userEvent.type(input('Secret key'), 'sk_test_abcdefgh1234');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(
      'publishable_key and secret_key must both be test keys or both be live keys',
    );
    expect(screen.queryByText('Stripe settings saved.')).not.toBeInTheDocument();
  });

  it('says so when the change cannot be sent offline', async () => {
    const { api } = await openStripe(STORED, () => Response.json(STORED));
    vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('You are offline: this change was not sent.');
    expect(api.writes()).toEqual([]);
  });

  it('offers to retry when the settings cannot be loaded', async () => {
    let fail = true;
    fakeApi({
      'GET /api/admin/stripe/settings': () =>
        fail ? apiError(500, 'internal_error', 'internal server error') : Response.json(STORED),
    });
    renderAt('/admin/stripe', <StripeSettingsPage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('internal server error');
    fail = false;
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByLabelText('Publishable key')).toHaveValue(STORED.publishable_key);
  });
});

const PLANS: Plan[] = [
  {
    id: 'p1',
    name: 'Starter',
    price_cents: 2900,
    currency: 'usd',
    interval: 'month',
    limits: { max_agents: 3, messages_per_month: 1000 },
    stripe_price_id: 'price_starter',
    trial_days: 14,
    created_at: '2026-11-24T10:00:00.000Z',
  },
];
const list = (plans: Plan[]) =>
  Response.json({ data: plans, page: 1, per_page: plans.length, total: plans.length });

describe('the New plan dialog', () => {
  async function openPlans(post: Handler = () => apiError(500, 'internal_error', 'no')) {
    const plans = [...PLANS];
    const api = fakeApi({
      'GET /api/admin/plans': () => list(plans),
      'POST /api/admin/plans': post,
      'GET /api/admin/stripe/settings': () => Response.json({ ...STORED, currency: 'eur' }),
    });
    const queryClient = renderAt('/admin/plans', <PlansPage />);
    expect(await screen.findByRole('rowheader', { name: 'Starter' })).toBeInTheDocument();
    return { api, queryClient, plans };
  }
  async function fill(values: Record<string, string>) {
    for (const [label, value] of Object.entries(values)) {
      const control = screen.getByLabelText(label);
      if (control instanceof HTMLSelectElement) await userEvent.selectOptions(control, value);
      else {
        await userEvent.clear(control);
        await userEvent.type(control, value);
      }
    }
  }

  it('lists the plans with their price and limits', async () => {
    await openPlans();
    const row = screen.getByRole('row', { name: /Starter/ });
    expect(row).toHaveTextContent('$29.00');
    expect(row).toHaveTextContent('/ month');
    expect(row).toHaveTextContent('1,000');
    expect(row).toHaveTextContent('14 days');
  });

  it('opens from the keyboard, and Escape closes it', async () => {
    await openPlans();
    const button = screen.getByRole('button', { name: 'New plan' });
    button.focus();
    await userEvent.keyboard('{Enter}');
    const dialog = await screen.findByRole('dialog', { name: 'New plan' });
    expect(within(dialog).getByLabelText('Name')).toBeInTheDocument();
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    await waitFor(() => expect(button).toHaveFocus());
    await userEvent.click(button);
    expect(await screen.findByRole('dialog', { name: 'New plan' })).toBeInTheDocument();
  });

  it('validates before sending anything', async () => {
    const post = vi.fn(() => list([]));
    const { api } = await openPlans(post);
    await userEvent.click(screen.getByRole('button', { name: 'New plan' }));
    await fill({ Price: '12.345', 'Trial days': '91', Currency: 'us' });
    await userEvent.click(screen.getByRole('button', { name: 'Create plan' }));
    const dialog = screen.getByRole('dialog');
    expect(
      await within(dialog).findByText('Must be an amount like 99 or 99.90, not negative'),
    ).toBeInTheDocument();
    expect(within(dialog).getByText('Must be between 0 and 90 days')).toBeInTheDocument();
    expect(within(dialog).getByText('Must be a 3-letter ISO currency code')).toBeInTheDocument();
    expect(within(dialog).getAllByText('Required')).toHaveLength(3); // name, max agents, messages
    expect(within(dialog).getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
    expect(post).not.toHaveBeenCalled();
    expect(api.writes()).toEqual([]);
  });

  it('creates the plan, closes, and the refetched list shows it', async () => {
    const { api, queryClient, plans } = await openPlans((call) => {
      const created = {
        ...(call.body as Plan),
        id: 'p2',
        stripe_price_id: null,
        created_at: '2026-11-25T10:00:00Z',
      };
      plans.push(created);
      return Response.json(created, { status: 201 });
    });
    queryClient.setQueryData(keys(ME).analytics, { stale: true });
    queryClient.setQueryData(keys(ME).users(), { untouched: true });
    await userEvent.click(screen.getByRole('button', { name: 'New plan' }));
    await fill({
      Name: ' Scale ',
      Price: '49.90',
      'Billing interval': 'year',
      'Max agents': '20',
      'Messages per month': '50000',
      'Trial days': '7',
    });
    // The tenant's Stripe currency is the default.
    expect(screen.getByLabelText('Currency')).toHaveValue('EUR');
    await fill({ Currency: 'usd' });
    await userEvent.click(screen.getByRole('button', { name: 'Create plan' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(api.writes()).toEqual([
      {
        method: 'POST',
        url: '/api/admin/plans',
        body: {
          name: 'Scale',
          price_cents: 4990,
          currency: 'usd',
          interval: 'year',
          limits: { max_agents: 20, messages_per_month: 50000 },
          trial_days: 7,
        },
      },
    ]);
    expect(screen.getByRole('status')).toHaveTextContent('Plan “Scale” created.');
    await waitFor(() => expect(screen.getByRole('button', { name: 'New plan' })).toHaveFocus());
    const row = screen.getByRole('row', { name: /Scale/ });
    expect(row).toHaveTextContent('$49.90');
    expect(row).toHaveTextContent('/ year');
    expect(api.calls.filter((c) => c.method === 'GET' && c.url === '/api/admin/plans')).toHaveLength(2);
    expect(queryClient.getQueryState(keys(ME).analytics)?.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(keys(ME).users())?.isInvalidated).toBe(false);
  });

  it('shows a 409 under the name and stays open', async () => {
    const { api } = await openPlans(() => apiError(409, 'conflict', 'a plan with this name already exists'));
    await userEvent.click(screen.getByRole('button', { name: 'New plan' }));
    await fill({ Name: 'Starter', Price: '29', 'Max agents': '3', 'Messages per month': '1000' });
    await userEvent.click(screen.getByRole('button', { name: 'Create plan' }));
    const dialog = screen.getByRole('dialog');
    expect(await within(dialog).findByText('A plan with this name already exists')).toBeInTheDocument();
    expect(within(dialog).getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
    expect(api.writes()).toHaveLength(1);
    expect(api.calls.filter((c) => c.url === '/api/admin/plans' && c.method === 'GET')).toHaveLength(1);
  });

  it('puts a 400 detail on its field, and a new opening starts clean', async () => {
    await openPlans(() =>
      apiError(400, 'invalid_request', 'body.limits.max_agents: Too big', [
        { path: 'body.limits.max_agents', message: 'too big: expected number to be <=1000000000' },
      ]),
    );
    await userEvent.click(screen.getByRole('button', { name: 'New plan' }));
    await fill({ Name: 'Huge', Price: '1', 'Max agents': '5', 'Messages per month': '5' });
    await userEvent.click(screen.getByRole('button', { name: 'Create plan' }));
    expect(await screen.findByText('Too big: expected number to be <=1000000000')).toBeInTheDocument();
    expect(screen.getByLabelText('Max agents')).toHaveAttribute('aria-invalid', 'true');
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await userEvent.click(screen.getByRole('button', { name: 'New plan' }));
    expect(screen.getByLabelText('Name')).toHaveValue('');
    expect(screen.getByLabelText('Max agents')).toHaveAttribute('aria-invalid', 'false');
  });
});
