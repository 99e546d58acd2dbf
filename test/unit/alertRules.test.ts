import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDuration } from '../../src/cli/duration.ts';
import {
  decide,
  EMPTY_RECORD,
  INITIAL_STATE,
  mergeStates,
  nextState,
  type RuleState,
} from '../../src/daemon/alerts/engine.ts';
import {
  histogramQuantile,
  httpAndMemory,
  type Sample,
  SampleHistory,
} from '../../src/daemon/alerts/figures.ts';
import { parseAlertRules } from '../../src/daemon/alerts/ruleSpec.ts';
import { RULES } from '../../src/daemon/alerts/rules.ts';
import { createProcessMetrics, type MetricsSnapshot } from '../../src/daemon/telemetry/metrics.ts';

interface PromRule {
  alert: string;
  expr: string;
  for: string;
}

describe('the alert rules', () => {
  it("default to monitoring/alerts.yml's thresholds, windows and durations", async () => {
    const file = parse(await readFile(new URL('../../monitoring/alerts.yml', import.meta.url), 'utf8'));
    const promRules = (file.groups as { rules: PromRule[] }[]).flatMap((group) => group.rules);
    expect(promRules.map((rule) => rule.alert).sort()).toEqual(RULES.map((rule) => rule.name).sort());
    for (const rule of RULES) {
      const prom = promRules.find((r) => r.alert === rule.name) as PromRule;
      const expr = prom.expr.replace(/\s+/g, ' ').trim();
      expect(parseDuration(prom.for), `${rule.name} for`).toBe(rule.defaults.forMs);
      // The expression's trailing `> n` / `== 0` is the threshold.
      const comparison = /(>|==)\s*([\d.]+)$/.exec(expr) as RegExpExecArray;
      if (comparison[1] === '==') expect(rule.tunable.threshold, rule.name).toBe(false);
      else expect(Number(comparison[2]), `${rule.name} threshold`).toBe(rule.defaults.threshold);
      const windows = [...expr.matchAll(/\[(\w+)\]/g)].map((match) => parseDuration(match[1] as string));
      if (rule.tunable.window)
        expect(new Set(windows), `${rule.name} window`).toEqual(new Set([rule.defaults.windowMs]));
      else expect(windows).toEqual([]);
    }
  });

  it('take changes as Rule.field=value, * for every rule, and list every mistake', () => {
    const { rules, problems } = parseAlertRules(
      'HighErrorRate.threshold=0.05,*.for=30s,*.window=1m,highlatencyp95.minRequests=3',
    );
    expect(problems).toEqual([]);
    expect(rules.HighErrorRate).toEqual({
      threshold: 0.05,
      windowMs: 60_000,
      forMs: 30_000,
      minRequests: 20,
    });
    expect(rules.HighLatencyP95).toMatchObject({ threshold: 2, minRequests: 3 });
    expect(rules.RedisDown).toMatchObject({ forMs: 30_000, windowMs: 0 });
    const bad = parseAlertRules('Nope.for=1m,HighErrorRate.for=soon,RedisDown.threshold=2,x');
    expect(bad.problems).toHaveLength(4);
    expect(bad.problems.join('\n')).toMatch(/unknown rule "Nope"/);
    expect(bad.problems.join('\n')).toMatch(/for must be a duration/);
    expect(bad.problems.join('\n')).toMatch(/RedisDown has no threshold/);
  });
});

function snapshotOf(observations: [status: string, seconds: number][]): Promise<MetricsSnapshot> {
  const metrics = createProcessMetrics();
  for (const [status, seconds] of observations) {
    const labels = { method: 'GET', route: '/api/contacts', status };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, seconds);
  }
  return metrics.registry.getMetricsAsJSON() as Promise<MetricsSnapshot>;
}

const sample = (at: number, fields: Partial<Sample>): Sample => ({
  at,
  requests: 0,
  errors: 0,
  buckets: [],
  rssBytes: 0,
  memoryLimitBytes: 0,
  redisUp: true,
  databaseUp: true,
  ...fields,
});

describe('the figures', () => {
  it('count requests, 5xx and the latency buckets off a metrics snapshot', async () => {
    const figures = httpAndMemory(
      await snapshotOf([
        ['200', 0.02],
        ['503', 3],
        ['500', 0.3],
        ['404', 0.004],
      ]),
    );
    expect(figures.requests).toBe(4);
    expect(figures.errors).toBe(2);
    expect(figures.buckets.at(-1)).toEqual({ le: Number.POSITIVE_INFINITY, count: 4 });
    expect(figures.buckets.find((bucket) => bucket.le === 2)?.count).toBe(3);
  });

  it("interpolate the p95 within its bucket as Prometheus' histogram_quantile does", () => {
    // 100 requests: 90 under 0.1 s, 10 between 2 and 5 s → the 95th is halfway through (2, 5].
    const buckets = [
      { le: 0.1, count: 90 },
      { le: 2, count: 90 },
      { le: 5, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ];
    expect(histogramQuantile(0.95, buckets)).toBeCloseTo(3.5, 10);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1 * (50 / 90), 10);
    expect(histogramQuantile(0.95, [{ le: Number.POSITIVE_INFINITY, count: 0 }])).toBeNull();
  });

  it('take a window as the increase since the oldest sample inside it', () => {
    const history = new SampleHistory(60_000);
    history.push(sample(0, { requests: 100, errors: 1 }));
    history.push(sample(30_000, { requests: 150, errors: 11 }));
    history.push(sample(60_000, { requests: 200, errors: 11 }));
    expect(history.window(30_000)).toMatchObject({ requests: 50, errors: 0 });
    expect(history.window(60_000)).toMatchObject({ requests: 100, errors: 10 });
    history.push(sample(120_000, { requests: 260, errors: 11 }));
    expect(history.spanMs()).toBe(60_000); // the oldest beyond the horizon is dropped
  });
});

describe('the state machine', () => {
  const FOR = 60_000;
  const step = (states: [boolean, number][]) =>
    states.reduce<RuleState>(
      (state, [breached, at]) => nextState(state, breached, breached ? 1 : 0, FOR, at),
      INITIAL_STATE,
    );

  it('goes pending, then firing once the condition held for `for`, and back on a single false', () => {
    expect(step([[true, 0]]).state).toBe('pending');
    expect(
      step([
        [true, 0],
        [true, 59_999],
      ]).state,
    ).toBe('pending');
    const firing = step([
      [true, 0],
      [true, 30_000],
      [true, 60_000],
    ]);
    expect(firing).toMatchObject({ state: 'firing', since: 60_000, activeSince: 0 });
    expect(
      step([
        [true, 0],
        [false, 30_000],
        [true, 40_000],
        [true, 90_000],
      ]).state,
    ).toBe('pending');
    expect(
      step([
        [true, 0],
        [true, 60_000],
        [false, 70_000],
      ]),
    ).toMatchObject({ state: 'inactive', since: 70_000 });
  });

  it('merges daemons: the worst state wins, with the earliest since', () => {
    const merged = mergeStates([
      { state: 'pending', since: 5, activeSince: 5, value: 0.5 },
      { state: 'firing', since: 20, activeSince: 1, value: 0.2 },
      { state: 'firing', since: 10, activeSince: 2, value: 0.3 },
    ]);
    expect(merged).toMatchObject({ state: 'firing', since: 10, value: 0.3 });
  });
});

describe('the notification decision', () => {
  const COOLDOWN = 300_000;
  const firing: RuleState = { state: 'firing', since: 0, activeSince: 0, value: 1 };
  const inactive: RuleState = { state: 'inactive', since: 0, activeSince: null, value: 0 };

  it('notifies firing once, a reminder after the cooldown, resolved once', () => {
    let record = EMPTY_RECORD;
    const kinds: (string | null)[] = [];
    for (const [state, at] of [
      [firing, 0],
      [firing, 60_000],
      [firing, 299_999],
      [firing, 300_000],
      [firing, 400_000],
      [inactive, 410_000],
      [inactive, 420_000],
    ] as [RuleState, number][]) {
      const decision = decide(record, state, at, COOLDOWN, false);
      kinds.push(decision.kind);
      record = decision.record;
    }
    expect(kinds).toEqual(['firing', null, null, 'reminder', null, 'resolved', null]);
  });

  it('holds a new episode within the cooldown of the last firing (a flapping alert)', () => {
    let record = decide(EMPTY_RECORD, firing, 0, COOLDOWN, false).record;
    record = decide(record, inactive, 10_000, COOLDOWN, false).record;
    expect(decide(record, firing, 20_000, COOLDOWN, false).kind).toBeNull();
    expect(decide(record, firing, 300_000, COOLDOWN, false).kind).toBe('firing');
  });

  it('holds firing while silenced, but never a resolved that is owed', () => {
    expect(decide(EMPTY_RECORD, firing, 0, COOLDOWN, true).kind).toBeNull();
    const notified = decide(EMPTY_RECORD, firing, 0, COOLDOWN, false).record;
    expect(decide(notified, inactive, 1000, COOLDOWN, true).kind).toBe('resolved');
    // Silenced from the start: nothing was said, so nothing is resolved.
    expect(decide(EMPTY_RECORD, inactive, 1000, COOLDOWN, true).kind).toBeNull();
  });

  it('does not resolve a notified alert on a restart: pending or unknown holds', () => {
    const notified = decide(EMPTY_RECORD, firing, 0, COOLDOWN, false).record;
    expect(
      decide(notified, { state: 'pending', since: 1, activeSince: 1, value: 1 }, 1000, COOLDOWN, false).kind,
    ).toBeNull();
    expect(decide(notified, { ...INITIAL_STATE, unknown: true }, 1000, COOLDOWN, false).kind).toBeNull();
    // Firing again after the restart continues the episode: a reminder, not a new firing.
    expect(decide(notified, firing, 400_000, COOLDOWN, false).kind).toBe('reminder');
  });
});
