import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

/** The bench scripts refuse a bad argument before they start anything: the error, a hint, exit 2. */
const script = (name: string) => fileURLToPath(new URL(`../../bench/${name}`, import.meta.url));

describe('bench scripts: bad arguments', () => {
  it.each([
    [
      'profile.ts',
      ['--duration', 'abc'],
      /error: --duration "abc" is not a duration\nhint: e\.g\. --duration 10s/,
    ],
    [
      'profile.ts',
      ['--process', 'redis'],
      /error: --process is api or supervisor, not redis\nhint: npm run bench:profile -- --process supervisor/,
    ],
    ['profile.ts', ['--top', 'many'], /error: --top "many" is not a whole number ≥ 1\nhint: e\.g\. --top 20/],
    ['perfProfile.ts', ['nope'], /error: no scenario "nope"\nhint: one of .*cached-read/],
    ['perfProfile.ts', ['--connections', '0'], /error: --connections "0" is not a whole number ≥ 1/],
    ['perfProfile.ts', ['--duration', '-1s'], /error: --duration "-1s" is not a duration/],
    ['newConnections.ts', ['nope'], /error: no scenario "nope"\nhint: one of .*uncached-read/],
    ['memory.ts', ['--idle', '0'], /error: --idle "0" is not a duration\nhint: e\.g\. --idle 40s/],
    ['memory.ts', ['--load', '10 minutes'], /error: --load "10 minutes" is not a duration/],
  ])('%s %j', async (name, args, message) => {
    const run = await execa(process.execPath, [script(name), ...args], { reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });
});
