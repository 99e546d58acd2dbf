import { useRegisterSW } from 'virtual:pwa-register/react';

/** A new version was deployed: the waiting service worker takes over when the user agrees. */
export function UpdatePrompt() {
  const {
    needRefresh: [needRefresh, setNeedRefresh],
    updateServiceWorker,
  } = useRegisterSW();
  if (!needRefresh) return null;
  return (
    <div className="banner banner-update" role="status">
      A new version of WUZAPI Manager is available.
      <button type="button" className="btn btn-primary" onClick={() => void updateServiceWorker(true)}>
        Reload
      </button>
      <button type="button" className="btn" onClick={() => setNeedRefresh(false)}>
        Later
      </button>
    </div>
  );
}
