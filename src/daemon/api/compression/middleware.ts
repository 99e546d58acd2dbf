import type { RequestHandler } from 'express';
import shrinkRay from 'shrink-ray-current';
import type { CompressionConfig } from '../../config/types.ts';
import { HttpError } from '../errors.ts';
import { type Coding, negotiateEncoding } from './negotiate.ts';
import { compressWholeBodies } from './oneShot.ts';

/**
 * What is worth compressing: text, JSON, JavaScript, XML, SVG. Not an event stream (it
 * must flush each event), not images or archives (compressed already).
 */
const COMPRESSIBLE =
  /^(?:text\/(?!event-stream)|application\/(?:json|javascript|xml|manifest\+json|[\w.-]+\+(?:json|xml))|image\/svg\+xml)/i;

const isCompressible = (type: string) => COMPRESSIBLE.test(type);

/** A response a shared cache may store: only these may sit in the compressed-body cache. */
const isPublic = (cacheControl: unknown) =>
  typeof cacheControl === 'string' && /\bpublic\b/.test(cacheControl);

/**
 * Brotli or gzip for every compressible response (API JSON, /metrics, CSV downloads,
 * what the web app has no precompressed file for): a body sent whole is compressed in one
 * call (oneShot.ts), a streamed one through shrink-ray-current as it is written; `Vary: Accept-Encoding` goes on every compressible
 * response, bodies under the threshold and already encoded ones (the web app's .br/.gz
 * files) are left alone.
 *
 * The coding is chosen here, by RFC 9110's rules (negotiate.ts), and handed on as the
 * request's only Accept-Encoding: shrink-ray would otherwise take br whenever it is
 * acceptable at all, whatever the q-values say. Nothing acceptable is a 406.
 *
 * Its compressed-body cache (per worker, `--compression-cache`) is keyed by coding, URL
 * and ETag, and only `Cache-Control: public` responses enter it: every API answer is
 * `private, no-store`, so one caller's body can never be served to another.
 */
export function compression(config: CompressionConfig): RequestHandler {
  const compress = shrinkRay({
    // The option type lists the qualities as literals; the config has checked 1–11.
    brotli: { quality: config.brotliLevel as 4 },
    zlib: { level: config.gzipLevel },
    threshold: config.thresholdBytes,
    // Zopfli is a native peer that does not build on Node 24; zlib's gzip is what we want.
    useZopfliForGzip: false,
    filter: (_req, res) => isCompressible(String(res.getHeader('Content-Type') ?? '')),
    cacheSize: config.cacheBytes > 0 ? config.cacheBytes : false,
    cache: (_req, res) => isPublic(res.getHeader('Cache-Control')),
  });
  return (req, res, next) => {
    const chosen = negotiateEncoding(req.headers['accept-encoding']);
    if (chosen === null) {
      next(new HttpError('not_acceptable', 'no acceptable content coding: allow identity, br or gzip'));
      return;
    }
    // Every answer may differ by Accept-Encoding (a small one only because it is small).
    res.vary('Accept-Encoding');
    res.locals.contentCoding = chosen;
    // Identity needs no compressor at all: shrink-ray's per-response hooks cost ~10% of a
    // cached read's throughput (npm run bench:compression).
    if (chosen === 'identity') {
      next();
      return;
    }
    req.headers['accept-encoding'] = chosen;
    // A client that leaves mid-stream (a CSV download): end the compressor, so its zlib
    // state is released now rather than whenever the response is collected. Only once the
    // answer began: before that there is no compressor yet, and an end() would send a
    // head nobody reads, so the route's own answer then failed as "headers already sent"
    // and was logged as an error (a load generator's timeouts, any client that gives up).
    res.once('close', () => {
      if (res.headersSent && !res.writableEnded) res.end();
    });
    // shrink-ray wraps res.write/end first; the one-shot path wraps them again, so a whole
    // body arrives there already compressed (shrink-ray sees Content-Encoding, passes it).
    compress(req, res, (error?: unknown) => {
      if (!error) compressWholeBodies(res, chosen, config, isCompressible);
      next(error);
    });
  };
}

/**
 * The coding this response was negotiated to (null: identity, or compression off): a
 * route that keeps its bodies encoded already (the response cache) sends that one.
 */
export function negotiatedCoding(res: { locals: Record<string, unknown> } | undefined): Coding | null {
  const coding = res?.locals.contentCoding;
  return coding === 'br' || coding === 'gzip' ? coding : null;
}
