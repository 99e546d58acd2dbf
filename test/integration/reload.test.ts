import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ScratchRelease } from '../../src/cli/verify/scratch/release.ts';
import { SteadyLoad } from '../../src/cli/verify/steadyLoad.ts';
import { cleanupDaemons, type Daemon, startDaemon, statusJson, waitFor, wuzctl } from '../helpers/daemon.ts';
import { parseExposition, total } from '../helpers/metrics.ts';

afterAll(cleanupDaemons);

/** Keep-alive and one-request-per-connection clients on /healthz for as long as it runs; every failure kept. */
const steadyLoad = (url: string) =>
  new SteadyLoad(url, '', {
    keepAlive: 4,
    oneShot: 2,
    tag: 'reload test',
    mix: [{ method: 'GET', path: '/healthz', expect: 200 }],
  });

async function counter(daemon: Daemon, name: string, where: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  return total(parseExposition(text), name, where);
}

describe('wuzctl reload', () => {
  it('replaces every worker, one at a time, under load, with no failed request — also with one API worker', async () => {
    const daemon = await startDaemon({ apiWorkers: 1, queueWorkers: 1 });
    const before = await statusJson(daemon.dataDir);
    const load = steadyLoad(daemon.url);
    await sleep(300);
    const counts: number[] = [];
    const scraper = (async () => {
      for (let i = 0; i < 40; i++) {
        counts.push(await counter(daemon, 'http_requests_total').catch(() => Number.NaN));
        await sleep(100);
      }
    })();
    for (const generation of [2, 3]) {
      const reload = await wuzctl(['reload', '--data-dir', daemon.dataDir]);
      expect(reload.stderr).toBe('');
      expect(reload.exitCode).toBe(0);
      expect(reload.stdout).toMatch(new RegExp(`✓ api#1 → generation ${generation}: pid \\d+ → \\d+`));
      expect(reload.stdout).toMatch(new RegExp(`✓ queue#1 → generation ${generation}`));
      expect(reload.stdout).toMatch(new RegExp(`reloaded to generation ${generation} in`));
    }
    await scraper;
    await load.stop();
    expect(load.failures).toEqual({});
    expect(load.sent).toBeGreaterThan(100);
    const after = await statusJson(daemon.dataDir);
    expect(after.children.map((c) => [c.role, c.generation, c.state])).toEqual([
      ['api', 3, 'ready'],
      ['queue', 3, 'ready'],
    ]);
    expect(after.children.map((c) => c.pid)).not.toEqual(
      expect.arrayContaining(before.children.map((c) => c.pid)),
    );
    expect(after.rollout).toMatchObject({
      id: 2,
      state: 'done',
      generation: 3,
      steps: [{ slot: 'api#1' }, { slot: 'queue#1' }],
    });
    // The cluster's counters never go down while workers come and go.
    const seen = counts.filter(Number.isFinite);
    expect(seen.length).toBeGreaterThan(20);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(await counter(daemon, 'rollouts_total', { outcome: 'done' })).toBe(2);
    // SIGHUP is the same rollout.
    process.kill(daemon.pid, 'SIGHUP');
    await waitFor(
      async () =>
        (await statusJson(daemon.dataDir)).rollout?.state === 'done' &&
        (await statusJson(daemon.dataDir)).rollout?.id === 3,
      60_000,
      'the SIGHUP rollout',
    );
    expect((await statusJson(daemon.dataDir)).rollout?.trigger).toBe('SIGHUP');
    await daemon.stop();
  });

  it('aborts when the new build cannot start: the old workers keep serving, and reload says why', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wz-release-'));
    try {
      const release = await ScratchRelease.create(dir);
      const daemon = await startDaemon({ apiWorkers: 2, queueWorkers: 1, entry: release.cli });
      const before = await statusJson(daemon.dataDir);
      await release.breakApiWorker();
      const load = steadyLoad(daemon.url);
      const reload = await wuzctl(['reload', '--data-dir', daemon.dataDir]);
      await load.stop();
      expect(reload.exitCode).toBe(1);
      expect(reload.stderr).toMatch(/rollout 1 aborted: api#1 generation 2: .*this build is broken/);
      expect(load.failures).toEqual({});
      const status = await statusJson(daemon.dataDir);
      expect(status.children.map((c) => [c.pid, c.generation, c.state])).toEqual(
        before.children.map((c) => [c.pid, 1, 'ready']),
      );
      expect(status.rollout).toMatchObject({ state: 'aborted', steps: [] });
      expect((await wuzctl(['status', '--data-dir', daemon.dataDir])).stdout).toMatch(
        /rollout .*aborted.*this build is broken/,
      );

      // A failing migration changes nothing either.
      const bad = await release.addMigration('9000_gate_broken.sql', 'SELECT * FROM no_such_table;');
      await release.restore();
      const refused = await wuzctl(['reload', '--json', '--data-dir', daemon.dataDir]);
      expect(refused.exitCode).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({
        state: 'aborted',
        reason: expect.stringMatching(/migration 9000_gate_broken.sql failed/),
      });
      await release.removeMigration(bad);
      // Fixed: the next reload goes through, and picks up a migration of the new code.
      await release.addMigration('9001_gate_reload.sql', 'CREATE TABLE gate_reload_marker (id int);');
      const fixed = await wuzctl(['reload', '--data-dir', daemon.dataDir]);
      expect(fixed.exitCode).toBe(0);
      expect(fixed.stdout).toMatch(/migrations applied: 9001_gate_reload/);
      expect((await statusJson(daemon.dataDir)).children.every((c) => c.generation === 2)).toBe(true);
      await daemon.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a second rollout while one runs, and a stop cancels the one in progress cleanly', async () => {
    const daemon = await startDaemon({ apiWorkers: 2, queueWorkers: 1 });
    const first = wuzctl(['reload', '--data-dir', daemon.dataDir]);
    await waitFor(
      async () => (await statusJson(daemon.dataDir)).rollout?.state === 'running',
      10_000,
      'the rollout',
    );
    const second = await wuzctl(['reload', '--data-dir', daemon.dataDir]);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/rollout 1 is in progress/);
    const stopped = await wuzctl(['stop', '--data-dir', daemon.dataDir]);
    expect(stopped.exitCode).toBe(0);
    const result = await first;
    expect(result.exitCode).not.toBe(0);
    expect(await daemon.stop()).toBe(0);
  });

  it('on stop with --drain-delay, fails /readyz first and keeps serving until the delay is over', async () => {
    const daemon = await startDaemon({ apiWorkers: 1, queueWorkers: 0, args: ['--drain-delay', '1.5'] });
    expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
    const stopping = daemon.stop();
    await waitFor(
      async () => (await fetch(`${daemon.url}/readyz`).catch(() => null))?.status === 503,
      5000,
      '/readyz to fail',
    );
    const ready = (await (await fetch(`${daemon.url}/readyz`)).json()) as { checks: { stopping: boolean } };
    expect(ready.checks.stopping).toBe(true);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    expect(await stopping).toBe(0);
  });
});
