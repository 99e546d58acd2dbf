import type { Request, RequestHandler } from 'express';
import type { ProcessMetrics } from './metrics.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The label of requests no route matched (404s, scanners): one value, however many paths. */
export const UNMATCHED_ROUTE = 'unmatched';

declare module 'express-serve-static-core' {
  interface Locals {
    /** Set by a handler that serves many paths under one name (e.g. the web app's files). */
    metricsRoute?: string;
  }
}

/** The mount path of the router plus the route's own path: `/api/session/agents/:id`. */
function template(baseUrl: string, routePath: unknown): string {
  const own = typeof routePath === 'string' ? routePath : String(routePath);
  if (own === '/' || own === '') return baseUrl || '/';
  return `${baseUrl}${own}`;
}

/**
 * Records `http_requests_total` and `http_request_duration_seconds` for every response.
 *
 * The route label is the template of the route that handled the request, never the raw
 * path. Express restores `req.baseUrl` when an error leaves a sub-router, so reading it at
 * the end would label `/api/session/agents/:id`'s errors `/:id`; instead the template is
 * captured at the moment the router assigns `req.route`, when `req.baseUrl` is still the
 * mount path of the router that matched.
 */
export function httpMetrics(metrics: ProcessMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let matched: string | undefined;
    let route: Request['route'];
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => route,
      set(value) {
        route = value;
        matched = value ? template(req.baseUrl, value.path) : undefined;
      },
    });
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const labels = {
        method: METHODS.has(req.method) ? req.method : 'other',
        route: res.locals.metricsRoute ?? matched ?? UNMATCHED_ROUTE,
        // 499 (nginx's "client closed request"): the client left before the response ended.
        status: res.writableFinished ? String(res.statusCode) : '499',
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
    });
    next();
  };
}
