import type { Server } from 'node:http';
import http from '../../nodeHttp.ts';
import { negotiateEncoding } from '../api/compression/negotiate.ts';
import { compressBody } from '../api/compression/oneShot.ts';
import { type ApiErrorCode, errorBody } from '../api/errorCatalogue.ts';
import type { TrustProxy } from '../api/trustProxy.ts';
import type { CompressionConfig } from '../config/types.ts';
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
  compression: CompressionConfig,
): Promise<Server> {
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
    // Compressed as on the API port (Prometheus asks for gzip): same negotiation, same levels.
    const coding = compression.enabled ? negotiateEncoding(req.headers['accept-encoding']) : 'identity';
    if (coding === null)
      return json('not_acceptable', 'no acceptable content coding: allow identity, br or gzip');
    try {
      const { contentType, body } = await render();
      const text = Buffer.from(body);
      const encoded = coding !== 'identity' && text.length >= compression.thresholdBytes;
      res.writeHead(200, {
        'content-type': contentType,
        'cache-control': 'no-store',
        vary: 'Accept-Encoding',
        ...(encoded ? { 'content-encoding': coding } : {}),
      });
      if (req.method === 'HEAD') res.end();
      else res.end(encoded ? compressBody(text, coding, compression) : text);
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
