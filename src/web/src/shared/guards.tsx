import { Navigate, Outlet } from 'react-router';
import { useAuth } from './auth.tsx';

/** Where `/` leads: the analytics for admins, the agents for everyone else. */
export function Home() {
  const { me } = useAuth();
  return <Navigate to={me?.user.role === 'admin' ? '/admin/analytics' : '/agents'} replace />;
}

/** Admin pages for admins only; the API would answer 403 anyway. */
export function RequireAdmin() {
  const { me } = useAuth();
  if (me?.user.role !== 'admin') {
    return (
      <div className="state state-error" role="alert">
        This area is for tenant admins.
      </div>
    );
  }
  return <Outlet />;
}
