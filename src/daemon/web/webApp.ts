import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { negotiateEncoding, SERVER_PREFERENCE } from '../api/compression/negotiate.ts';

/**
 * Serves the built web app (dist/web) from memory. The build is immutable while the daemon
 * runs, so every file is read once at start: a request never touches the disk, a path can
 * only name a file that is in the index (no traversal to guard), and the precompressed
 * `.br`/`.gz` siblings the build wrote are picked by `Accept-Encoding`.
 */
interface WebFile {
  type: string;
  etag: string;
  /** The identity bytes and, when the build wrote them, the precompressed ones. */
  bodies: { identity: Buffer; br?: Buffer; gzip?: Buffer };
  cacheControl: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Hashed file names never change content: cache them for a year. Everything else revalidates. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

// Radix positions popovers with inline styles; everything else comes from our own origin.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

async function walk(dir: string, base = dir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      // The Vite manifest is for the build tooling, not for browsers.
      if (entry.name !== '.vite') files.push(...(await walk(full, base)));
    } else files.push(path.relative(base, full).split(path.sep).join('/'));
  }
  return files;
}

export interface WebIndex {
  files: Map<string, WebFile>;
  index?: WebFile;
}

/** Reads dist/web into memory; null when it was not built (the API still works). */
export async function loadWebApp(dir: string): Promise<WebIndex | null> {
  const names = await walk(dir).catch(() => null);
  if (!names?.includes('index.html')) return null;
  const present = new Set(names);
  const files = new Map<string, WebFile>();
  for (const name of names) {
    if (name.endsWith('.br') || name.endsWith('.gz')) continue;
    const identity = await readFile(path.join(dir, name));
    const read = (suffix: string) =>
      present.has(name + suffix) ? readFile(path.join(dir, name + suffix)) : Promise.resolve(undefined);
    files.set(`/${name}`, {
      type: TYPES[path.extname(name)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`,
      bodies: { identity, br: await read('.br'), gzip: await read('.gz') },
      cacheControl: name.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
    });
  }
  return { files, index: files.get('/index.html') };
}

/** The daemon's own namespaces: never the web app, even for a path no route took. */
const RESERVED = /^\/(api|metrics|healthz|readyz)(\/|$)/;

/** Paths the SPA router owns: no file extension (`/agents`, `/campaigns/1b2…`). */
const looksLikeAppRoute = (pathname: string) => !path.posix.basename(pathname).includes('.');

/**
 * GET/HEAD for the web app: a file of the build, or index.html for a browser navigation
 * to one of the app's own routes (the client-side router takes it from there). An unknown file (`/assets/old-hash.js`,
 * `/favicon.ico`) is a 404, never index.html, so a stale cache cannot store HTML as a
 * script. Everything under /api, /metrics and the probes never reaches this.
 */
export function webAppHandler(web: WebIndex): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let pathname: string;
    try {
      pathname = decodeURIComponent(req.path);
    } catch {
      return next();
    }
    if (RESERVED.test(pathname)) return next();
    // App routes answer index.html to what a browser navigation asks for (text/html); an
    // API client with a wrong path keeps getting the JSON 404.
    const page =
      pathname === '/' || (looksLikeAppRoute(pathname) && (req.get('accept') ?? '').includes('text/html'));
    const file = web.files.get(pathname) ?? (page ? web.index : undefined);
    if (!file) return next();
    res.locals.metricsRoute = 'web';
    const available = SERVER_PREFERENCE.filter((coding) => file.bodies[coding]);
    // The compression middleware has already refused (406) a header nothing satisfies.
    const negotiated = negotiateEncoding(req.get('accept-encoding'), available) ?? 'identity';
    const encoding = negotiated === 'identity' ? undefined : negotiated;
    const body = (encoding && file.bodies[encoding]) || file.bodies.identity;
    res.setHeader('Content-Type', file.type);
    res.setHeader('Cache-Control', file.cacheControl);
    // One ETag per representation: a gzip body must not validate a cached brotli one.
    const etag = encoding ? `${file.etag.slice(0, -1)}-${encoding}"` : file.etag;
    res.setHeader('ETag', etag);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (file.bodies.br || file.bodies.gzip) res.setHeader('Vary', 'Accept-Encoding');
    if (file === web.index) {
      res.setHeader('Content-Security-Policy', CSP);
      res.setHeader('Referrer-Policy', 'no-referrer');
    }
    if (req.get('if-none-match') === etag) {
      res.status(304).end();
      return;
    }
    if (encoding) res.setHeader('Content-Encoding', encoding);
    res.setHeader('Content-Length', body.length);
    res.status(200).end(req.method === 'HEAD' ? undefined : body);
  };
}
