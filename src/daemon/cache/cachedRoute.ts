import type { Request, RequestHandler } from 'express';
import { negotiatedCoding } from '../api/compression/middleware.ts';
import type { Coding } from '../api/compression/negotiate.ts';
import { ownerOf, type Principal } from '../api/middleware/auth.ts';
import { processMetrics } from '../telemetry/metrics.ts';
import type { CacheEntrySpec, Prefetched } from './responseCache.ts';
import { queryVariant, type ResponseCache } from './responseCache.ts';
import { entryBase, type Scope, tags } from './tags.ts';
import type { CacheTtlName } from './ttlNames.ts';

/** The six cached read endpoints, by the path that names them in stats and metrics. TTLs: config/options.ts (--cache-ttl). */
export const CACHED_ROUTES = {
  '/api/admin/stripe/settings': 'settings',
  '/api/admin/stripe/analytics': 'analytics',
  '/api/user/subscription': 'subscription',
  '/api/session/agents': 'agents',
  '/api/session/teams': 'teams',
  '/api/session/roles': 'roles',
} as const satisfies Record<string, CacheTtlName>;

export type CachedRoute = keyof typeof CACHED_ROUTES;

const ADMIN_ONLY = new Set<CachedRoute>(['/api/admin/stripe/settings', '/api/admin/stripe/analytics']);

declare module 'express-serve-static-core' {
  interface Request {
    /** The cache lookup the request's admission round trip already made (admission/script.ts). */
    cachePrefetch?: Prefetched;
  }
}

/** What a cached read's loader may look at: the query string and who asks. */
export interface LoadInput {
  query: Request['query'];
  principal?: Principal;
}

/**
 * What a cached read looks at of its request. An Express request is one; so is the view
 * the raw fast path (fastCachedRead.ts) builds before Express has seen the request.
 */
export interface ReadRequest extends LoadInput {
  method: string;
  /** The mount path and the path below it: together, the path without the query string. */
  baseUrl: string;
  path: string;
  /** Its `locals.contentCoding`: the coding negotiated for the answer (compression/middleware.ts). */
  res?: { locals: Record<string, unknown> };
}
type Loader = (input: LoadInput) => Promise<unknown>;

export interface CacheLayer {
  cache: ResponseCache;
  ttlSeconds: Record<CacheTtlName, number>;
  /** Each cached route's loader, registered by cachedJson: refresh() reuses it after a write. */
  loaders?: Map<CachedRoute, Loader>;
}

// What each cached response depends on. A subscription shows the plan and the agent count,
// so it depends on the plans and agent-count tags as well as its own (an agent's rename
// leaves it cached).
const DEPENDS_ON: Record<CachedRoute, { userScoped: boolean; tags: (s: Scope) => string[] }> = {
  '/api/admin/stripe/settings': { userScoped: false, tags: (s) => [tags.stripe(s)] },
  '/api/admin/stripe/analytics': { userScoped: false, tags: (s) => [tags.analytics(s)] },
  '/api/user/subscription': {
    userScoped: true,
    tags: (s) => [tags.subscription(s), tags.agentCount(s), tags.plans(s)],
  },
  '/api/session/agents': { userScoped: true, tags: (s) => [tags.agents(s)] },
  '/api/session/teams': { userScoped: true, tags: (s) => [tags.teams(s)] },
  '/api/session/roles': { userScoped: true, tags: (s) => [tags.roles(s)] },
};

/**
 * A GET handler served through the cache: the key holds the tenant, the user when the
 * data is the user's, and the query string. `X-Cache` says HIT or MISS.
 */
export function cachedJson(layer: CacheLayer, route: CachedRoute, load: Loader): RequestHandler {
  layer.loaders ??= new Map();
  layer.loaders.set(route, load);
  processMetrics().cacheHits.inc({ route }, 0);
  processMetrics().cacheMisses.inc({ route }, 0);
  return async (req, res) => {
    const spec = specOf(layer, route, req);
    const known = req.cachePrefetch?.spec.base === spec.base ? req.cachePrefetch : undefined;
    const { body, hit, coding } = await layer.cache.getOrLoad(
      spec,
      () => load(req),
      negotiatedCoding(res),
      known,
    );
    res.setHeader('X-Cache', hit ? 'HIT' : 'MISS');
    // Already compressed: the compression layer sends it as it is.
    if (coding) res.setHeader('Content-Encoding', coding);
    res.type('application/json').send(body);
  };
}

/**
 * The cache entry a request will read, for its admission round trip to fetch along:
 * GETs of a cached route's exact path (a trailing slash or HEAD just looks up on its
 * own), by a caller the route admits. Null when there is nothing to fetch, or while
 * invalidations Redis refused wait to be replayed (the entry may be stale until then).
 */
export function prefetchFor(
  layer: CacheLayer,
  req: ReadRequest,
  principal: Principal,
): { spec: CacheEntrySpec; coding: Coding | null } | null {
  if (req.method !== 'GET' || !layer.cache.readyToPrefetch()) return null;
  const route = cachedRouteAt(`${req.baseUrl}${req.path}`);
  if (!route || (ADMIN_ONLY.has(route) && principal.role !== 'admin')) return null;
  return { spec: specOf(layer, route, { query: req.query, principal }), coding: negotiatedCoding(req.res) };
}

/** The cached route served at exactly this path, or null. */
export function cachedRouteAt(path: string): CachedRoute | null {
  return Object.hasOwn(CACHED_ROUTES, path) ? (path as CachedRoute) : null;
}

/**
 * A hit the request's admission round trip found, served through the cache (counted,
 * in the wanted coding): null when it found none. For the fast path (fastCachedRead.ts).
 */
export async function servePrefetched(layer: CacheLayer, req: ReadRequest, known: Prefetched) {
  const load = layer.loaders?.get(known.spec.route as CachedRoute);
  if (known.body === null || !load) return null;
  return layer.cache.getOrLoad(known.spec, () => load(req), negotiatedCoding(req.res), known);
}

function specOf(layer: CacheLayer, route: CachedRoute, input: LoadInput) {
  const depends = DEPENDS_ON[route];
  const scope = ownerOf(input);
  return {
    route,
    base: entryBase(scope, route, depends.userScoped, queryVariant(input.query as Record<string, unknown>)),
    tags: depends.tags(scope),
    ttlMs: layer.ttlSeconds[CACHED_ROUTES[route]] * 1000,
  };
}

/** Awaited by a mutation before it answers: the tags it changed, for the caller's scope. */
export function invalidate(
  layer: CacheLayer,
  req: Request,
  ...which: Array<(s: Scope) => string>
): Promise<void> {
  const scope = ownerOf(req);
  return layer.cache.invalidate(which.map((tag) => tag(scope)));
}

/**
 * What most writes do before they answer: bump the tags they changed and, in the same
 * step, store the caller's first page of each route in `routes` (the list a client reads
 * back after changing it; the other cached answers the write changed that the caller may
 * read next) — so the caller's next read, and everyone's, is a hit and nobody reads a
 * miss in between (ResponseCache.bumpAndFill). It costs the write one query per route.
 */
export async function invalidateAndRefresh(
  layer: CacheLayer,
  req: Request,
  routes: CachedRoute | CachedRoute[],
  ...which: Array<(s: Scope) => string>
): Promise<void> {
  const scope = ownerOf(req);
  const input: LoadInput = { query: {}, principal: req.principal };
  const fills = [];
  for (const route of Array.isArray(routes) ? routes : [routes]) {
    const load = layer.loaders?.get(route);
    if (load) fills.push({ spec: specOf(layer, route, input), load: () => load(input) });
  }
  await layer.cache.bumpAndFill(
    which.map((tag) => tag(scope)),
    fills,
  );
}
