import type { AddressInfo } from 'node:net';
import express, { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/daemon/api/errors.ts';
import { installHttpMetrics, UNMATCHED_ROUTE } from '../../src/daemon/telemetry/httpMetrics.ts';
import { createProcessMetrics, type ProcessMetrics } from '../../src/daemon/telemetry/metrics.ts';
import { exemptFromContract } from '../helpers/contract.ts';
import { parseExposition, total } from '../helpers/metrics.ts';

// Its app is a stand-in laid out like the API, not the API: no contract to keep.
exemptFromContract();

// A real Express 5 app over loopback, laid out like the daemon's (an /api router with
// sub-routers mounted under it), with the metrics middleware first.
let metrics: ProcessMetrics;
let base: string;
let close: () => void;

beforeAll(async () => {
  metrics = createProcessMetrics();
  const app = express();
  installHttpMetrics(app, metrics);
  const agents = Router();
  agents.get('/', (_req, res) => {
    res.json([]);
  });
  agents.get('/:id', async (req, res) => {
    if (req.params.id === 'missing') throw new HttpError('not_found', 'no such agent');
    if (req.params.id === 'boom') throw new Error('unexpected');
    res.json({ id: req.params.id });
  });
  agents.delete('/:id', (_req, res) => {
    res.status(204).end();
  });
  const api = Router();
  api.use('/session/agents', agents);
  app.use('/api', api);
  app.get('/files/*path', (_req, res) => {
    res.locals.metricsRoute = 'static';
    res.send('file');
  });
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no route' } });
  });
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = error instanceof HttpError ? error.status : 500;
    res.status(status).json({ error: { code: 'x', message: error.message } });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});

afterAll(() => close());

async function samples() {
  return parseExposition(await metrics.registry.metrics());
}

describe('metricsMiddleware', () => {
  it('labels requests with the route template, never the raw path', async () => {
    const before = total(await samples(), 'http_requests_total', { route: '/api/session/agents/:id' });
    for (const id of ['a1', 'b2', 'c3'])
      await fetch(`${base}/api/session/agents/${id}`).then((r) => r.text());
    await fetch(`${base}/api/session/agents`).then((r) => r.text());
    const after = await samples();
    expect(
      total(after, 'http_requests_total', { route: '/api/session/agents/:id', status: '200' }) - before,
    ).toBe(3);
    expect(total(after, 'http_requests_total', { route: '/api/session/agents', method: 'GET' })).toBe(1);
    expect(after.some((s) => s.labels.route?.includes('a1'))).toBe(false);
  });

  it('keeps the template and the real status when a route throws (Express restores baseUrl)', async () => {
    await fetch(`${base}/api/session/agents/missing`).then((r) => r.text());
    await fetch(`${base}/api/session/agents/boom`).then((r) => r.text());
    const after = await samples();
    expect(total(after, 'http_requests_total', { route: '/api/session/agents/:id', status: '404' })).toBe(1);
    expect(total(after, 'http_requests_total', { route: '/api/session/agents/:id', status: '500' })).toBe(1);
    expect(after.some((s) => s.labels.route === '/:id')).toBe(false);
  });

  it('records method, status and a duration for each request', async () => {
    await fetch(`${base}/api/session/agents/x`, { method: 'DELETE' });
    const after = await samples();
    const labels = { method: 'DELETE', route: '/api/session/agents/:id', status: '204' };
    expect(total(after, 'http_requests_total', labels)).toBe(1);
    expect(total(after, 'http_request_duration_seconds_count', labels)).toBe(1);
    expect(total(after, 'http_request_duration_seconds_sum', labels)).toBeGreaterThan(0);
    // Cumulative buckets: the +Inf bucket holds every request.
    expect(total(after, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(1);
  });

  it('lets a handler name its route (static files) and bounds unknown methods', async () => {
    await fetch(`${base}/files/a/b/c.js`).then((r) => r.text());
    await fetch(`${base}/api/session/agents`, { method: 'PROPFIND' }).then((r) => r.text());
    const after = await samples();
    expect(total(after, 'http_requests_total', { route: 'static', status: '200' })).toBe(1);
    expect(total(after, 'http_requests_total', { method: 'other', route: UNMATCHED_ROUTE })).toBe(1);
  });

  it('puts every unmatched path under one label value: cardinality stays bounded', async () => {
    const before = await samples();
    const seriesBefore = before.filter((s) => s.name === 'http_requests_total').length;
    const unmatchedBefore = total(before, 'http_requests_total', { route: UNMATCHED_ROUTE, status: '404' });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${base}/scan/${i}/wp-admin.php?x=${i}`).then((r) => r.text()),
      ),
    );
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${base}/api/session/agents/id-${i}`).then((r) => r.text()),
      ),
    );
    const after = await samples();
    expect(
      total(after, 'http_requests_total', { route: UNMATCHED_ROUTE, status: '404' }) - unmatchedBefore,
    ).toBe(200);
    // 400 distinct paths added at most one new series (unmatched 404); the agents series existed.
    expect(after.filter((s) => s.name === 'http_requests_total').length - seriesBefore).toBeLessThanOrEqual(
      1,
    );
  });
});
