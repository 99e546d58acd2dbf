const BADGES: Record<string, string> = {
  active: 'badge-ok',
  trialing: '',
  past_due: 'badge-warn',
  canceled: 'badge-bad',
};

export const STATUS_LABELS: Record<string, string> = {
  active: 'Active',
  trialing: 'Trialing',
  past_due: 'Past due',
  canceled: 'Canceled',
};

/** A subscription status as a coloured badge, in words (the colour is never the only cue). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${BADGES[status] ?? ''}`.trim()}>{STATUS_LABELS[status] ?? status}</span>;
}
