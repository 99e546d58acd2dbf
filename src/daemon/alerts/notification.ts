import type { RuleDefinition, RuleParams } from './rules.ts';
import { headline } from './rules.ts';
import type { AlertName, AlertNotification } from './types.ts';

const minutes = (ms: number) =>
  ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 100) / 10} s`;

/** A sentence on what was measured, for the description. */
function measured(rule: RuleDefinition, params: RuleParams, value: string): string {
  const threshold = rule.thresholdText(params);
  switch (rule.name as AlertName) {
    case 'HighErrorRate':
      return `${value} of the API's requests answered 5xx over the last ${minutes(params.windowMs)} (threshold ${threshold}).`;
    case 'HighLatencyP95':
      return `The API's 95th percentile response time is ${value} over the last ${minutes(params.windowMs)} (threshold ${threshold}).`;
    case 'RedisDown':
      return `The daemon has not reached Redis for ${minutes(params.forMs)} or more: the cache and rate limits fail open, queues are stopped.`;
    case 'DatabaseDown':
      return `The daemon has not reached PostgreSQL for ${minutes(params.forMs)} or more: requests that need the database fail.`;
    case 'HighMemoryUsage':
      return `The daemon's processes use ${value} of the memory limit (threshold ${threshold}).`;
  }
}

export interface NotificationInput {
  kind: AlertNotification['kind'];
  rule: RuleDefinition;
  params: RuleParams;
  value: number | null;
  startsAt: number;
  endsAt?: number;
  instance: string;
  runbookUrl: string;
}

export function buildNotification(input: NotificationInput): AlertNotification {
  const { kind, rule, params, value } = input;
  const valueText = value === null ? null : rule.format(value);
  const description =
    kind === 'test'
      ? `A test of this alert's delivery, sent by \`wuzctl alerts test\`: nothing is wrong. When it fires: ${measured(rule, params, rule.thresholdText(params))}`
      : kind === 'resolved'
        ? `Resolved: ${headline(rule, params)} no longer holds${valueText ? ` (now ${valueText})` : ''}.`
        : measured(rule, params, valueText ?? 'unknown');
  return {
    kind,
    alert: rule.name,
    severity: rule.severity,
    summary: headline(rule, params),
    description,
    value: kind === 'test' ? null : valueText,
    threshold: rule.thresholdText(params),
    startsAt: new Date(input.startsAt).toISOString(),
    ...(input.endsAt !== undefined ? { endsAt: new Date(input.endsAt).toISOString() } : {}),
    instance: input.instance,
    runbookUrl: `${input.runbookUrl.replace(/#.*$/, '')}#${rule.name.toLowerCase()}`,
  };
}
