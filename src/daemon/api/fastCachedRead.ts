import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import type { Request } from 'express';
import { type CacheLayer, cachedRouteAt, type ReadRequest, servePrefetched } from '../cache/cachedRoute.ts';
import type { Logger } from '../logger.ts';
import type { ActiveSessions } from '../telemetry/activeSessions.ts';
import { observeResponse, REQUEST_STARTED } from '../telemetry/httpMetrics.ts';
import type { ProcessMetrics } from '../telemetry/metrics.ts';
import type { Admission } from './admission/admission.ts';
import { negotiateEncoding } from './compression/negotiate.ts';
import { tokenOf } from './middleware/auth.ts';
import { apiHeaderList } from './middleware/securityHeaders.ts';
import type { TenantLimit } from './middleware/tenantLimit.ts';
import { requestIdOf } from './requestId.ts';

export interface FastReadDeps {
  admission: Admission;
  limit: TenantLimit | null;
  cache: CacheLayer;
  /** Compression on: the response goes out in the negotiated coding. */
  compression: boolean;
  hsts: boolean;
  drain: { active: boolean };
  /** The app's query string parser (Express's `query parser fn`): the same `req.query` as the app's. */
  parseQuery: (search: string) => Request['query'];
  /** Records the response in the HTTP metrics (absent: metrics off). */
  metrics?: ProcessMetrics;
  activeSessions?: ActiveSessions;
  log: Logger;
}

/**
 * The cached read's hot path, in front of the app: a GET of a cached route whose
 * admission round trip found the answer is sent from here, on the request Node parsed,
 * with one writeHead — before Express turns the request into its own (prototypes, the
 * router's walk over the app's layers), which costs more than the rest of the request
 * (docs/DECISIONS.md). It answers only that case, and exactly as the app would (the same
 * header lists: security, request id, cache control, limits; the same metrics;
 * test/integration/admission.test.ts compares both). Everything else — a miss, a refusal,
 * a 429, a 406, a traced request, another route — goes on to `app`, with the admission
 * already decided (`req.admission`) so nothing is counted twice.
 */
export function fastCachedRead(deps: FastReadDeps, app: RequestListener): RequestListener {
  const { admission, limit, cache, drain, metrics } = deps;
  // The app's headers for an API answer (securityHeaders.ts), and the coding's Vary.
  const fixed: string[] = [];
  for (const [name, value] of apiHeaderList({ hsts: deps.hsts })) fixed.push(name, value);
  fixed.push('Vary', 'Accept-Encoding');

  // Async from its first line: whatever throws (a header no parser expected) is a
  // rejection the app then answers, never an exception out of the server's listener.
  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    search: string,
    started: number,
  ) => {
    const parsed = tokenOf(req.headers.authorization as string);
    if (!parsed) return false; // the app refuses it, and counts the failure
    const coding = deps.compression ? negotiateEncoding(req.headers['accept-encoding']) : 'identity';
    if (coding === null) return false; // the app answers 406
    const view: ReadRequest = {
      method: 'GET',
      baseUrl: '',
      path,
      query: deps.parseQuery(search),
      res: { locals: coding === 'identity' ? {} : { contentCoding: coding } },
    };
    const admitted = await admission.admit(view, parsed.prefix, parsed.secret);
    req.admission = admitted;
    if (!admitted?.prefetched) return false;
    const { principal, window } = admitted;
    if (limit && window && !limit.allows(principal, window)) return false; // the app's 429
    view.principal = principal;
    const served = await servePrefetched(cache, view, admitted.prefetched);
    if (!served) return false;
    deps.activeSessions?.note(principal.tokenId);
    const headers = fixed.slice();
    headers.push('X-Request-Id', requestIdOf(req));
    if (limit && window)
      for (const [name, value] of limit.headers(principal, window)) headers.push(name, value);
    headers.push('X-Cache', 'HIT', 'Content-Type', 'application/json; charset=utf-8');
    if (served.coding) headers.push('Content-Encoding', served.coding);
    headers.push('Content-Length', String(served.body.length));
    if (drain.active) headers.push('Connection', 'close');
    if (metrics) {
      const route = view.path;
      res.once('close', () => observeResponse(metrics, 'GET', route, res, started));
    }
    res.writeHead(200, headers);
    // As latin1 text, byte for byte (any bytes: a compressed copy too): Node then sends the
    // head and the body in one write, where a Buffer body costs a writev of two chunks.
    res.end(served.body.toString('latin1'), 'latin1');
    return true;
  };

  return (req, res) => {
    const url = req.url ?? '';
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    if (
      req.method !== 'GET' ||
      !req.headers.authorization ||
      !cachedRouteAt(path) ||
      // A traced request goes the whole way, so its trace shows every layer.
      trace.getSpan(context.active())
    )
      return app(req, res);
    const started = performance.now();
    // Not answered here: the app answers, timed from the arrival, with what was admitted.
    const handOn = () => {
      req[REQUEST_STARTED] = started;
      app(req, res);
    };
    serve(req, res, path, mark === -1 ? '' : url.slice(mark + 1), started).then(
      (answered) => answered || handOn(),
      (error: unknown) => {
        // Unexpected (the admission fails open by itself); the app's own error handling
        // answers if the failure is there too.
        deps.log.warn({ err: error }, 'cached-read fast path failed; the app answers');
        handOn();
      },
    );
  };
}
