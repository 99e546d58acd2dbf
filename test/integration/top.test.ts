import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topModel } from '../../src/cli/top/model.ts';
import type { DaemonSnapshot } from '../../src/daemon/supervisor/snapshot.ts';
import {
  cleanupDaemons,
  type Daemon,
  type SeededTenant,
  seedDemo,
  startDaemon,
  statusJson,
  tempDataDir,
  wuzctl,
} from '../helpers/daemon.ts';

afterAll(cleanupDaemons);

describe('wuzctl top against a daemon', () => {
  let daemon: Daemon;
  let tenant: SeededTenant;
  beforeAll(async () => {
    daemon = await startDaemon({ apiWorkers: 2, queueWorkers: 1, args: ['--rate-limit', 'off'] });
    [tenant] = (await seedDemo(daemon.dataDir, 1)) as [SeededTenant];
  });

  const snapshot = async () => {
    const result = await wuzctl(['top', '--json', '--data-dir', daemon.dataDir]);
    expect(result.exitCode).toBe(0);
    return JSON.parse(result.stdout) as DaemonSnapshot;
  };
  const get = (path: string) =>
    fetch(`${daemon.url}${path}`, { headers: { authorization: `Bearer ${tenant.user_tokens[0]}` } }).then(
      (res) => res.arrayBuffer(),
    );

  it("shows per interval exactly what the daemon's own counters say happened in it", async () => {
    const before = await snapshot();
    for (let i = 0; i < 37; i++) await get('/api/session/agents');
    for (let i = 0; i < 13; i++) await get('/api/contacts');
    const after = await snapshot();
    const model = topModel(before, after);
    const route = (name: string) => model.http.find((r) => r.route === name);
    expect(route('GET /api/session/agents')?.requests).toBe(37);
    expect(route('GET /api/contacts')?.requests).toBe(13);
    expect(route('GET /api/contacts')?.p95).toBeGreaterThan(0);
    // The cache panel's reads are the cached route's requests, hits and misses as the daemon counted.
    expect(model.cache.find((c) => c.route === '/api/session/agents')?.reads).toBe(37);
    // The snapshot's status is `status --json`'s: the same processes.
    const status = await statusJson(daemon.dataDir);
    expect(after.status.children.map((c) => c.pid)).toEqual(status.children.map((c) => c.pid));
    expect(model.processes.map((p) => p.name)).toEqual(['supervisor', 'api#1', 'api#2', 'queue#1']);
    expect(model.processes.every((p) => p.cpuPercent !== null && p.cpuPercent >= 0)).toBe(true);
  });

  it('prints one plain frame when not on a terminal (--once, or a pipe), and exits 3 with no daemon', async () => {
    let loading = true;
    const load = (async () => {
      while (loading) await get('/api/session/agents');
    })();
    const once = await wuzctl(['top', '--once', '--interval', '1s', '--data-dir', daemon.dataDir]);
    loading = false;
    await load;
    expect(once.exitCode).toBe(0);
    expect(once.stdout).not.toContain(String.fromCharCode(27)); // no escape codes
    for (const panel of ['wuzctl top', 'Processes', 'HTTP', 'Cache', 'Rate limits', 'Queues', 'Alerts'])
      expect(once.stdout).toContain(panel);
    expect(once.stdout).toMatch(/GET \/api\/session\/agents\s+\d/);
    // Every process has its row when there is room (a plain frame has all the room).
    for (const name of ['supervisor', 'api#1', 'api#2', 'queue#1']) expect(once.stdout).toContain(name);
    const piped = await wuzctl(['top', '--interval', '300ms', '--data-dir', daemon.dataDir]);
    expect(piped.exitCode).toBe(0);
    expect(piped.stdout).toContain('Processes');
    const none = await wuzctl(['top', '--data-dir', await tempDataDir()]);
    expect(none.exitCode).toBe(3);
    expect(none.stderr).toMatch(/not running/);
    const bad = await wuzctl(['top', '--interval', 'often', '--data-dir', daemon.dataDir]);
    expect(bad.exitCode).toBe(2);
  });
});
