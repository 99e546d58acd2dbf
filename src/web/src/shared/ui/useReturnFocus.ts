import { type RefObject, useEffect, useLayoutEffect, useRef } from 'react';

/**
 * Returns focus to what opened a dialog once it closes (used by Dialog). The Dialog is
 * controlled and has no Radix `Trigger`, and Radix's modal content then cancels its own
 * restore and focuses the (absent) trigger: without this, focus falls to <body>.
 *
 * The opener is taken as the element focused when `open` turns true (a layout effect runs
 * before Radix moves focus into the dialog). When it is gone by the close (the row just
 * deleted, the empty state's button replaced by the table) or was never focused (Safari
 * does not focus clicked buttons), `fallback` gets the focus instead.
 */
export function useReturnFocus(open: boolean, fallback?: RefObject<HTMLElement | null>) {
  const opener = useRef<HTMLElement | null>(null);
  const wasOpen = useRef(open);

  useLayoutEffect(() => {
    if (open && !wasOpen.current) {
      const active = document.activeElement;
      opener.current = active instanceof HTMLElement && active !== document.body ? active : null;
    }
  }, [open]);

  useEffect(() => {
    const closed = wasOpen.current && !open;
    wasOpen.current = open;
    if (!closed) return;
    const timer = setTimeout(() => {
      const active = document.activeElement;
      // Something else took focus meanwhile (a link followed, another dialog): leave it.
      if (active && active !== document.body && active.isConnected) return;
      const target = opener.current?.isConnected ? opener.current : fallback?.current;
      target?.focus();
      opener.current = null;
    }, 0);
    return () => clearTimeout(timer);
  }, [open, fallback]);
}
