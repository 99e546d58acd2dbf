import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import { TopApp } from '../../src/cli/top/app.ts';
import { plainFrame, renderFrame, sparkline } from '../../src/cli/top/frame.ts';
import { topModel } from '../../src/cli/top/model.ts';
import type { DaemonSnapshot } from '../../src/daemon/supervisor/snapshot.ts';
import type { DaemonStatus } from '../../src/daemon/supervisor/supervisor.ts';

/** A snapshot at `seconds`, after `requests` GETs of which `slow` took 3 s and `errors` answered 500. */
function snapshotAt(
  seconds: number,
  requests: number,
  slow: number,
  errors = 0,
  cpu = seconds * 0.5,
): DaemonSnapshot {
  const fast = requests - slow;
  const status = {
    pid: 10,
    rssBytes: 100 * 1024 * 1024,
    version: '9.9.9',
    state: 'ready',
    startedAt: new Date(0).toISOString(),
    uptimeSeconds: seconds,
    url: 'http://127.0.0.1:3000',
    metricsUrl: null,
    dataDir: '/tmp/x',
    redis: { mode: 'embedded', address: 'x', pid: 1, healthy: true, error: null },
    database: { mode: 'embedded', address: 'y', healthy: true, error: null, runs: 1 },
    children: [
      {
        role: 'api',
        index: 1,
        pid: 11,
        generation: 2,
        state: 'ready',
        uptimeSeconds: seconds,
        restarts: 0,
        crashLoop: false,
        lastExit: null,
        rssBytes: 1,
        cpuSeconds: cpu,
        eventLoopDelayMs: 1.5,
        cache: null,
        rateLimit: null,
      },
    ],
    cache: { enabled: true, hits: 0, misses: 0, loads: 0, errors: 0, hitRate: null, routes: {} },
    rateLimit: {
      enabled: true,
      rejected: {},
      byTenant: { 'demo-1': seconds * 3, quiet: 4 },
      rejectedUnauthenticated: 0,
      errors: 0,
    },
    alerts: null,
    rollout: null,
  } as unknown as DaemonStatus;
  return {
    at: new Date(seconds * 1000).toISOString(),
    status,
    http: [
      {
        route: 'GET /api/contacts',
        requests,
        errors5xx: errors,
        errors4xx: 0,
        rateLimited: 0,
        buckets: [
          { le: 0.01, count: fast },
          { le: 2, count: fast },
          { le: 5, count: requests },
          { le: null, count: requests },
        ],
      },
    ],
    cache: [{ route: '/api/session/agents', hits: requests, misses: 10 }],
    redisErrors: 0,
    rateLimited: { free: seconds, pro: 0, enterprise: 0 },
    queues: [
      {
        name: 'campaign',
        depth: { waiting: 3, active: 1, delayed: 0, failed: 0 },
        completed: seconds * 2,
        failed: 0,
      },
    ],
    campaigns: [{ id: 'c1', tenant: 'demo-1', name: 'promo', total: 100, sent: seconds * 5, failed: 0 }],
    supervisorCpuSeconds: seconds * 0.1,
  };
}

describe('wuzctl top: the interval model', () => {
  it('takes rates and percentiles over the interval from cumulative counters, never since start', () => {
    // 1000 fast requests before; in the 2 s interval, 100 more of which 10 slow and 5 errors.
    const model = topModel(snapshotAt(10, 1000, 0), snapshotAt(12, 1100, 10, 5, 6));
    const route = model.http[0];
    expect(route).toMatchObject({ route: 'GET /api/contacts', requests: 100, rps: 50, errorPercent: 5 });
    // 90 of 100 under 10 ms, 10 between 2 and 5 s: the p95 is halfway through (2, 5] s.
    expect(route?.p95).toBe(3500);
    expect(route?.p50).toBeLessThan(10);
    expect(model.processes[1]).toMatchObject({ name: 'api#1', cpuPercent: 50, generation: 2 });
    expect(model.queues[0]).toMatchObject({ name: 'campaign', waiting: 3, jobsPerSecond: 2 });
    expect(model.campaigns[0]).toMatchObject({ sent: 60, messagesPerSecond: 5 });
    expect(model.rateLimited.free).toBe(2);
    // Per tenant: only those refused in the interval, most first.
    expect(model.limitedTenants).toEqual([{ tenant: 'demo-1', rejected: 6 }]);
  });

  it('draws every panel within 80×24, the focused one with the room, and says when alerts have no data', () => {
    const model = topModel(snapshotAt(10, 1000, 0), snapshotAt(12, 1100, 10, 5));
    const lines = renderFrame(model, {
      width: 80,
      height: 24,
      focus: 'http',
      sort: 'load',
      filter: '',
      paused: true,
      history: [1, 5, 9],
    });
    expect(lines.length).toBeLessThanOrEqual(24);
    const text = plainFrame(lines);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    for (const panel of ['Processes', 'HTTP', 'Cache', 'Rate limits', 'Queues', 'Alerts'])
      expect(text).toContain(panel);
    expect(text).toContain('[paused]');
    expect(text).toMatch(/GET \/api\/contacts\s+50\s+5\s+/);
    expect(text).toContain('no data: the alert loop is off');
    expect(sparkline([0, 1, 2, 4, 8], 5)).toBe('▁▁▂▄█');
  });
});

describe('wuzctl top: the Ink view', () => {
  const tick = () => new Promise((resolve) => setTimeout(resolve, 30));

  it('refreshes, pauses, filters, shows help and quits on q', async () => {
    let calls = 0;
    const snapshot = async () => snapshotAt(10 + calls * 2, 1000 + 100 * calls++, 0);
    const app = render(createElement(TopApp, { snapshot, intervalMs: 50 }));
    for (let i = 0; i < 20 && !app.lastFrame()?.includes('HTTP'); i++) await tick();
    expect(app.lastFrame()).toContain('GET /api/contacts');
    app.stdin.write('p');
    await tick();
    expect(app.lastFrame()).toContain('[paused]');
    const frozen = calls;
    await tick();
    await tick();
    expect(calls).toBe(frozen);
    app.stdin.write('/');
    await tick();
    app.stdin.write('nothing-matches');
    await tick();
    app.stdin.write('\r');
    await tick();
    expect(app.lastFrame()).toContain('filter: nothing-matches');
    expect(app.lastFrame()).toContain('no requests in this interval');
    app.stdin.write('?');
    await tick();
    expect(app.lastFrame()).toContain('wuzctl top — keys');
    app.stdin.write('x');
    await tick();
    app.stdin.write('q');
    await tick();
    app.unmount();
  });
});
