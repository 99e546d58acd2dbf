import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import { createMemoryRouter, type RouteObject, RouterProvider } from 'react-router';
import { AuthProvider } from '../src/shared/auth.tsx';

/**
 * Renders pages as the app does (a query client without retries, so an error shows at
 * once; the auth provider, which reads the token from localStorage; a router), at `at`.
 */
export function renderRoutes(routes: RouteObject[], at: string) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const router = createMemoryRouter(routes, { initialEntries: [at] });
  render(
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>,
  );
  return { router, queryClient };
}
