import { Box, Text, useApp, useInput, useWindowSize } from 'ink';
import { createElement as h, useEffect, useRef, useState } from 'react';
import type { DaemonSnapshot } from '../../daemon/supervisor/snapshot.ts';
import { HELP, type Line, PANELS, type Panel, renderFrame, SORTS, type Sort } from './frame.ts';
import { type TopModel, topModel } from './model.ts';

export interface TopAppProps {
  /** One snapshot per refresh (the control socket's GET /snapshot). */
  snapshot: () => Promise<DaemonSnapshot>;
  intervalMs: number;
}

const HISTORY = 120;

function LineView({ line }: { line: Line }) {
  return h(
    Text,
    { wrap: 'truncate' },
    ...line.map((segment, i) =>
      h(Text, { key: i, color: segment.color, bold: segment.bold, inverse: segment.inverse }, segment.text),
    ),
  );
}

/**
 * The live view: polls a snapshot every interval (not while paused), keeps the previous
 * one to compute the interval's rates and a ring of requests/s for the sparkline, and
 * draws the frame of frame.ts at the window's size.
 */
export function TopApp({ snapshot, intervalMs }: TopAppProps) {
  const { exit } = useApp();
  const { columns, rows } = useWindowSize();
  const [model, setModel] = useState<TopModel | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [paused, setPaused] = useState(false);
  const [focus, setFocus] = useState<Panel>('http');
  const [sort, setSort] = useState<Sort>('name');
  const [filter, setFilter] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const previous = useRef<DaemonSnapshot | null>(null);
  const history = useRef<number[]>([]);

  useEffect(() => {
    if (paused) return;
    let stopped = false;
    const tick = async () => {
      try {
        const next = await snapshot();
        if (stopped) return;
        if (previous.current) {
          const computed = topModel(previous.current, next);
          history.current = [...history.current.slice(-(HISTORY - 1)), computed.totalRps];
          setModel(computed);
        }
        previous.current = next;
        setError(null);
      } catch (caught) {
        if (!stopped) setError((caught as Error).message);
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), intervalMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [paused, intervalMs, snapshot]);

  useInput((input, key) => {
    if (editing !== null) {
      if (key.return) {
        setFilter(editing);
        setEditing(null);
      } else if (key.escape) {
        setFilter('');
        setEditing(null);
      } else if (key.backspace || key.delete) setEditing(editing.slice(0, -1));
      else if (input && !key.ctrl && !key.meta) setEditing(editing + input);
      return;
    }
    if (help) {
      setHelp(false);
      return;
    }
    const move = (step: number) =>
      setFocus(PANELS[(PANELS.indexOf(focus) + step + PANELS.length) % PANELS.length] as Panel);
    if (input === 'q' || key.escape) exit();
    else if (input === 'p') setPaused(!paused);
    else if (key.tab || key.rightArrow || key.downArrow) move(key.shift ? -1 : 1);
    else if (key.leftArrow || key.upArrow) move(-1);
    else if (input === 's') setSort(SORTS[(SORTS.indexOf(sort) + 1) % SORTS.length] as Sort);
    else if (input === '/') setEditing(filter);
    else if (input === '?') setHelp(true);
  });

  const width = Math.max(40, columns || 80);
  const height = Math.max(10, rows || 24);
  if (help) {
    return h(
      Box,
      { flexDirection: 'column' },
      h(Text, { bold: true }, 'wuzctl top — keys'),
      ...HELP.map((line, i) => h(Text, { key: i }, line)),
      h(Text, { dimColor: true }, 'any key closes this help'),
    );
  }
  if (!model) {
    return h(
      Text,
      { color: error ? 'red' : undefined },
      error ? `no snapshot: ${error}` : 'collecting the first interval…',
    );
  }
  const lines = renderFrame(model, {
    width,
    height: height - (editing !== null || error ? 1 : 0),
    focus,
    sort,
    filter,
    paused,
    history: history.current,
  });
  return h(
    Box,
    { flexDirection: 'column' },
    ...lines.map((line, i) => h(LineView, { key: i, line })),
    editing !== null ? h(Text, { color: 'cyan' }, `filter: ${editing}▏`) : null,
    error ? h(Text, { color: 'red' }, `last refresh failed: ${error}`) : null,
  );
}
