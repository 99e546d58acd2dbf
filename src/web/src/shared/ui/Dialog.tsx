import { Dialog as Radix } from 'radix-ui';
import { type ReactNode, useLayoutEffect, useRef } from 'react';

/**
 * A modal dialog (Radix: focus trapped, Escape closes, labelled by its title). Controlled:
 * the caller owns `open`. Radix returns focus to its own Trigger, which a controlled dialog
 * has not got, so the element focused when it opened is remembered and refocused on close.
 */
export function Dialog({
  open,
  onOpenChange,
  title,
  description,
  children,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: string;
  children: ReactNode;
}) {
  const returnTo = useRef<HTMLElement | null>(null);
  // A layout effect runs before Radix's focus scope (a passive effect) moves focus inside.
  useLayoutEffect(() => {
    if (open && document.activeElement instanceof HTMLElement) returnTo.current = document.activeElement;
  }, [open]);
  return (
    <Radix.Root open={open} onOpenChange={onOpenChange}>
      <Radix.Portal>
        <Radix.Overlay className="dialog-overlay" />
        <Radix.Content
          className="dialog"
          onCloseAutoFocus={(event) => {
            if (returnTo.current?.isConnected) {
              event.preventDefault();
              returnTo.current.focus();
            }
          }}
        >
          <Radix.Title className="dialog-title">{title}</Radix.Title>
          {description ? (
            <Radix.Description className="dialog-description">{description}</Radix.Description>
          ) : (
            <Radix.Description className="visually-hidden">{title}</Radix.Description>
          )}
          {children}
          <Radix.Close className="dialog-close" aria-label="Close">
            ×
          </Radix.Close>
        </Radix.Content>
      </Radix.Portal>
    </Radix.Root>
  );
}

/** "Delete X?" with a confirm button that shows progress and the server's refusal. */
export function ConfirmDialog({
  open,
  onOpenChange,
  title,
  description,
  confirmLabel = 'Delete',
  cancelLabel = 'Cancel',
  pending,
  error,
  onConfirm,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description: string;
  confirmLabel?: string;
  /** The dismiss button's label: say "Keep campaign" next to "Cancel campaign". */
  cancelLabel?: string;
  pending?: boolean;
  error?: ReactNode;
  onConfirm: () => void;
}) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title={title} description={description}>
      {error}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={() => onOpenChange(false)}>
          {cancelLabel}
        </button>
        <button type="button" className="btn btn-danger" disabled={pending} onClick={onConfirm}>
          {pending ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
