import type { RequestHandler } from 'express';
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
 */
export function securityHeaders(options: { hsts: boolean }): RequestHandler {
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
export const apiContentSecurityPolicy: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  next();
};
