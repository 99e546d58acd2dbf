/// <reference lib="webworker" />
import { CacheableResponsePlugin } from 'workbox-cacheable-response';
import type { WorkboxPlugin } from 'workbox-core';
import { ExpirationPlugin } from 'workbox-expiration';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst, NetworkFirst, StaleWhileRevalidate } from 'workbox-strategies';

/**
 * The service worker: the app shell precached; hashed assets cache-first; the API
 * network-first with a timeout, falling back to the last answer *for the same token*;
 * images stale-while-revalidate. Built by vite-plugin-pwa (injectManifest).
 */
declare const self: ServiceWorkerGlobalScope;

/** Also named in src/shared/auth.tsx, which empties it on logout. */
const API_CACHE = 'wuz-api';

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/api\//, /^\/metrics/] }),
);

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * One user's API answers must never reach another: every cached entry's key carries a
 * digest of the Authorization header that fetched it, so another token (or none) never
 * matches; anonymous and unsuccessful answers are not stored at all.
 */
const perTokenCache: WorkboxPlugin = {
  async cacheKeyWillBeUsed({ request }) {
    const url = new URL(request.url);
    url.searchParams.set('__token', await sha256(request.headers.get('Authorization') ?? ''));
    return url.href;
  },
  async cacheWillUpdate({ request, response }) {
    return request.headers.has('Authorization') && response.status === 200 ? response : null;
  },
};

registerRoute(
  ({ url, request }) =>
    url.origin === self.location.origin && url.pathname.startsWith('/api/') && request.method === 'GET',
  new NetworkFirst({
    cacheName: API_CACHE,
    networkTimeoutSeconds: 4,
    plugins: [perTokenCache, new ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 24 * 3600 })],
  }),
);

registerRoute(
  ({ url }) =>
    url.origin === self.location.origin && /^\/assets\/.+-[\w-]{8,}\.(?:js|css|woff2?)$/.test(url.pathname),
  new CacheFirst({
    cacheName: 'wuz-assets',
    plugins: [new CacheableResponsePlugin({ statuses: [200] }), new ExpirationPlugin({ maxEntries: 200 })],
  }),
);

registerRoute(
  ({ request }) => request.destination === 'image',
  new StaleWhileRevalidate({
    cacheName: 'wuz-images',
    plugins: [new CacheableResponsePlugin({ statuses: [200] }), new ExpirationPlugin({ maxEntries: 100 })],
  }),
);

// registerType "prompt": the page asks the waiting worker to take over when the user agrees.
self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') void self.skipWaiting();
});
