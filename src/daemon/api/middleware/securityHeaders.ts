import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/**
 * Security headers on every response, through helmet: nosniff, a restrictive CSP with
 * `frame-ancestors 'none'` (no clickjacking), `Referrer-Policy: no-referrer`, and the
 * cross-origin isolation headers. The web app's policy allows exactly what the built app
 * loads — its own scripts, styles, images, manifest and service worker, and API calls to
 * its own origin; `style-src 'unsafe-inline'` because radix's dialogs inject a scroll-lock
 * <style> (style injection cannot run script). HSTS only when the operator says TLS
 * terminates in front (--hsts on): sent over plain HTTP it would be ignored at best, and
 * on a name also served without TLS it locks browsers out for a year.
 *
 * An API answer (a path under /api/ but the reference page's) gets `apiHeaderList`: JSON
 * is never a document, so it carries the API's own CSP and Cache-Control instead of the
 * page's, and none of the headers that only act on a rendered document.
 */
export function securityHeaders(options: { hsts: boolean }): RequestHandler {
  const documents = securityHeaderList(options);
  const answers = apiHeaderList(options);
  return (req, res, next) => {
    for (const [name, value] of isApiAnswer(req.url) ? answers : documents) res.setHeader(name, value);
    next();
  };
}

/**
 * True for a path the API answers with JSON: under /api/, but not the reference page and
 * its files. Case-insensitive, as Express routes: /API/… reaches the same routers.
 */
function isApiAnswer(url: string): boolean {
  const start = url.slice(0, 9).toLowerCase();
  return start.startsWith('/api/') && start !== '/api/docs';
}

/**
 * The API router's own guarantee, whatever path Express routed into it: its answers are
 * never stored by a shared proxy and never load or frame anything.
 */
export const apiAnswerHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', API_CACHE_CONTROL);
  res.setHeader('Content-Security-Policy', API_CONTENT_SECURITY_POLICY);
  next();
};

/**
 * What helmet sends that a browser reads only on a document it renders: the opener's
 * browsing-context group, the agent cluster, DNS prefetching of its links, IE8's download
 * prompt, Flash/PDF cross-domain policies and the old XSS auditor. On a JSON answer they
 * are bytes for nothing, on every request (OWASP's REST Security cheat sheet lists what an
 * API answer needs: the rest of helmet's, which `apiHeaderList` keeps).
 */
const DOCUMENT_ONLY = new Set([
  'cross-origin-opener-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
]);

/**
 * An API answer's headers, computed once: nosniff, X-Frame-Options, Referrer-Policy,
 * Cross-Origin-Resource-Policy and HSTS as on every response, the API's CSP (nothing may
 * load or frame JSON) and Cache-Control (per caller, never stored). The cached-read fast
 * path sends the same list (fastCachedRead.ts).
 */
export function apiHeaderList(options: { hsts: boolean }): ReadonlyArray<readonly [string, string]> {
  const kept = securityHeaderList(options).filter(([name]) => {
    const lower = name.toLowerCase();
    return !DOCUMENT_ONLY.has(lower) && lower !== 'content-security-policy';
  });
  return [
    ...kept,
    ['Content-Security-Policy', API_CONTENT_SECURITY_POLICY],
    ['Cache-Control', API_CACHE_CONTROL],
  ];
}

/**
 * The headers helmet sets, as a list computed once: with this configuration they are the
 * same for every response, and one loop costs less than helmet's twelve middlewares per
 * request.
 */
function securityHeaderList(options: { hsts: boolean }): ReadonlyArray<readonly [string, string]> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.set(name, String(value));
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
  };
  let done = false;
  helmetFor(options)({} as Request, recorder as unknown as Response, () => {
    done = true;
  });
  // helmet sets everything synchronously; anything else would be per-request work.
  if (!done) throw new Error('helmet did not set its headers synchronously');
  return [...headers];
}

function helmetFor(options: { hsts: boolean }) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        workerSrc: ["'self'"],
        manifestSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: options.hsts ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    // The API is called from the web app's own origin only; nothing is embedded cross-origin.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    xFrameOptions: { action: 'deny' },
  });
}

/** JSON answers are never documents: nothing at all may load or frame them. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** API answers are per caller: never stored by a shared proxy. */
export const API_CACHE_CONTROL = 'private, no-store';
