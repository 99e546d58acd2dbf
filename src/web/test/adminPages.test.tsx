import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Component as AnalyticsPage } from '../src/admin/AnalyticsPage.tsx';
import { Component as UsersPage } from '../src/admin/UsersPage.tsx';
import type { StripeAnalytics, UserListItem } from '../src/shared/api.ts';
import type { Me } from '../src/shared/auth.tsx';
import { renderRoutes } from './renderRoutes.tsx';

const ME: Me = {
  user: { id: 'u1', email: 'admin@demo-1.example', role: 'admin' },
  tenant: { id: 't1', slug: 'demo-1', plan: 'pro' },
};

/** Answers GETs by path (query string included); records every URL asked for. */
function fakeGets(answer: (url: string) => Response) {
  const urls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      urls.push(url);
      return answer(url);
    }),
  );
  return urls;
}

function renderAt(path: string, initial: string, element: ReactNode) {
  return renderRoutes([{ path, element }], initial).router;
}

beforeEach(() => {
  localStorage.setItem('wuz.token', `wuz_0123456789ab_${'A'.repeat(43)}`);
  localStorage.setItem('wuz.me', JSON.stringify(ME));
});
afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

const days = (counts: number[]) =>
  counts.map((count, i) => ({ date: `2026-11-${String(i + 1).padStart(2, '0')}`, count }));

const ANALYTICS: StripeAnalytics = {
  currency: 'usd',
  mrr_cents: 116800,
  arr_cents: 1401600,
  subscriptions: { active: 15, trialing: 4, past_due: 1, canceled: 4 },
  churn_rate_30d: 0.2143,
  revenue_by_plan: [
    { plan_id: 'p1', plan: 'Pro', subscriptions: 7, mrr_cents: 69300 },
    { plan_id: 'p2', plan: 'Starter', subscriptions: 5, mrr_cents: 14500 },
  ],
  new_subscriptions_per_day: days([1, 0, 0, 3, ...Array(26).fill(0)]),
};

describe('the analytics page', () => {
  it('shows MRR, ARR, churn, statuses, revenue by plan and an accessible chart', async () => {
    fakeGets(() => Response.json(ANALYTICS));
    renderAt('/admin/analytics', '/admin/analytics', <AnalyticsPage />);
    expect(await screen.findByText('$1,168.00')).toBeInTheDocument();
    expect(screen.getByText('$14,016.00')).toBeInTheDocument();
    expect(screen.getByText('21.4%')).toBeInTheDocument();
    expect(screen.getByText('Past due').closest('div')).toHaveTextContent('1');
    const chart = screen.getByRole('img', { name: 'New subscriptions per day, last 30 days' });
    expect(chart).toHaveAccessibleDescription('4 new subscriptions in the last 30 days, at most 3 on Nov 4.');
    expect(chart.querySelectorAll('rect')).toHaveLength(2); // the two days with subscriptions
    const byPlan = screen.getByRole('table', { name: /MRR by plan/ });
    expect(within(byPlan).getByRole('row', { name: /Pro/ })).toHaveTextContent('$693.00');
    // The chart's numbers, as a table, one keypress away.
    await userEvent.click(screen.getByText('Show as table'));
    expect(screen.getByRole('row', { name: 'Nov 4 3' })).toBeVisible();
  });

  it('says there is nothing yet when there are no subscriptions', async () => {
    fakeGets(() =>
      Response.json({
        ...ANALYTICS,
        mrr_cents: 0,
        arr_cents: 0,
        subscriptions: { active: 0, trialing: 0, past_due: 0, canceled: 0 },
        new_subscriptions_per_day: days(Array(30).fill(0)),
      }),
    );
    renderAt('/admin/analytics', '/admin/analytics', <AnalyticsPage />);
    expect(await screen.findByText('No subscriptions yet')).toBeInTheDocument();
    expect(screen.queryByRole('img')).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'plans' })).toHaveAttribute('href', '/admin/plans');
  });
});

const user = (i: number, subscription: UserListItem['subscription']): UserListItem => ({
  id: `u${i}`,
  email: `user${i}@demo-1.example`,
  name: `User ${i}`,
  role: i === 0 ? 'admin' : 'user',
  created_at: '2026-11-24T10:00:00.000Z',
  subscription,
});

describe('the users page', () => {
  it('lists users with their subscription and pages through them', async () => {
    const urls = fakeGets((url) => {
      const page = Number(new URL(url, 'http://x').searchParams.get('page'));
      const data =
        page === 1
          ? [user(0, null), user(1, { status: 'past_due', plan: 'Pro' })]
          : [user(26, { status: 'active', plan: 'Starter' })];
      const perPage = Number(new URL(url, 'http://x').searchParams.get('per_page'));
      return Response.json({ data, page, per_page: perPage, total: 26 });
    });
    const router = renderAt('/admin/users', '/admin/users', <UsersPage />);
    const row = await screen.findByRole('row', { name: /user1@demo-1.example/ });
    expect(row).toHaveTextContent('Pro');
    expect(row).toHaveTextContent('Past due');
    expect(screen.getByRole('row', { name: /user0@/ })).toHaveTextContent('None');
    expect(screen.getByText('Page 1 of 2 · 26 in all')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByRole('row', { name: /user26@/ })).toHaveTextContent('Starter');
    expect(urls).toEqual(['/api/admin/users?page=1&per_page=25', '/api/admin/users?page=2&per_page=25']);
    expect(router.state.location.search).toBe('?page=2');
    // Another page size starts again at page 1.
    await userEvent.selectOptions(screen.getByLabelText('Per page'), '50');
    await screen.findByRole('row', { name: /user1@/ });
    expect(urls.at(-1)).toBe('/api/admin/users?page=1&per_page=50');
    expect(router.state.location.search).toBe('?per_page=50');
  });

  it('filters by role and search, and says when nothing matches', async () => {
    const urls = fakeGets(() => Response.json({ data: [], page: 1, per_page: 25, total: 0 }));
    renderAt('/admin/users', '/admin/users?page=3', <UsersPage />);
    expect(await screen.findByText('No users yet')).toBeInTheDocument();
    await userEvent.selectOptions(screen.getByLabelText('Role'), 'admin');
    await userEvent.type(screen.getByLabelText('Search'), 'ana{Enter}');
    expect(await screen.findByText('No users match these filters')).toBeInTheDocument();
    expect(urls).toEqual([
      '/api/admin/users?page=3&per_page=25',
      '/api/admin/users?page=1&per_page=25&role=admin',
      '/api/admin/users?page=1&per_page=25&role=admin&q=ana',
    ]);
  });

  it('shows a failure with a way to retry', async () => {
    let fail = true;
    fakeGets(() =>
      fail
        ? Response.json({ error: { code: 'forbidden', message: 'admins only' } }, { status: 403 })
        : Response.json({ data: [user(1, null)], page: 1, per_page: 25, total: 1 }),
    );
    renderAt('/admin/users', '/admin/users', <UsersPage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('admins only');
    fail = false;
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('row', { name: /user1@/ })).toBeInTheDocument();
  });
});
