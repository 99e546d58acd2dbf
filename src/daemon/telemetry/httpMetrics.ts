import type { ServerResponse } from 'node:http';
import type { Express, RequestHandler } from 'express';
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

const ROUTE = Symbol('route');
const TEMPLATE = Symbol('routeTemplate');
type Tracked = { [ROUTE]?: { path: unknown }; [TEMPLATE]?: string; baseUrl: string };

/** The mount path of the router plus the route's own path: `/api/session/agents/:id`. */
function template(baseUrl: string, routePath: unknown): string {
  const own = typeof routePath === 'string' ? routePath : String(routePath);
  if (own === '/' || own === '') return baseUrl || '/';
  return `${baseUrl}${own}`;
}

/**
 * Records `http_requests_total` and `http_request_duration_seconds` for every response of
 * `app`; install it before any other middleware.
 *
 * The route label is the template of the route that handled the request, never the raw
 * path. Express restores `req.baseUrl` when an error leaves a sub-router, so reading it at
 * the end would label `/api/session/agents/:id`'s errors `/:id`. Instead the template is
 * captured when the router assigns `req.route` — `req.baseUrl` is then still the mount
 * path of the router that matched — by an accessor on this app's request prototype.
 * (Defining it on each request instead costs ~13% of a small endpoint's throughput: V8
 * turns every request object into a slow dictionary.)
 */
export function installHttpMetrics(app: Express, metrics: ProcessMetrics): void {
  Object.defineProperty(app.request, 'route', {
    configurable: true,
    enumerable: true,
    get(this: Tracked) {
      return this[ROUTE];
    },
    set(this: Tracked, value: { path: unknown } | undefined) {
      this[ROUTE] = value;
      this[TEMPLATE] = value ? template(this.baseUrl, value.path) : undefined;
    },
  });
  app.use(httpMetrics(metrics));
}

/**
 * When the request reached this process, set by whatever saw it before the app (the raw
 * fast path, fastCachedRead.ts): a request it hands on is timed from there, not from the app.
 */
export const REQUEST_STARTED = Symbol('requestStarted');
declare module 'node:http' {
  interface IncomingMessage {
    [REQUEST_STARTED]?: number;
  }
}

function httpMetrics(metrics: ProcessMetrics): RequestHandler {
  return (req, res, next) => {
    const started = req[REQUEST_STARTED] ?? performance.now();
    res.on('close', () => {
      const route = res.locals.metricsRoute ?? (req as unknown as Tracked)[TEMPLATE] ?? UNMATCHED_ROUTE;
      observeResponse(metrics, req.method, route, res, started);
    });
    next();
  };
}

/** One response in http_requests_total and http_request_duration_seconds; call it on the response's `close`. */
export function observeResponse(
  metrics: ProcessMetrics,
  method: string | undefined,
  route: string,
  res: ServerResponse,
  started: number,
): void {
  const labels = {
    method: method && METHODS.has(method) ? method : 'other',
    route,
    // 499 (nginx's "client closed request"): the client left before the response ended.
    status: res.writableFinished ? String(res.statusCode) : '499',
  };
  metrics.httpRequests.inc(labels);
  metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
}
