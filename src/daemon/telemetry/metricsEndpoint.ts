import type { RequestHandler } from 'express';
import { HttpError } from '../api/errors.ts';
import type { TrustProxy } from '../api/trustProxy.ts';
import { isToChild } from '../ipc.ts';
import type { Exposition } from './clusterMetrics.ts';
import { metricsAccess } from './metricsAccess.ts';

const SCRAPE_TIMEOUT_MS = 5000;

/**
 * Asks the supervisor for the cluster-wide exposition over IPC. An API worker only knows
 * its own counters; the supervisor collects everyone's, so any worker answers the same.
 */
export function scrapeViaSupervisor(): () => Promise<Exposition> {
  let nextId = 1;
  const waiting = new Map<number, (reply: Exposition & { error?: string }) => void>();
  process.on('message', (message) => {
    if (isToChild(message) && message.type === 'scrape') waiting.get(message.requestId)?.(message);
  });
  return () =>
    new Promise<Exposition>((resolve, reject) => {
      const requestId = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(requestId);
        reject(new Error('the supervisor did not answer in time'));
      }, SCRAPE_TIMEOUT_MS);
      waiting.set(requestId, (reply) => {
        clearTimeout(timer);
        waiting.delete(requestId);
        if (reply.error) reject(new Error(reply.error));
        else resolve({ contentType: reply.contentType, body: reply.body });
      });
      process.send?.({ type: 'scrape', requestId });
    });
}

/** GET /metrics on the API port: access check, then the supervisor's exposition. */
export function metricsEndpoint(
  token: string | undefined,
  scrape: () => Promise<Exposition>,
  trustProxy: TrustProxy,
): RequestHandler {
  const refuse = metricsAccess(token, trustProxy);
  return async (req, res) => {
    const refusal = refuse(req);
    if (refusal) throw new HttpError(refusal.code, refusal.message);
    const exposition = await scrape().catch((error: Error) => {
      throw new HttpError('metrics_unavailable', `could not collect metrics: ${error.message}`);
    });
    res.setHeader('Cache-Control', 'no-store');
    res.type(exposition.contentType).send(exposition.body);
  };
}
