import { Dialog as Radix } from 'radix-ui';
import type { ReactNode, RefObject } from 'react';
import { useReturnFocus } from './useReturnFocus.ts';

/**
 * A modal dialog (Radix: focus trapped, Escape closes, labelled by its title). Controlled:
 * the caller owns `open` and keeps it mounted. Focus goes back to what opened it, or to
 * `fallbackFocus` when that is gone (the row just deleted).
 */
export function Dialog({
  open,
  onOpenChange,
  title,
  description,
  fallbackFocus,
  children,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: string;
  fallbackFocus?: RefObject<HTMLElement | null>;
  children: ReactNode;
}) {
  useReturnFocus(open, fallbackFocus);
  return (
    <Radix.Root open={open} onOpenChange={onOpenChange}>
      <Radix.Portal>
        <Radix.Overlay className="dialog-overlay" />
        <Radix.Content className="dialog">
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
  fallbackFocus,
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
  fallbackFocus?: RefObject<HTMLElement | null>;
  onConfirm: () => void;
}) {
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={title}
      description={description}
      fallbackFocus={fallbackFocus}
    >
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
