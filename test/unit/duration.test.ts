import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/duration.ts';

describe('parseDuration', () => {
  it.each([
    ['0s', 0],
    ['0', 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['1.5h', 5_400_000],
    [' 10M ', 600_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 's', '30', '-5m', '5 m', '5min', '1y', 'abc', '1e3s', `${'9'.repeat(30)}d`])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );
});
