import { useOnline } from '../useOnline.ts';

/** Shown while the browser is offline: what is on screen is the last data loaded. */
export function OfflineBanner() {
  const online = useOnline();
  if (online) return null;
  return (
    <div className="banner banner-offline" role="status" data-testid="offline-banner">
      You are offline. You are seeing the last data loaded; changes cannot be saved until you reconnect.
    </div>
  );
}
