import { bold, dim, red } from '../../cli/output.ts';
import type { AttributeValue, ReceivedSpan, ReceivedTrace } from './spans.ts';

/** The attributes worth a place on a span's line: what it did and how it went. */
const KEY_ATTRIBUTES = [
  'http.request.method',
  'http.route',
  'http.response.status_code',
  'url.full',
  'db.system.name',
  'db.operation.name',
  'messaging.system',
  'messaging.destination.name',
  'messaging.operation.type',
];

const ms = (value: number) => `${value.toFixed(1)} ms`;

function show(value: AttributeValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function serviceOf(span: ReceivedSpan): string {
  const service = String(span.resource['service.name'] ?? 'unknown');
  const role = span.resource['wuz.role'];
  return role ? `${service}/${role}` : service;
}

function spanLine(span: ReceivedSpan, orphan: boolean): string {
  const attributes = Object.entries(span.attributes)
    .filter(([key]) => KEY_ATTRIBUTES.includes(key) || key.startsWith('wuz.'))
    .map(([key, value]) => `${key}=${show(value)}`);
  const status =
    span.status.code === 'error'
      ? ` ${red(`ERROR${span.status.message ? `: ${span.status.message}` : ''}`)}`
      : '';
  return [
    bold(span.name || '(unnamed)'),
    dim(`[${serviceOf(span)}]`),
    span.kind,
    ms(span.durationMs),
    ...(orphan ? [dim('(parent not received)')] : []),
  ]
    .join(' ')
    .concat(status, attributes.length ? ` ${dim(attributes.join(' '))}` : '');
}

/**
 * One trace as an indented tree: children under their parent in start order; a span whose
 * parent never arrived (not sampled, not exported yet, or outside this process) is shown
 * at the top, marked. Links are listed under the span that has them.
 */
export function renderTrace(trace: ReceivedTrace): string {
  const ids = new Set(trace.spans.map((span) => span.spanId));
  const children = new Map<string | null, ReceivedSpan[]>();
  for (const span of trace.spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  for (const list of children.values()) list.sort((a, b) => a.startMs - b.startMs);
  const roots = children.get(null) ?? [];
  const start = Math.min(...trace.spans.map((span) => span.startMs));
  const end = Math.max(...trace.spans.map((span) => span.startMs + span.durationMs));
  const services = [...new Set(trace.spans.map(serviceOf))].join(', ');
  const lines = [
    `${bold(`trace ${trace.traceId}`)} ${roots[0]?.name ?? ''} ${ms(end - start)}, ${trace.spans.length} span${trace.spans.length === 1 ? '' : 's'} ${dim(`(${services})`)}`,
  ];
  const walk = (span: ReceivedSpan, prefix: string, last: boolean) => {
    const orphan = span.parentSpanId !== null && !ids.has(span.parentSpanId);
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${spanLine(span, orphan)}`);
    const inner = `${prefix}${last ? '   ' : '│  '}`;
    for (const link of span.links) lines.push(`${inner}${dim(`↳ link ${link.traceId}/${link.spanId}`)}`);
    const mine = children.get(span.spanId) ?? [];
    for (const [i, child] of mine.entries()) walk(child, inner, i === mine.length - 1);
  };
  for (const [i, root] of roots.entries()) walk(root, '', i === roots.length - 1);
  return lines.join('\n');
}
