import { QueryClientProvider } from '@tanstack/react-query';
import { Navigate, NavLink, Outlet, useNavigate } from 'react-router';
import { useAuth } from './auth.tsx';
import { queryClient } from './queryClient.ts';
import { OfflineBanner } from './ui/OfflineBanner.tsx';
import { UpdatePrompt } from './ui/UpdatePrompt.tsx';

const ADMIN_LINKS = [
  ['/admin/analytics', 'Analytics'],
  ['/admin/stripe', 'Stripe'],
  ['/admin/plans', 'Plans'],
  ['/admin/users', 'Users'],
] as const;

const USER_LINKS = [
  ['/subscription', 'Subscription'],
  ['/agents', 'Agents'],
  ['/teams', 'Teams'],
  ['/roles', 'Roles'],
  ['/contacts', 'Contacts'],
  ['/campaigns', 'Campaigns'],
  ['/jobs', 'Jobs'],
  ['/reports', 'Reports'],
] as const;

/**
 * The signed-in shell: navigation by role, banners, the page — and the query cache, so a
 * first visit to the login page loads neither (a lazy route of its own).
 */
export function Component() {
  return (
    <QueryClientProvider client={queryClient}>
      <Layout />
    </QueryClientProvider>
  );
}

export function Layout() {
  const { me, logout } = useAuth();
  const navigate = useNavigate();
  if (!me) return <Navigate to="/login" replace />;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">WUZAPI Manager</span>
        <span className="whoami">
          {me.user.email} · {me.tenant.slug} ({me.tenant.plan})
        </span>
        <button
          type="button"
          className="btn"
          onClick={async () => {
            await logout();
            navigate('/login', { replace: true });
          }}
        >
          Log out
        </button>
      </header>
      <OfflineBanner />
      <UpdatePrompt />
      <div className="body">
        <nav className="sidenav" aria-label="Main">
          {me.user.role === 'admin' && (
            <>
              <p className="nav-section">Admin</p>
              <ul>
                {ADMIN_LINKS.map(([to, label]) => (
                  <li key={to}>
                    <NavLink to={to}>{label}</NavLink>
                  </li>
                ))}
              </ul>
            </>
          )}
          <p className="nav-section">Workspace</p>
          <ul>
            {USER_LINKS.map(([to, label]) => (
              <li key={to}>
                <NavLink to={to}>{label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </div>
  );
}
