import http from 'node:http';
import { type ApiErrorCode, errorBody } from '../api/errorCatalogue.ts';
import type { TrustProxy } from '../api/trustProxy.ts';
import type { Exposition } from './clusterMetrics.ts';
import { metricsAccess } from './metricsAccess.ts';

/**
 * The supervisor's own metrics listener (--metrics-port): Prometheus scrapes it without
 * touching the API workers, and it can bind another address than the API (e.g. an
 * internal interface only).
 */
export async function startMetricsServer(
  host: string,
  port: number,
  token: string | undefined,
  render: () => Promise<Exposition>,
  trustProxy: TrustProxy,
): Promise<http.Server> {
  const refuse = metricsAccess(token, trustProxy);
  const server = http.createServer(async (req, res) => {
    const json = (code: ApiErrorCode, message: string) => {
      const { status, body } = errorBody(code, message);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return json('not_found', 'this port serves GET /metrics only');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return json('method_not_allowed', 'use GET /metrics');
    }
    const refusal = refuse(req);
    if (refusal) return json(refusal.code, refusal.message);
    try {
      const { contentType, body } = await render();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      json('metrics_unavailable', `could not collect metrics: ${(error as Error).message}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
