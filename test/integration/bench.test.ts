import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/cli/commands/bench.ts';
import { wuzctl } from '../helpers/daemon.ts';

describe('wuzctl bench', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wz-bench-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('measures each scenario against the /healthz floor of the same run, saves it, and compares', async () => {
    const out = path.join(dir, 'before.json');
    const run = await wuzctl(
      [
        'bench',
        'redis-floor',
        'pg-floor',
        'cached-read',
        'uncached-read',
        'write',
        '--duration',
        '2s',
        '--warmup',
        '0s',
        '--connections',
        '4',
        '--json',
        '--out',
        out,
      ],
      { timeoutMs: 120_000 },
    );
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout) as BenchReport;
    expect(report.results.map((r) => r.scenario)).toEqual([
      'health',
      'redis-floor',
      'pg-floor',
      'cached-read',
      'uncached-read',
      'write',
    ]);
    for (const result of report.results) {
      expect(result.requestsPerSecond).toBeGreaterThan(0);
      expect(result.errors).toBe(0);
      expect(result.non2xx).toEqual({});
      expect(result.latencyMs.p50).toBeLessThanOrEqual(result.latencyMs.p99);
    }
    expect(report.results[0]?.ratioToFloor).toBe(1);
    // The redis floor ran on a server of its own, and every result is set against it too.
    expect(report.options.rateLimit).toBe('on');
    expect(report.results[1]?.ratioToRedisFloor).toBe(1);
    for (const result of report.results) expect(result.ratioToRedisFloor).toBeGreaterThan(0);
    // So is the pg floor (Express and one pg query of the uncached read's page, on the daemon's database).
    expect(report.results[2]?.ratioToPgFloor).toBe(1);
    for (const result of report.results) expect(result.ratioToPgFloor).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(report);
    // Where the CPU went: the cached read's in the API workers and the daemon's redis-server,
    // the floor's in its own Express workers, and always some in the load generator.
    const cpuOf = (scenario: string) =>
      new Set(report.results.find((r) => r.scenario === scenario)?.cpu?.map((s) => s.process));
    for (const process of ['api workers', 'redis-server', 'load generator (wuzctl bench)'])
      expect(cpuOf('cached-read').has(process)).toBe(true);
    expect(cpuOf('redis-floor').has('floor (express + ioredis)')).toBe(true);
    expect(cpuOf('pg-floor').has('floor (express + pg)')).toBe(true);
    expect(cpuOf('pg-floor').has('supervisor')).toBe(true); // the daemon's embedded PGlite answers it
    expect(cpuOf('uncached-read').has('supervisor')).toBe(true); // the embedded PGlite

    // A saved result claiming the cached read did ten times better: this run has regressed.
    const better = structuredClone(report);
    for (const result of better.results)
      if (result.scenario === 'cached-read') result.ratioToFloor = (result.ratioToFloor ?? 1) * 10;
    const saved = path.join(dir, 'better.json');
    await writeFile(saved, JSON.stringify(better));
    const compared = await wuzctl(
      [
        'bench',
        'redis-floor',
        'cached-read',
        '--duration',
        '2s',
        '--warmup',
        '0s',
        '--connections',
        '4',
        '--compare',
        saved,
      ],
      {
        timeoutMs: 120_000,
      },
    );
    expect(compared.exitCode).toBe(1);
    expect(compared.stdout).toMatch(/cached-read\s+ratio to floor/);
    // A floor is the machine's speed, not ours: by req/s, as health.
    expect(compared.stdout).toMatch(/redis-floor\s+req\/s/);
    expect(compared.stdout).toMatch(/health\s+req\/s/);
    expect(compared.stderr).toMatch(/cached-read regressed more than 10%/);
  });

  it('refuses an unknown scenario, a bad duration and a file that is not a saved result', async () => {
    const unknown = await wuzctl(['bench', 'nope']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(
      /unknown scenario "nope"[\s\S]*scenarios: health, redis-floor, pg-floor, cached-read/,
    );
    const limiter = await wuzctl(['bench', '--rate-limit', 'maybe']);
    expect(limiter.exitCode).toBe(2);
    expect(limiter.stderr).toMatch(/--rate-limit must be on or off, got "maybe"/);
    expect((await wuzctl(['bench', '--duration', 'soon'])).exitCode).toBe(2);
    const junk = path.join(dir, 'junk.json');
    await writeFile(junk, '{"hello":1}');
    const bad = await wuzctl(['bench', '--compare', junk]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/is not a result of wuzctl bench --out/);
  });
});
