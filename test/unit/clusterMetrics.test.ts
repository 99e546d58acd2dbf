import type http from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClusterMetrics } from '../../src/daemon/telemetry/clusterMetrics.ts';
import { createProcessMetrics, type MetricsSnapshot } from '../../src/daemon/telemetry/metrics.ts';
import { isLoopback, metricsAccess } from '../../src/daemon/telemetry/metricsAccess.ts';
import { parseExposition, total } from '../helpers/metrics.ts';

/** A worker's snapshot after `requests` GETs and a gauge reading `rss`. */
async function workerSnapshot(requests: number, rss: number): Promise<MetricsSnapshot> {
  const metrics = createProcessMetrics();
  for (let i = 0; i < requests; i++) {
    const labels = { method: 'GET', route: '/api/session/agents', status: '200' };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, 0.02);
  }
  new Gauge({ name: 'worker_rss_bytes', help: 'test gauge', registers: [metrics.registry] }).set(rss);
  return (await metrics.registry.getMetricsAsJSON()) as MetricsSnapshot;
}

describe('ClusterMetrics', () => {
  it('sums the live workers and the supervisor into one exposition', async () => {
    const cluster = new ClusterMetrics(new Registry());
    const text = (await cluster.render([await workerSnapshot(3, 100), await workerSnapshot(5, 200)])).body;
    const samples = parseExposition(text);
    expect(total(samples, 'http_requests_total')).toBe(8);
    expect(total(samples, 'http_request_duration_seconds_count')).toBe(8);
    expect(total(samples, 'http_request_duration_seconds_bucket', { le: '0.025' })).toBe(8);
    expect(total(samples, 'worker_rss_bytes')).toBe(300);
  });

  it("keeps a stopped worker's counters, so totals never go down, and drops its gauges", async () => {
    const cluster = new ClusterMetrics(new Registry());
    const stays = await workerSnapshot(2, 100);
    const leaves = await workerSnapshot(7, 500);
    const before = parseExposition((await cluster.render([stays, leaves])).body);
    await cluster.retire(leaves);
    const after = parseExposition((await cluster.render([stays])).body);
    expect(total(after, 'http_requests_total')).toBe(total(before, 'http_requests_total'));
    expect(total(after, 'http_request_duration_seconds_count')).toBe(9);
    expect(total(after, 'worker_rss_bytes')).toBe(100);
    // A second retirement adds up with the first.
    await cluster.retire(stays);
    expect(total(parseExposition((await cluster.render([])).body), 'http_requests_total')).toBe(9);
  });
});

const request = (remoteAddress: string, authorization?: string) =>
  ({
    socket: { remoteAddress },
    headers: authorization ? { authorization } : {},
  }) as unknown as http.IncomingMessage;

describe('metricsAccess', () => {
  it('without a token lets loopback clients in and refuses the others with 403', () => {
    const check = metricsAccess(undefined);
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopback(address)).toBe(true);
      expect(check(request(address))).toBeNull();
    }
    for (const address of ['192.0.2.7', '::ffff:10.0.0.1', 'fd00::2', '::']) {
      expect(check(request(address))?.code).toBe('forbidden');
    }
  });

  it('with a token requires exactly that Bearer token, from anywhere', () => {
    const check = metricsAccess('s3cret-token-of-some-length');
    expect(check(request('192.0.2.7', 'Bearer s3cret-token-of-some-length'))).toBeNull();
    expect(check(request('192.0.2.7', 'bearer   s3cret-token-of-some-length'))).toBeNull();
    expect(check(request('127.0.0.1'))?.code).toBe('unauthorized');
    expect(check(request('127.0.0.1', 'Bearer s3cret-token-of-some-lengt'))?.code).toBe('unauthorized');
    expect(check(request('127.0.0.1', 'Bearer s3cret-token-of-some-length-and-more'))?.code).toBe(
      'unauthorized',
    );
    expect(check(request('127.0.0.1', 's3cret-token-of-some-length'))?.code).toBe('unauthorized');
  });
});
