import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../bench/perfProfile.ts', import.meta.url));

/** perf must be installed and allowed to sample the machine (root, or perf_event_paranoid ≤ 0). */
const perfUsable = await execa('perf', ['stat', '-e', 'cpu-clock', '-a', '--', 'true'], {
  reject: false,
}).then(
  (run) => run.exitCode === 0,
  () => false,
);

interface Part {
  name: string;
  percent: number;
  usPerRequest: number;
}
interface Report {
  scenario: string;
  requests: number;
  processes: Array<{ role: string; usPerRequest: number; categories: Part[]; symbols: Part[] }>;
}

describe('npm run bench:perf', () => {
  it.skipIf(!perfUsable)(
    "samples every process under a scenario and splits each one's CPU by part",
    async () => {
      const logsBefore = (await readdir(process.cwd())).filter((file) => /^isolate-.*-v8\.log$/.test(file));
      const mapsBefore = new Set((await readdir('/tmp')).filter((file) => /^perf-\d+\.map$/.test(file)));
      const run = await execa(
        process.execPath,
        [script, 'cached-read', '--duration', '2s', '--connections', '4', '--top', '40', '--json'],
        { reject: false, timeout: 170_000 },
      );
      expect(run.exitCode, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as Report;
      expect(report.scenario).toBe('cached-read');
      expect(report.requests).toBeGreaterThan(0);
      expect(report.processes.map((p) => p.role)).toEqual(
        expect.arrayContaining([
          'api#1',
          'api#2',
          'supervisor',
          'load generator (wuzctl bench)',
          'redis-server',
        ]),
      );
      const api = report.processes.find((p) => p.role === 'api#1');
      expect(api?.usPerRequest).toBeGreaterThan(0);
      const parts = api?.categories.map((c) => c.name) ?? [];
      expect(parts).toContain('kernel (syscalls, TCP, scheduler)');
      // JIT code has names (--perf-basic-prof), so JavaScript is told apart by package.
      expect(parts).toEqual(expect.arrayContaining(['JS: ioredis', "JS: Node's own"]));
      // With every part listed, the parts are the whole.
      const whole = api?.categories.reduce((sum, c) => sum + c.percent, 0) ?? 0;
      expect(whole).toBeCloseTo(100, 0);
      // Nothing left behind: no JIT maps of its processes, no V8 logs where it ran.
      expect((await readdir(process.cwd())).filter((file) => /^isolate-.*-v8\.log$/.test(file))).toEqual(
        logsBefore,
      );
      expect(
        (await readdir('/tmp')).filter((file) => /^perf-\d+\.map$/.test(file) && !mapsBefore.has(file)),
      ).toEqual([]);
    },
    180_000,
  );
});
