import { context, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { type CacheLayer, cachedRouteAt, servePrefetched } from '../cache/cachedRoute.ts';
import type { ActiveSessions } from '../telemetry/activeSessions.ts';
import type { Admission } from './admission/admission.ts';
import { negotiateEncoding } from './compression/negotiate.ts';
import { tokenOf } from './middleware/auth.ts';
import {
  API_CACHE_CONTROL,
  API_CONTENT_SECURITY_POLICY,
  securityHeaderList,
} from './middleware/securityHeaders.ts';
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
  activeSessions?: ActiveSessions;
}

/**
 * The cached read's hot path: a GET of a cached route whose admission round trip found
 * the answer is sent from here, right after the metrics middleware, with one writeHead —
 * not through the twenty-odd layers of the app and the compressor's hooks, which cost
 * more than the rest of the request (docs/DECISIONS.md). It answers only that case, and
 * exactly as the app would (the same header lists: security, request id, cache control,
 * limits; test/integration/admission.test.ts compares both). Everything else — a miss, a
 * refusal, a 429, a 406, a traced request, another route — goes on to the app, with the
 * admission already decided (`req.admission`) so nothing is counted twice.
 */
export function fastCachedRead(deps: FastReadDeps): RequestHandler {
  const { admission, limit, cache, drain } = deps;
  // The app's security headers with the API's own CSP instead of the web app's.
  const fixed: string[] = [];
  for (const [name, value] of securityHeaderList({ hsts: deps.hsts })) {
    if (name.toLowerCase() !== 'content-security-policy') fixed.push(name, value);
  }
  fixed.push(
    'Vary',
    'Accept-Encoding',
    'Cache-Control',
    API_CACHE_CONTROL,
    'Content-Security-Policy',
    API_CONTENT_SECURITY_POLICY,
  );

  return async (req, res, next) => {
    if (req.method !== 'GET') return next();
    const route = cachedRouteAt(req.path);
    const header = req.headers.authorization;
    if (!route || !header) return next();
    // A traced request goes the whole way, so its trace shows every layer.
    if (trace.getSpan(context.active())) return next();
    const coding = deps.compression ? negotiateEncoding(req.headers['accept-encoding']) : 'identity';
    if (coding === null) return next(); // the app answers 406
    const parsed = tokenOf(header);
    if (!parsed) return next(); // the app refuses it, and counts the failure
    if (coding !== 'identity') res.locals.contentCoding = coding;
    const admitted = await admission.admit(req, parsed.prefix, parsed.secret);
    req.admission = admitted;
    if (!admitted?.prefetched) return next();
    const { principal, window } = admitted;
    if (limit && window && !limit.allows(principal, window)) return next(); // the app's 429
    req.principal = principal;
    const served = await servePrefetched(cache, req, admitted.prefetched);
    if (!served) return next();
    deps.activeSessions?.note(principal.tokenId);
    res.locals.metricsRoute = route;
    const headers = [...fixed, 'X-Request-Id', requestIdOf(req)];
    if (limit && window)
      for (const [name, value] of limit.headers(principal, window)) headers.push(name, value);
    headers.push('X-Cache', 'HIT', 'Content-Type', 'application/json; charset=utf-8');
    if (served.coding) headers.push('Content-Encoding', served.coding);
    headers.push('Content-Length', String(served.body.length));
    if (drain.active) headers.push('Connection', 'close');
    res.writeHead(200, headers);
    res.end(served.body);
  };
}
