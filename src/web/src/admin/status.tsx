import type { SubscriptionStatus } from '../shared/api.ts';

/** One for every status the API answers: a new one does not compile until it has its look. */
const BADGES: Record<SubscriptionStatus, string> = {
  active: 'badge-ok',
  trialing: '',
  past_due: 'badge-warn',
  canceled: 'badge-bad',
};

export const STATUS_LABELS: Record<SubscriptionStatus, string> = {
  active: 'Active',
  trialing: 'Trialing',
  past_due: 'Past due',
  canceled: 'Canceled',
};

/** A subscription status as a coloured badge, in words (the colour is never the only cue). */
export function StatusBadge({ status }: { status: SubscriptionStatus }) {
  return <span className={`badge ${BADGES[status] ?? ''}`.trim()}>{STATUS_LABELS[status] ?? status}</span>;
}
