/** The five alerts of the plan (task 7), named as in monitoring/alerts.yml. */
export const ALERT_NAMES = [
  'HighErrorRate',
  'HighLatencyP95',
  'RedisDown',
  'DatabaseDown',
  'HighMemoryUsage',
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

export type AlertSeverity = 'critical' | 'warning';

/** pending → firing → resolved (back to inactive), as Prometheus' alerting rules. */
export type AlertState = 'inactive' | 'pending' | 'firing';

/**
 * One message to send. `firing` the first time, `reminder` when an alert still fires once
 * its cooldown has passed, `resolved` once it stops, `test` from `wuzctl alerts test`.
 */
export interface AlertNotification {
  kind: 'firing' | 'resolved' | 'reminder' | 'test';
  alert: AlertName;
  severity: AlertSeverity;
  /** Headline without the value: "HTTP 5xx error rate above 1%". */
  summary: string;
  /** One or two sentences with the current value and the threshold. */
  description: string;
  /** The measured value, formatted ("3.2%", "2.41 s", "down"); null when there is none (resolved, test). */
  value: string | null;
  /** The threshold, formatted ("1%", "2 s"). */
  threshold: string;
  /** When the alert started firing (ISO 8601). */
  startsAt: string;
  /** When it resolved (ISO 8601); only on `resolved`. */
  endsAt?: string;
  /** Which daemon: host name and API URL. */
  instance: string;
  /** The runbook section for this alert (http(s) or file URL). */
  runbookUrl: string;
}

/** What a channel reports after its last attempt. */
export interface DeliveryResult {
  ok: boolean;
  /** HTTP status (webhook) or SMTP reply code (email) of the last attempt; undefined: no answer. */
  status?: number;
  attempts: number;
  /** The receiver's answer (body, SMTP response) or the network error, trimmed to 500 characters. */
  answer: string;
}

export type ChannelName = 'webhook' | 'email';

export interface AlertChannel {
  readonly name: ChannelName;
  /** Where it sends, with no secret: "discord webhook at discord.com", "e-mail to ops@x via smtp.x:587". */
  describe(): string;
  /** Sends with retries; resolves (never rejects) with the outcome. `signal` aborts retries (daemon stopping). */
  send(notification: AlertNotification, signal?: AbortSignal): Promise<DeliveryResult>;
}
