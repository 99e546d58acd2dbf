import zlib from 'node:zlib';
import type { Response } from 'express';
import type { CompressionConfig } from '../../config/types.ts';
import type { Coding } from './negotiate.ts';

/**
 * Bodies sent whole (`res.json`, `res.send`: every API answer but a CSV download) are
 * compressed in one call instead of through a zlib stream: a stream's setup costs more
 * than compressing a few kB (bench/compression.ts: ~0.55× of identity's throughput with
 * streams only). Up to this size the work is short enough to do on the event loop.
 */
export const ONE_SHOT_MAX_BYTES = 256 * 1024;

/**
 * Brotli's window for a body of `length` bytes: the smallest that holds all of it (a window
 * of `lgwin` bits holds 2^lgwin − 16 bytes; never
 * more than the default 4 MB), so it finds every match the default window would,
 * while the encoder sets up far less: a 3.8 kB page of contacts at quality 4 took ~60 µs
 * with the default window and ~40 µs with this one, one byte longer at most.
 */
export function brotliWindowBits(length: number): number {
  const { BROTLI_MIN_WINDOW_BITS, BROTLI_DEFAULT_WINDOW } = zlib.constants;
  return Math.min(BROTLI_DEFAULT_WINDOW, Math.max(BROTLI_MIN_WINDOW_BITS, Math.ceil(Math.log2(length + 16))));
}

/**
 * The output chunk of a one-shot call: about a quarter of the body (1–16 kB), where zlib's
 * default is 16 kB whatever the body. Node carves a chunk from its shared Buffer pool
 * (64 kB slabs), and the answer keeps its slab alive until it is collected: with 16 kB
 * chunks a slab served 4 answers, with 1 kB ones 64, so a 3.7 kB page of contacts (~800 B
 * in brotli) no longer allocates a slab every fourth request, and the workers collect less
 * (uncached reads, API worker CPU per request: 500–504 µs → 478–484 µs, docs/BENCH.md).
 * A body that compresses to more than a chunk takes several, joined at the end.
 */
export function oneShotChunkBytes(length: number): number {
  return Math.max(1024, Math.min(16 * 1024, length >>> 2));
}

/** One body in one call, at the configured level: also the metrics port's compression. */
export function compressBody(body: Buffer, coding: Coding, config: CompressionConfig): Buffer {
  return coding === 'br'
    ? zlib.brotliCompressSync(body, {
        chunkSize: oneShotChunkBytes(body.length),
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: config.brotliLevel,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
          [zlib.constants.BROTLI_PARAM_LGWIN]: brotliWindowBits(body.length),
        },
      })
    : zlib.gzipSync(body, { level: config.gzipLevel, chunkSize: oneShotChunkBytes(body.length) });
}

/** Statuses whose answers carry no body, and answers that say not to be transformed. */
const NO_BODY = new Set([204, 304]);
const NO_TRANSFORM = /(?:^|,)\s*no-transform\s*(?:,|$)/i;

/**
 * Wraps `res.end` so that a body handed over in one piece (nothing written before) is
 * compressed synchronously with `coding`; anything else — a streamed body, one too large,
 * too small, of a type not worth it — goes on to `end` as it is, for shrink-ray.
 */
export function compressWholeBodies(
  res: Response,
  coding: Coding,
  config: CompressionConfig,
  compressible: (type: string) => boolean,
): void {
  let wrote = false;
  const write = res.write.bind(res) as Response['write'];
  res.write = ((...args: Parameters<Response['write']>) => {
    wrote = true;
    return write(...args);
  }) as Response['write'];
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    const body =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8')
        : chunk;
    if (
      wrote ||
      !Buffer.isBuffer(body) ||
      res.headersSent ||
      body.length < config.thresholdBytes ||
      body.length > ONE_SHOT_MAX_BYTES ||
      NO_BODY.has(res.statusCode) ||
      res.req.method === 'HEAD' ||
      res.getHeader('Content-Encoding') !== undefined ||
      NO_TRANSFORM.test(String(res.getHeader('Cache-Control') ?? '')) ||
      !compressible(String(res.getHeader('Content-Type') ?? ''))
    ) {
      return end(chunk, ...rest);
    }
    const compressed = compressBody(body, coding, config);
    res.setHeader('Content-Encoding', coding);
    res.setHeader('Content-Length', compressed.length);
    // The callback form of end(chunk, encoding, cb) keeps its callback.
    const callback = rest.find((arg) => typeof arg === 'function');
    return callback ? end(compressed, callback) : end(compressed);
  }) as Response['end'];
}
