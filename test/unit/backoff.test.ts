import { describe, expect, it } from 'vitest';
import { isCrashLoop, restartDelay, restartPolicy } from '../../src/daemon/supervisor/backoff.ts';

describe('restartDelay', () => {
  it('doubles from 500 ms', () => {
    expect([1, 2, 3, 4, 5].map((n) => restartDelay(n))).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('is capped at 15 s', () => {
    expect(restartDelay(6)).toBe(15_000);
    expect(restartDelay(7)).toBe(15_000);
    expect(restartDelay(100)).toBe(15_000);
  });

  it('treats 0 and below as the first restart', () => {
    expect(restartDelay(0)).toBe(500);
    expect(restartDelay(-3)).toBe(500);
  });

  it('never decreases as crashes accumulate', () => {
    const delays = Array.from({ length: 20 }, (_, i) => restartDelay(i + 1));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number);
  });

  it('follows a custom policy', () => {
    const policy = { ...restartPolicy, initialDelayMs: 100, factor: 3, maxDelayMs: 1000 };
    expect([1, 2, 3, 4].map((n) => restartDelay(n, policy))).toEqual([100, 300, 900, 1000]);
  });
});

describe('isCrashLoop', () => {
  const now = 1_000_000;

  it('is false with no crashes or fewer than 5', () => {
    expect(isCrashLoop([], now)).toBe(false);
    expect(isCrashLoop([now - 4000, now - 3000, now - 2000, now - 1000], now)).toBe(false);
  });

  it('is true with 5 crashes within 60 s', () => {
    expect(isCrashLoop([now - 50_000, now - 40_000, now - 30_000, now - 10_000, now], now)).toBe(true);
    expect(isCrashLoop([now, now, now, now, now, now], now)).toBe(true);
  });

  it('counts a crash exactly 60 s old, not an older one', () => {
    const four = [now - 3000, now - 2000, now - 1000, now];
    expect(isCrashLoop([now - 60_000, ...four], now)).toBe(true);
    expect(isCrashLoop([now - 60_001, ...four], now)).toBe(false);
  });

  it('ignores crashes outside the window however many there were', () => {
    const old = Array.from({ length: 50 }, (_, i) => now - 61_000 - i * 1000);
    expect(isCrashLoop([...old, now - 1000, now], now)).toBe(false);
  });
});
