import { useLocation } from 'react-router';
import { vi } from 'vitest';
import type { Me } from '../src/shared/auth.tsx';
import { Component as CampaignPage } from '../src/user/CampaignPage.tsx';
import { Component as CampaignsPage } from '../src/user/CampaignsPage.tsx';
import { Component as ContactsPage } from '../src/user/ContactsPage.tsx';
import { Component as JobsPage } from '../src/user/JobsPage.tsx';
import { Component as ReportsPage } from '../src/user/ReportsPage.tsx';
import { renderRoutes } from './renderRoutes.tsx';

export const TOKEN = `wuz_0123456789ab_${'A'.repeat(43)}`;
export const USER: Me = {
  user: { id: 'u1', email: 'user01@demo-1.example', role: 'user' },
  tenant: { id: 't1', slug: 'demo-1', plan: 'free' },
};
export const ADMIN: Me = { ...USER, user: { ...USER.user, id: 'a1', role: 'admin' } };

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

type Handler = (call: Call) => Response | Promise<Response>;

/**
 * A fake API: each route is `METHOD /path` (query string ignored unless the key has one);
 * a handler list is answered in order, its last answer repeated. Unrouted calls are 404s,
 * so a request the page should not make shows up in `calls` and fails what expects it.
 */
export function fakeApi(routes: Record<string, Handler | Handler[]>) {
  const calls: Call[] = [];
  const counters = new Map<string, number>();
  const fetch = vi.fn(async (input: string, init: RequestInit = {}) => {
    const call: Call = {
      method: init.method ?? 'GET',
      url: input,
      headers: (init.headers ?? {}) as Record<string, string>,
      body: init.body as string | undefined,
    };
    calls.push(call);
    const path = input.split('?')[0];
    const key = routes[`${call.method} ${input}`] ? `${call.method} ${input}` : `${call.method} ${path}`;
    const route = routes[key];
    if (!route) return Response.json({ error: { code: 'not_found', message: `no ${key}` } }, { status: 404 });
    if (!Array.isArray(route)) return route(call);
    const n = counters.get(key) ?? 0;
    counters.set(key, n + 1);
    return (route[Math.min(n, route.length - 1)] as Handler)(call);
  });
  vi.stubGlobal('fetch', fetch);
  return {
    calls,
    fetch,
    of: (method: string, path: string) =>
      calls.filter((c) => c.method === method && c.url.split('?')[0] === path),
  };
}

export const json =
  (body: unknown, status = 200): Handler =>
  () =>
    Response.json(body, { status });

export const apiError =
  (status: number, code: string, message: string): Handler =>
  () =>
    Response.json({ error: { code, message } }, { status });

export const page = <T,>(data: T[], total = data.length) => ({ data, page: 1, per_page: 25, total });

function Where() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname + location.search}</output>;
}

/** Renders the user pages under a memory router, signed in as `me`. */
export function renderAt(path: string, me: Me = USER) {
  localStorage.setItem('wuz.token', TOKEN);
  localStorage.setItem('wuz.me', JSON.stringify(me));
  const withWhere = (element: React.ReactNode) => (
    <>
      {element}
      <Where />
    </>
  );
  return renderRoutes(
    [
      { path: '/contacts', element: withWhere(<ContactsPage />) },
      { path: '/campaigns', element: withWhere(<CampaignsPage />) },
      { path: '/campaigns/:id', element: withWhere(<CampaignPage />) },
      { path: '/jobs', element: withWhere(<JobsPage />) },
      { path: '/reports', element: withWhere(<ReportsPage />) },
    ],
    path,
  );
}

/** navigator.onLine → false until the returned function is called. */
export function goOffline(): () => void {
  const spy = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
  return () => spy.mockRestore();
}
