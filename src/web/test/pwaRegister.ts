import { vi } from 'vitest';

// Stands in for vite-plugin-pwa's build-time virtual module in component tests: no
// service worker; a test sets `pwaState.needRefresh` to play "a new version is waiting".
export const pwaState = { needRefresh: false, updateServiceWorker: vi.fn(async (_reload?: boolean) => {}) };

function setNeedRefresh(value: boolean): void {
  pwaState.needRefresh = value;
}

export function useRegisterSW() {
  return {
    needRefresh: [pwaState.needRefresh, setNeedRefresh] as [boolean, (value: boolean) => void],
    offlineReady: [false, () => {}] as [boolean, (value: boolean) => void],
    updateServiceWorker: pwaState.updateServiceWorker,
  };
}
