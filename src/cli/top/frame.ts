import { formatBytes, formatDuration } from '../output.ts';
import type { TopModel } from './model.ts';

export type Color = 'green' | 'red' | 'yellow' | 'cyan' | 'gray';
export interface Segment {
  text: string;
  color?: Color;
  bold?: boolean;
  inverse?: boolean;
}
export type Line = Segment[];

export const PANELS = ['processes', 'http', 'cache', 'limits', 'queues', 'alerts'] as const;
export type Panel = (typeof PANELS)[number];
export const SORTS = ['name', 'load', 'latency'] as const;
export type Sort = (typeof SORTS)[number];

export interface FrameOptions {
  width: number;
  height: number;
  focus: Panel;
  sort: Sort;
  filter: string;
  paused: boolean;
  /** Requests/s of the last refreshes, oldest first: the sparkline. */
  history: number[];
}

const BARS = '▁▂▃▄▅▆▇█';
export function sparkline(values: number[], width: number): string {
  const shown = values.slice(-width);
  const max = Math.max(...shown, 1);
  return shown.map((v) => BARS[Math.min(7, Math.floor((v / max) * 7.999))]).join('');
}

const pad = (text: string, width: number) =>
  text.length >= width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
const num = (value: number | null, digits = 1) => (value === null ? '-' : value.toFixed(digits));
const bar = (fraction: number, width: number) => {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
};

function title(name: Panel, label: string, focus: Panel): Line {
  return [
    { text: ` ${label} `, bold: true, inverse: name === focus, color: name === focus ? 'cyan' : undefined },
  ];
}

/** Rows of one panel, filtered and sorted; the title first. */
function panelLines(model: TopModel, panel: Panel, o: FrameOptions): Line[] {
  const match = (name: string) => !o.filter || name.toLowerCase().includes(o.filter.toLowerCase());
  switch (panel) {
    case 'processes': {
      const rows = model.processes
        .filter((p) => match(p.name))
        .sort((a, b) =>
          o.sort === 'load'
            ? (b.cpuPercent ?? 0) - (a.cpuPercent ?? 0)
            : o.sort === 'latency'
              ? (b.eventLoopDelayMs ?? 0) - (a.eventLoopDelayMs ?? 0)
              : 0,
        );
      return [
        title('processes', 'Processes', o.focus),
        [
          {
            text: `${pad('ROLE', 12)}${pad('PID', 8)}${pad('GEN', 4)}${pad('STATE', 10)}${pad('CPU%', 7)}${pad('RSS', 10)}${pad('LOOP ms', 9)}${pad('UP', 8)}RST`,
            color: 'gray',
          },
        ],
        ...rows.map(
          (p): Line => [
            { text: `${pad(p.name, 12)}${pad(String(p.pid ?? '-'), 8)}${pad(String(p.generation), 4)}` },
            {
              text: pad(p.state, 10),
              color:
                p.state === 'ready'
                  ? 'green'
                  : p.state === 'draining' || p.state === 'starting'
                    ? 'yellow'
                    : 'red',
            },
            {
              text: `${pad(num(p.cpuPercent), 7)}${pad(formatBytes(p.rssBytes), 10)}${pad(num(p.eventLoopDelayMs), 9)}${pad(formatDuration(p.uptimeSeconds), 8)}${p.restarts}`,
            },
          ],
        ),
      ];
    }
    case 'http': {
      const rows = model.http
        .filter((r) => match(r.route))
        .sort((a, b) =>
          o.sort === 'load'
            ? b.rps - a.rps
            : o.sort === 'latency'
              ? (b.p95 ?? 0) - (a.p95 ?? 0)
              : a.route.localeCompare(b.route),
        );
      const routeWidth = Math.max(20, o.width - 46);
      return [
        [
          ...title('http', 'HTTP', o.focus),
          { text: ` ${model.totalRps} req/s  ` },
          { text: sparkline(o.history, Math.max(10, o.width - 30)), color: 'cyan' },
        ],
        [
          {
            text: `${pad('ROUTE', routeWidth)}${pad('REQ/S', 9)}${pad('ERR%', 7)}${pad('P50', 10)}${pad('P95', 10)}P99`,
            color: 'gray',
          },
        ],
        ...(rows.length === 0
          ? [[{ text: 'no requests in this interval', color: 'gray' as Color }]]
          : rows.map(
              (r): Line => [
                { text: `${pad(r.route, routeWidth)}${pad(String(r.rps), 9)}` },
                { text: pad(`${r.errorPercent}`, 7), color: r.errorPercent > 1 ? 'red' : undefined },
                { text: `${pad(`${num(r.p50)} ms`, 10)}${pad(`${num(r.p95)} ms`, 10)}${num(r.p99)} ms` },
              ],
            )),
      ];
    }
    case 'cache': {
      const rows = model.cache.filter((c) => match(c.route) && c.reads > 0);
      return [
        [
          ...title('cache', 'Cache', o.focus),
          { text: `  Redis errors ${model.redisErrors}`, color: model.redisErrors ? 'red' : 'gray' },
        ],
        ...(rows.length === 0
          ? [[{ text: 'no cached reads in this interval', color: 'gray' as Color }]]
          : rows.map(
              (c): Line => [
                { text: `${pad(c.route, Math.max(20, o.width - 30))}${pad(`${c.reads} reads`, 12)}` },
                {
                  text: c.hitRate === null ? '-' : `${(c.hitRate * 100).toFixed(1)}% hits`,
                  color: (c.hitRate ?? 1) < 0.7 ? 'yellow' : 'green',
                },
              ],
            )),
      ];
    }
    case 'limits':
      return [
        title('limits', 'Rate limits', o.focus),
        [
          {
            text: Object.entries(model.rateLimited)
              .map(([plan, n]) => `${plan} ${n}×429`)
              .join('   '),
            color: Object.values(model.rateLimited).some(Boolean) ? 'yellow' : undefined,
          },
        ],
        ...(model.limitedTenants.length === 0
          ? [[{ text: 'no tenant limited in this interval', color: 'gray' as Color }]]
          : model.limitedTenants
              .filter((t) => match(t.tenant))
              .map(
                (t): Line => [
                  { text: `${pad(t.tenant, 24)}` },
                  { text: `${t.rejected}×429`, color: 'yellow' },
                ],
              )),
      ];
    case 'queues': {
      const lines: Line[] = [
        title('queues', 'Queues', o.focus),
        [
          {
            text: `${pad('QUEUE', 12)}${pad('WAITING', 9)}${pad('ACTIVE', 8)}${pad('DELAYED', 9)}${pad('FAILED', 8)}JOBS/S`,
            color: 'gray',
          },
        ],
        ...model.queues
          .filter((q) => match(q.name))
          .map(
            (q): Line => [
              {
                text: `${pad(q.name, 12)}${pad(String(q.waiting), 9)}${pad(String(q.active), 8)}${pad(String(q.delayed), 9)}${pad(String(q.failed), 8)}${q.jobsPerSecond}`,
              },
            ],
          ),
      ];
      for (const c of model.campaigns) {
        lines.push([
          { text: `${pad(`${c.tenant}/${c.name}`, 24)} ` },
          { text: bar(c.total ? c.sent / c.total : 0, 20), color: 'green' },
          {
            text: ` ${c.sent}/${c.total} · ${c.messagesPerSecond} msg/s${c.failed ? ` · ${c.failed} failed` : ''}`,
          },
        ]);
      }
      return lines;
    }
    case 'alerts': {
      if (!model.alerts)
        return [
          title('alerts', 'Alerts', o.focus),
          [{ text: 'no data: the alert loop is off (--alerts off)', color: 'gray' }],
        ];
      const active = model.alerts.filter((a) => a.state !== 'inactive' && match(a.name));
      return [
        [
          ...title('alerts', 'Alerts', o.focus),
          { text: active.length ? '' : '  none firing or pending', color: 'green' },
        ],
        ...active.map(
          (a): Line => [
            { text: pad(a.state, 9), color: a.state === 'firing' ? 'red' : 'yellow' },
            { text: `${pad(a.name, 18)}${a.value ?? ''}  since ${a.since ?? '-'}` },
          ],
        ),
      ];
    }
  }
}

/**
 * One frame as lines of styled text: the header, then every panel; the focused panel gets
 * the room the others do not need (each other panel shows its title and a few rows).
 * The same frame is drawn by Ink on a terminal and printed plain by `--once`.
 */
export function renderFrame(model: TopModel, o: FrameOptions): Line[] {
  const h = model.header;
  const header: Line[] = [
    [
      { text: 'wuzctl top ', bold: true },
      { text: `${h.version} · ` },
      { text: h.state, color: h.state === 'ready' ? 'green' : 'yellow' },
      { text: ` · up ${formatDuration(h.uptimeSeconds)} · ${h.url} · every ${model.intervalSeconds}s` },
      ...(o.paused ? [{ text: ' [paused]', color: 'yellow' as Color, bold: true }] : []),
      ...(h.rollout ? [{ text: ` · ${h.rollout}`, color: 'yellow' as Color }] : []),
    ],
    [
      { text: 'redis ' },
      { text: h.redis, color: h.redis === 'healthy' ? 'green' : 'red' },
      { text: ' · database ' },
      { text: h.database, color: h.database === 'healthy' ? 'green' : 'red' },
      ...(o.filter ? [{ text: ` · filter: ${o.filter}`, color: 'cyan' as Color }] : []),
    ],
  ];
  const footer: Line = [
    { text: 'q quit · p pause · tab/←→ panel · s sort · / filter · ? help', color: 'gray' },
  ];
  const panels = PANELS.map((panel) => ({ panel, lines: panelLines(model, panel, o) }));
  const budget = Math.max(0, o.height - header.length - 1);
  // Each panel its title and a couple of rows; then the focused one all it has; what is
  // left goes to the others in order (with room to spare, everything shows).
  const take = new Map(panels.map(({ panel, lines }) => [panel, Math.min(lines.length, 3)]));
  let room = budget - [...take.values()].reduce((a, b) => a + b, 0);
  const grow = (panel: Panel, lines: Line[]) => {
    const extra = Math.max(0, Math.min(lines.length - (take.get(panel) ?? 0), room));
    take.set(panel, (take.get(panel) ?? 0) + extra);
    room -= extra;
  };
  const focused = panels.find((p) => p.panel === o.focus);
  if (focused) grow(focused.panel, focused.lines);
  for (const { panel, lines } of panels) grow(panel, lines);
  const shown = panels.flatMap(({ panel, lines }) => lines.slice(0, take.get(panel)));
  return [...header, ...shown.slice(0, budget), footer].map((line) => clip(line, o.width));
}

/** Cuts a line to the terminal's width (resizes never wrap). */
function clip(line: Line, width: number): Line {
  const out: Line = [];
  let left = width;
  for (const segment of line) {
    if (left <= 0) break;
    out.push({ ...segment, text: segment.text.slice(0, left) });
    left -= segment.text.length;
  }
  return out;
}

/** A frame as plain text (pipes, `--once`): no colour, no escape codes. */
export function plainFrame(lines: Line[]): string {
  return lines
    .map((line) =>
      line
        .map((segment) => segment.text)
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

export const HELP = [
  'q / Esc   quit',
  'p         pause / resume the refresh',
  'tab, ←/→  move between panels (the focused one gets the room)',
  's         sort: name → load (req/s, CPU) → latency (p95, event loop)',
  '/         filter rows by name (Enter applies, Esc clears)',
  '?         this help',
];
