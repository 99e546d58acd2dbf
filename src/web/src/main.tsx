import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router/dom';
import { router } from './router.tsx';
import { AuthProvider } from './shared/auth.tsx';
import './styles.css';

// After a deploy, a tab still running the previous build asks for lazy chunks the server no
// longer has (404): load the new build once, instead of a blank page. Once per minute at
// most, so a chunk that is really broken does not reload forever.
window.addEventListener('vite:preloadError', (event) => {
  const last = Number(sessionStorage.getItem('wuz:reloaded-at') ?? 0);
  if (Date.now() - last < 60_000) return;
  event.preventDefault();
  sessionStorage.setItem('wuz:reloaded-at', String(Date.now()));
  window.location.reload();
});

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <AuthProvider>
      <RouterProvider router={router} />
    </AuthProvider>
  </StrictMode>,
);
