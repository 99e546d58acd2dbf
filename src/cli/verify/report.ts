import { bold, dim, green, red, table, yellow } from '../output.ts';
import type { GateResult } from './gate.ts';

/** A gate's outcome as the runner reports it: ran (pass/fail) or could not run. */
export interface Outcome extends GateResult {
  /** Set when the gate could not run; then pass is false and figure null. */
  error?: string;
  hint?: string;
  seconds: number;
}

const verdictOf = (o: Outcome) => (o.error ? yellow('ERROR') : o.pass ? green('pass') : red('FAIL'));

const formatFigure = (value: number | null) =>
  value === null ? '-' : Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));

export function renderTable(outcomes: Outcome[]): string {
  const rows = [
    ['GATE', 'RESULT', 'FIGURE', 'THRESHOLD', 'UNIT', 'TIME'].map(dim),
    ...outcomes.map((o) => [
      bold(o.gate),
      verdictOf(o),
      formatFigure(o.figure),
      formatFigure(o.threshold),
      o.unit,
      `${o.seconds.toFixed(1)} s`,
    ]),
  ];
  const notes: string[] = [];
  for (const o of outcomes) {
    const summary = typeof o.details.summary === 'string' ? o.details.summary : null;
    if (summary) notes.push(`  ${dim(`${o.gate}:`)} ${summary}`);
    if (o.error)
      notes.push(
        `  ${yellow(`${o.gate}: could not run:`)} ${o.error}${o.hint ? `\n    ${dim('hint:')} ${o.hint}` : ''}`,
      );
    const failures = Array.isArray(o.details.failures) ? (o.details.failures as string[]) : [];
    for (const failure of failures) notes.push(`  ${red(`${o.gate}:`)} ${failure}`);
  }
  return [table(rows), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

const xml = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/**
 * JUnit XML for CI dashboards: one testcase per gate, a failure or an error element when
 * it did not pass, the figures in system-out. Small enough to write by hand; a library
 * would add a dependency tree for five elements.
 */
export function renderJunit(outcomes: Outcome[]): string {
  const failures = outcomes.filter((o) => !o.pass && !o.error).length;
  const errors = outcomes.filter((o) => o.error).length;
  const total = outcomes.reduce((sum, o) => sum + o.seconds, 0);
  const cases = outcomes.map((o) => {
    const name = `${o.gate}: ${o.unit} ${formatFigure(o.figure)} vs ${formatFigure(o.threshold)}`;
    const body = o.error
      ? `<error message="${xml(o.error)}">${xml(o.hint ?? '')}</error>`
      : o.pass
        ? ''
        : `<failure message="${xml(((o.details.failures as string[]) ?? []).join('; ') || 'failed')}"/>`;
    return `    <testcase classname="wuzctl.verify" name="${xml(name)}" time="${o.seconds.toFixed(3)}">${body}<system-out>${xml(JSON.stringify(o, null, 2))}</system-out></testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="wuzctl verify" tests="${outcomes.length}" failures="${failures}" errors="${errors}" time="${total.toFixed(3)}">`,
    `  <testsuite name="wuzctl verify" tests="${outcomes.length}" failures="${failures}" errors="${errors}" time="${total.toFixed(3)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
