import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  IDLE_COLLECTOR_DEFAULTS,
  type IdleCollector,
  shouldCollect,
  startIdleCollector,
} from '../../src/daemon/memory/idleCollector.ts';

const MB = 1024 * 1024;
const settings = { ...IDLE_COLLECTOR_DEFAULTS, growthBytes: 16 * MB };
const silent = pino({ level: 'silent' });

describe('shouldCollect', () => {
  it('collects only a process idle for long enough that grew since the last collection', () => {
    expect(settings.idleLooks).toBe(2);
    expect(shouldCollect(2, 200 * MB, 100 * MB, settings)).toBe(true);
    expect(shouldCollect(5, 200 * MB, 100 * MB, settings)).toBe(true);
    expect(shouldCollect(2, 110 * MB, 100 * MB, settings)).toBe(false); // grew too little
    expect(shouldCollect(1, 200 * MB, 100 * MB, settings)).toBe(false); // idle for one look only
    expect(shouldCollect(0, 200 * MB, 100 * MB, settings)).toBe(false); // busy
    expect(shouldCollect(2, 90 * MB, 100 * MB, settings)).toBe(false); // smaller than it was left
    expect(shouldCollect(2, 50 * MB, 0, settings)).toBe(true); // no baseline yet: start-up's garbage
  });
});

/** Keeps the event loop busy for `ms`, a few milliseconds at a time, allocating as it goes. */
async function busyFor(ms: number, allocate: () => void): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const slice = performance.now() + 20;
    while (performance.now() < slice) allocate();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('startIdleCollector', () => {
  let collector: IdleCollector | undefined;
  afterEach(() => collector?.stop());

  it('gives memory back once idle, never while busy, and not again without growth', async () => {
    collector = startIdleCollector({ log: silent, intervalMs: 100, growthBytes: 16 * MB });
    // No baseline yet: the first idle stretch collects (start-up's garbage).
    await until(() => collector?.collections === 1);

    // A burst: ~100 MB of objects that live long enough to reach the old generation.
    let kept: object[] = [];
    let made = 0;
    await busyFor(1500, () => {
      kept.push({ text: `row ${made++} ${'x'.repeat(64)}`, list: [made, made + 1] });
      if (kept.length > 400_000) kept = [];
    });
    // Busy the whole time: no collection during the burst.
    expect(collector.collections).toBe(1);
    kept = [];

    // Idle again: one collection, and RSS went down.
    await until(() => collector?.collections === 2);
    const last = collector.last;
    expect(last).toBeDefined();
    expect(last?.rssAfter).toBeLessThan(last?.rssBefore ?? 0);

    // Still idle, nothing grew: no collection for nothing.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(collector.collections).toBe(2);
  });

  it('stops looking when stopped', async () => {
    collector = startIdleCollector({ log: silent, intervalMs: 50 });
    collector.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(collector.collections).toBe(0);
  });
});
