import { readdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, type Daemon, embeddedEnv, startDaemon } from '../helpers/daemon.ts';

// The daemon serving the built web app (dist/web, built by `npm run build` / npm ci):
// precompressed files by Accept-Encoding, cache headers, the SPA fallback, and the API's
// namespaces left alone.

const webDir = path.resolve(import.meta.dirname, '../../dist/web');
let daemon: Daemon;
let asset: string;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(pathname: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(`${daemon.url}${pathname}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  const assets = await readdir(path.join(webDir, 'assets'));
  asset = `/assets/${assets.find((name) => name.startsWith('vendor-react-') && name.endsWith('.js'))}`;
  daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 1, queueWorkers: 0 });
});

afterAll(cleanupDaemons);

describe('the web app, served by the API workers', () => {
  it('serves hashed assets brotli or gzip by Accept-Encoding, immutable for a year', async () => {
    const identity = await get(asset);
    expect(identity.status).toBe(200);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.headers['content-type']).toMatch(/javascript/);
    expect(identity.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(identity.headers.vary).toBe('Accept-Encoding');

    const br = await get(asset, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(identity.body)).toBe(true);
    expect(br.body.length).toBeLessThan(identity.body.length / 2);

    const gz = await get(asset, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(identity.body)).toBe(true);

    // br refused explicitly: gzip instead.
    expect((await get(asset, { 'accept-encoding': 'br;q=0, gzip' })).headers['content-encoding']).toBe(
      'gzip',
    );
    // Each representation has its own validator; a matching one answers 304.
    expect(br.headers.etag).not.toBe(gz.headers.etag);
    const again = await get(asset, { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('serves index.html and the service worker with no-cache, and the app routes as index.html', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const navigation = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const route = await get('/campaigns/8d9f0c1e-0000-4000-8000-000000000000', navigation);
    expect(route.status).toBe(200);
    expect(route.body.equals(index.body)).toBe(true);
    // Not a browser navigation: an API client with a wrong path gets the JSON 404.
    const notPage = await get('/campaigns/8d9f0c1e-0000-4000-8000-000000000000', {
      accept: 'application/json',
    });
    expect(notPage.status).toBe(404);
    expect(JSON.parse(notPage.body.toString()).error.code).toBe('not_found');
    const sw = await get('/sw.js');
    expect(sw.status).toBe(200);
    expect(sw.headers['content-type']).toMatch(/javascript/);
    expect(sw.headers['cache-control']).toBe('no-cache');
    expect((await get('/manifest.webmanifest')).headers['content-type']).toBe('application/manifest+json');
  });

  it('answers 404 JSON for a missing file and leaves /api, /metrics and the build manifest alone', async () => {
    const missing = await get('/assets/index-0ld0ld0l.js');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString()).error.code).toBe('not_found');
    expect((await get('/favicon.ico', { accept: 'text/html' })).status).toBe(404);
    expect((await get('/.vite/manifest.json')).status).toBe(404);
    const api = await get('/api/session/agents');
    expect(api.status).toBe(401);
    expect(api.headers['content-type']).toMatch(/application\/json/);
    const unknownApi = await get('/api');
    expect(unknownApi.headers['content-type']).toMatch(/application\/json/);
    expect((await get('/metrics')).headers['content-type']).toMatch(/text\/plain/);
    // A path that tries to climb out of the build folder names no file in it.
    expect((await get('/assets/..%2f..%2fpackage.json')).status).toBe(404);
  });
});
