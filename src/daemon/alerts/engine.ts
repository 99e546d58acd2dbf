import type { AlertNotification, AlertState } from './types.ts';

/** One rule's state as one daemon sees it. */
export interface RuleState {
  state: AlertState;
  /** Since when the state holds: pending since the condition began, firing since it fired, inactive since it cleared. */
  since: number | null;
  /** When the condition became true (the start of `for`); null while it is false. */
  activeSince: number | null;
  value: number | null;
  /** Not enough data yet to say the condition is false (a window not yet covered after a start). */
  unknown?: boolean;
}

export const INITIAL_STATE: RuleState = { state: 'inactive', since: null, activeSince: null, value: null };

/** pending → firing once the condition has held for `forMs`; any false evaluation resets it (as Prometheus). */
export function nextState(
  previous: RuleState,
  breached: boolean,
  value: number | null,
  forMs: number,
  now: number,
): RuleState {
  if (!breached) {
    return {
      state: 'inactive',
      since: previous.state === 'inactive' ? previous.since : now,
      activeSince: null,
      value,
    };
  }
  const activeSince = previous.activeSince ?? now;
  const state: AlertState = now - activeSince >= forMs ? 'firing' : 'pending';
  return {
    state,
    since: state === previous.state ? previous.since : state === 'pending' ? activeSince : now,
    activeSince,
    value,
  };
}

const RANK: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };

/**
 * The cluster's view of a rule from every daemon's: the worst state wins (one node's 5xx
 * is an incident), with the earliest `since` among the nodes in that state and the worst value.
 */
export function mergeStates(states: RuleState[]): RuleState {
  if (states.length === 0) return INITIAL_STATE;
  const worst = Math.max(...states.map((state) => RANK[state.state]));
  const inWorst = states.filter((state) => RANK[state.state] === worst);
  const since = inWorst.map((state) => state.since).filter((at): at is number => at !== null);
  const values = inWorst.map((state) => state.value).filter((value): value is number => value !== null);
  const active = inWorst.map((state) => state.activeSince).filter((at): at is number => at !== null);
  return {
    // Unknown anywhere, firing nowhere: a notified alert is not resolved on missing data.
    unknown: worst < RANK.firing && states.some((state) => state.unknown),
    state: (inWorst[0] as RuleState).state,
    since: since.length ? Math.min(...since) : null,
    activeSince: active.length ? Math.min(...active) : null,
    value: values.length ? Math.max(...values) : null,
  };
}

/**
 * What has been sent for an alert: shared by the daemons on one Redis and kept across
 * restarts, so a restart or a second node neither repeats a notification nor forgets
 * to send the resolved one.
 */
export interface AlertRecord {
  /** A firing notification of the current episode was sent (a resolved one is then owed). */
  notified: boolean;
  /** When the notified episode started firing. */
  firingSince: number | null;
  /** The last firing or reminder: the cooldown runs from here. */
  lastFiringAt: number | null;
  lastNotifiedAt: number | null;
  lastKind: AlertNotification['kind'] | null;
}

export const EMPTY_RECORD: AlertRecord = {
  notified: false,
  firingSince: null,
  lastFiringAt: null,
  lastNotifiedAt: null,
  lastKind: null,
};

export interface Decision {
  kind: 'firing' | 'reminder' | 'resolved' | null;
  record: AlertRecord;
}

/**
 * Whether to notify now. Firing once per episode; while it keeps firing, a reminder once
 * the cooldown has passed; a new episode within the cooldown of the last firing
 * notification waits for it (a flapping alert sends one message per cooldown); resolved
 * only when its firing was sent. A silence holds firing and reminders, never a resolved.
 */
export function decide(
  record: AlertRecord,
  cluster: RuleState,
  now: number,
  cooldownMs: number,
  silenced: boolean,
): Decision {
  const cooledDown = record.lastFiringAt === null || now - record.lastFiringAt >= cooldownMs;
  if (cluster.state === 'firing') {
    if (silenced || !cooledDown) return { kind: null, record };
    const kind = record.notified ? 'reminder' : 'firing';
    return {
      kind,
      record: {
        notified: true,
        firingSince: record.notified ? record.firingSince : cluster.since,
        lastFiringAt: now,
        lastNotifiedAt: now,
        lastKind: kind,
      },
    };
  }
  // A start or a node still warming up: the alert holds until the condition is known false.
  if (record.notified && (cluster.state === 'pending' || cluster.unknown)) return { kind: null, record };
  if (record.notified) {
    return {
      kind: 'resolved',
      record: { ...record, notified: false, lastNotifiedAt: now, lastKind: 'resolved' },
    };
  }
  return { kind: null, record };
}

/** When the next firing or reminder may go (null: nothing is held back by the cooldown). */
export function nextAllowedAt(record: AlertRecord, cooldownMs: number): number | null {
  return record.lastFiringAt === null ? null : record.lastFiringAt + cooldownMs;
}
