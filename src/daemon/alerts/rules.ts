import { histogramQuantile, type SampleHistory } from './figures.ts';
import type { AlertName, AlertSeverity } from './types.ts';

/** A rule's tunables: what `--alert-rules` may change. Durations in ms. */
export interface RuleParams {
  threshold: number;
  windowMs: number;
  forMs: number;
  /** Rate rules only: fewer requests in the window than this is "no data", not 50% errors. */
  minRequests: number;
}

export interface RuleDefinition {
  name: AlertName;
  severity: AlertSeverity;
  summary: string;
  /** The defaults: monitoring/alerts.yml's numbers (a unit test keeps them equal). */
  defaults: RuleParams;
  /** Whether `threshold` and `windowMs`/`minRequests` mean anything for this rule. */
  tunable: { threshold: boolean; window: boolean };
  /** The current value; null is "no data" (the condition is then false, as in Prometheus). */
  measure(history: SampleHistory, params: RuleParams): number | null;
  /** True when the value breaks the rule. */
  breached(value: number, params: RuleParams): boolean;
  format(value: number): string;
  thresholdText(params: RuleParams): string;
}

const MINUTE = 60_000;

const percent = (ratio: number) => `${(ratio * 100).toFixed(ratio < 0.1 ? 2 : 1).replace(/\.?0+$/, '')}%`;
const seconds = (value: number) =>
  `${value < 10 ? value.toFixed(2).replace(/\.?0+$/, '') : value.toFixed(0)} s`;
/** 1 while the service's probe fails, 0 while it answers; null before the first sample. */
function down(history: SampleHistory, service: 'redisUp' | 'databaseUp'): number | null {
  const latest = history.latest();
  return latest ? Number(!latest[service]) : null;
}

const up = (value: number) => (value >= 1 ? 'down' : 'up');

export const RULES: readonly RuleDefinition[] = [
  {
    name: 'HighErrorRate',
    severity: 'critical',
    summary: 'HTTP 5xx error rate above',
    defaults: { threshold: 0.01, windowMs: 5 * MINUTE, forMs: 5 * MINUTE, minRequests: 20 },
    tunable: { threshold: true, window: true },
    measure(history, params) {
      const window = history.window(params.windowMs);
      if (!window || window.requests < params.minRequests) return null;
      return window.errors / window.requests;
    },
    breached: (value, params) => value > params.threshold,
    format: percent,
    thresholdText: (params) => percent(params.threshold),
  },
  {
    name: 'HighLatencyP95',
    severity: 'warning',
    summary: 'HTTP p95 latency above',
    defaults: { threshold: 2, windowMs: 5 * MINUTE, forMs: 5 * MINUTE, minRequests: 20 },
    tunable: { threshold: true, window: true },
    measure(history, params) {
      const window = history.window(params.windowMs);
      if (!window || window.requests < params.minRequests) return null;
      return histogramQuantile(0.95, window.buckets);
    },
    breached: (value, params) => value > params.threshold,
    format: seconds,
    thresholdText: (params) => seconds(params.threshold),
  },
  {
    name: 'RedisDown',
    severity: 'critical',
    summary: 'Redis is unreachable',
    defaults: { threshold: 1, windowMs: 0, forMs: MINUTE, minRequests: 0 },
    tunable: { threshold: false, window: false },
    measure: (history) => down(history, 'redisUp'),
    breached: (value) => value >= 1,
    format: up,
    thresholdText: () => 'down',
  },
  {
    name: 'DatabaseDown',
    severity: 'critical',
    summary: 'The database is unreachable',
    defaults: { threshold: 1, windowMs: 0, forMs: MINUTE, minRequests: 0 },
    tunable: { threshold: false, window: false },
    measure: (history) => down(history, 'databaseUp'),
    breached: (value) => value >= 1,
    format: up,
    thresholdText: () => 'down',
  },
  {
    name: 'HighMemoryUsage',
    severity: 'warning',
    summary: 'wuzctl memory above',
    defaults: { threshold: 0.8, windowMs: 0, forMs: 5 * MINUTE, minRequests: 0 },
    tunable: { threshold: true, window: false },
    measure: (history) => {
      const latest = history.latest();
      if (!latest || latest.memoryLimitBytes <= 0 || latest.rssBytes <= 0) return null;
      return latest.rssBytes / latest.memoryLimitBytes;
    },
    breached: (value, params) => value > params.threshold,
    format: percent,
    thresholdText: (params) => `${percent(params.threshold)} of the memory limit`,
  },
];

export function ruleNamed(name: string): RuleDefinition | undefined {
  return RULES.find((rule) => rule.name.toLowerCase() === name.toLowerCase());
}

/** The headline a notification carries: "HTTP 5xx error rate above 1%". */
export function headline(rule: RuleDefinition, params: RuleParams): string {
  return rule.tunable.threshold ? `${rule.summary} ${rule.thresholdText(params)}` : rule.summary;
}
