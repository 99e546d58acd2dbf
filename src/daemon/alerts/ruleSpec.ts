import { parseDuration } from '../../cli/duration.ts';
import { RULES, type RuleParams } from './rules.ts';
import { ALERT_NAMES, type AlertName } from './types.ts';

const FIELDS = {
  threshold: 'threshold',
  window: 'windowMs',
  for: 'forMs',
  minRequests: 'minRequests',
} as const;
type Field = keyof typeof FIELDS;

/**
 * `--alert-rules`: changes to the rules' defaults as "Rule.field=value,…", `*` for every
 * rule: `HighErrorRate.threshold=0.05,*.for=30s,*.window=1m`. Fields: threshold (a ratio
 * or seconds), window and for (durations), minRequests. Returns every rule's parameters,
 * or the problems found (all of them, for one error message).
 */
export function parseAlertRules(spec: string): { rules: Record<AlertName, RuleParams>; problems: string[] } {
  const rules = Object.fromEntries(RULES.map((rule) => [rule.name, { ...rule.defaults }])) as Record<
    AlertName,
    RuleParams
  >;
  const problems: string[] = [];
  for (const entry of spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z0-9*]+)\.([A-Za-z]+)=(.+)$/.exec(entry);
    if (!match) {
      problems.push(`${JSON.stringify(entry)} is not Rule.field=value (e.g. HighErrorRate.for=30s)`);
      continue;
    }
    const [, ruleName, fieldName, raw] = match as unknown as [string, string, string, string];
    const targets =
      ruleName === '*' ? RULES : RULES.filter((rule) => rule.name.toLowerCase() === ruleName.toLowerCase());
    if (targets.length === 0) {
      problems.push(`unknown rule ${JSON.stringify(ruleName)} (rules: ${ALERT_NAMES.join(', ')}, or *)`);
      continue;
    }
    if (!(fieldName in FIELDS)) {
      problems.push(`unknown field ${JSON.stringify(fieldName)} (fields: ${Object.keys(FIELDS).join(', ')})`);
      continue;
    }
    const field = fieldName as Field;
    const value = field === 'window' || field === 'for' ? parseDuration(raw) : Number(raw);
    const valid =
      value !== null &&
      Number.isFinite(value) &&
      value >= 0 &&
      (field !== 'minRequests' || Number.isInteger(value)) &&
      (field !== 'window' || value > 0);
    if (!valid) {
      const expected =
        field === 'window' || field === 'for'
          ? 'a duration such as 30s or 5m'
          : field === 'minRequests'
            ? 'a whole number'
            : 'a number';
      problems.push(`${entry}: ${field} must be ${expected}`);
      continue;
    }
    for (const rule of targets) {
      // `*` sets what each rule has; a rule named on its own must have the field.
      const applies =
        field === 'for' || (field === 'threshold' ? rule.tunable.threshold : rule.tunable.window);
      if (!applies) {
        if (ruleName !== '*') problems.push(`${entry}: ${rule.name} has no ${field}`);
        continue;
      }
      rules[rule.name][FIELDS[field]] = value as number;
    }
  }
  return { rules, problems };
}
