import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OfflineBanner } from '../src/shared/ui/OfflineBanner.tsx';
import { UpdatePrompt } from '../src/shared/ui/UpdatePrompt.tsx';
import { pwaState } from './pwaRegister.ts';

afterEach(() => {
  pwaState.needRefresh = false;
  pwaState.updateServiceWorker.mockClear();
  vi.restoreAllMocks();
});

describe('the update prompt', () => {
  it('stays hidden until a new version waits, then reloads into it on request', async () => {
    const { rerender } = render(<UpdatePrompt />);
    expect(screen.queryByText(/new version/)).toBeNull();
    pwaState.needRefresh = true;
    rerender(<UpdatePrompt />);
    expect(screen.getByRole('status')).toHaveTextContent('A new version of WUZAPI Manager is available.');
    await userEvent.click(screen.getByRole('button', { name: 'Reload' }));
    expect(pwaState.updateServiceWorker).toHaveBeenCalledWith(true);
  });
});

describe('the offline banner', () => {
  it('follows the browser going offline and back online', () => {
    const online = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(true);
    render(<OfflineBanner />);
    expect(screen.queryByTestId('offline-banner')).toBeNull();
    online.mockReturnValue(false);
    act(() => {
      window.dispatchEvent(new Event('offline'));
    });
    expect(screen.getByTestId('offline-banner')).toHaveTextContent('You are offline');
    online.mockReturnValue(true);
    act(() => {
      window.dispatchEvent(new Event('online'));
    });
    expect(screen.queryByTestId('offline-banner')).toBeNull();
  });
});
