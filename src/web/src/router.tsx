import { createBrowserRouter, type RouteObject } from 'react-router';
import { Home, RequireAdmin } from './shared/guards.tsx';
import { ErrorState, Loading } from './shared/ui/States.tsx';

/**
 * Every page is its own lazy route: the admin pages land in the `admin` chunk, the user
 * pages in `user` (vite.config.ts), and only the shell and the login page load up front.
 * Each page module exports `Component` (react-router's lazy-route convention).
 */
const page = (load: () => Promise<{ Component: React.ComponentType }>): Pick<RouteObject, 'lazy'> => ({
  lazy: load,
});

export const routes: RouteObject[] = [
  { path: '/login', hydrateFallbackElement: <Loading />, ...page(() => import('./login/LoginPage.tsx')) },
  {
    path: '/',
    ...page(() => import('./shared/Layout.tsx')),
    // Shown while the first page's lazy chunk loads.
    hydrateFallbackElement: <Loading />,
    errorElement: <ErrorState error={new Error('This page failed to load. Reload to try again.')} />,
    children: [
      { index: true, element: <Home /> },
      {
        path: 'admin',
        element: <RequireAdmin />,
        children: [
          { path: 'analytics', ...page(() => import('./admin/AnalyticsPage.tsx')) },
          { path: 'stripe', ...page(() => import('./admin/StripeSettingsPage.tsx')) },
          { path: 'plans', ...page(() => import('./admin/PlansPage.tsx')) },
          { path: 'users', ...page(() => import('./admin/UsersPage.tsx')) },
        ],
      },
      { path: 'subscription', ...page(() => import('./user/SubscriptionPage.tsx')) },
      { path: 'agents', ...page(() => import('./user/AgentsPage.tsx')) },
      { path: 'teams', ...page(() => import('./user/TeamsPage.tsx')) },
      { path: 'roles', ...page(() => import('./user/RolesPage.tsx')) },
      { path: 'contacts', ...page(() => import('./user/ContactsPage.tsx')) },
      { path: 'campaigns', ...page(() => import('./user/CampaignsPage.tsx')) },
      { path: 'campaigns/:id', ...page(() => import('./user/CampaignPage.tsx')) },
      { path: 'jobs', ...page(() => import('./user/JobsPage.tsx')) },
      { path: 'reports', ...page(() => import('./user/ReportsPage.tsx')) },
      { path: '*', element: <ErrorState error={new Error('No such page.')} /> },
    ],
  },
];

export const router = createBrowserRouter(routes);
