import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Component as LoginPage } from '../src/login/LoginPage.tsx';
import { AuthProvider } from '../src/shared/auth.tsx';
import { Home } from '../src/shared/guards.tsx';

const TOKEN = `wuz_0123456789ab_${'A'.repeat(43)}`;

function renderLogin() {
  const router = createMemoryRouter(
    [
      { path: '/login', element: <LoginPage /> },
      { path: '/', element: <Home /> },
      { path: '/admin/analytics', element: <p>analytics page</p> },
      { path: '/agents', element: <p>agents page</p> },
    ],
    { initialEntries: ['/login'] },
  );
  render(
    <QueryClientProvider client={new QueryClient()}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('the login form', () => {
  it('refuses a malformed token without calling the API', async () => {
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    renderLogin();
    await userEvent.type(screen.getByLabelText('API token'), 'not-a-token');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/looks like wuz_/);
    expect(screen.getByLabelText('API token')).toHaveAttribute('aria-invalid', 'true');
    expect(fetch).not.toHaveBeenCalled();
  });

  it("shows the API's refusal of an unknown token", async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        Response.json(
          { error: { code: 'unauthorized', message: 'invalid or revoked token' } },
          { status: 401 },
        ),
      ),
    );
    renderLogin();
    await userEvent.type(screen.getByLabelText('API token'), TOKEN);
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('This token is not valid');
    expect(localStorage.getItem('wuz.token')).toBeNull();
  });

  it('signs an admin in with the Bearer token and opens the analytics', async () => {
    const fetch = vi.fn(async (_url: string, init: RequestInit) => {
      expect((init.headers as Record<string, string>).authorization).toBe(`Bearer ${TOKEN}`);
      return Response.json({
        user: { id: 'u1', email: 'admin@demo-1.example', role: 'admin' },
        tenant: { id: 't1', slug: 'demo-1', plan: 'free' },
      });
    });
    vi.stubGlobal('fetch', fetch);
    renderLogin();
    await userEvent.type(screen.getByLabelText('API token'), TOKEN);
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('analytics page')).toBeInTheDocument();
    expect(fetch).toHaveBeenCalledWith('/api/me', expect.objectContaining({ method: 'GET' }));
    expect(localStorage.getItem('wuz.token')).toBe(TOKEN);
  });
});
