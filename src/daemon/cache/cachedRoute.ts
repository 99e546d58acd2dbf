import type { Request, RequestHandler } from 'express';
import { ownerOf } from '../api/middleware/auth.ts';
import type { CacheTtlName } from '../config.ts';
import { queryVariant, type ResponseCache } from './responseCache.ts';
import { entryBase, type Scope, tags } from './tags.ts';

/** The six cached read endpoints, by the path that names them in stats and metrics. TTLs: config.ts. */
export const CACHED_ROUTES = {
  '/api/admin/stripe/settings': 'settings',
  '/api/admin/stripe/analytics': 'analytics',
  '/api/user/subscription': 'subscription',
  '/api/session/agents': 'agents',
  '/api/session/teams': 'teams',
  '/api/session/roles': 'roles',
} as const satisfies Record<string, CacheTtlName>;

export type CachedRoute = keyof typeof CACHED_ROUTES;

export interface CacheLayer {
  cache: ResponseCache;
  ttlSeconds: Record<CacheTtlName, number>;
}

// What each cached response depends on. A subscription shows the plan and the agent count,
// so it depends on the plans and agents tags as well as its own.
const DEPENDS_ON: Record<CachedRoute, { userScoped: boolean; tags: (s: Scope) => string[] }> = {
  '/api/admin/stripe/settings': { userScoped: false, tags: (s) => [tags.stripe(s)] },
  '/api/admin/stripe/analytics': { userScoped: false, tags: (s) => [tags.analytics(s)] },
  '/api/user/subscription': {
    userScoped: true,
    tags: (s) => [tags.subscription(s), tags.agents(s), tags.plans(s)],
  },
  '/api/session/agents': { userScoped: true, tags: (s) => [tags.agents(s)] },
  '/api/session/teams': { userScoped: true, tags: (s) => [tags.teams(s)] },
  '/api/session/roles': { userScoped: true, tags: (s) => [tags.roles(s)] },
};

/**
 * A GET handler served through the cache: the key holds the tenant, the user when the
 * data is the user's, and the query string. `X-Cache` says HIT or MISS.
 */
export function cachedJson(
  layer: CacheLayer,
  route: CachedRoute,
  load: (req: Request) => Promise<unknown>,
): RequestHandler {
  const depends = DEPENDS_ON[route];
  const ttlMs = layer.ttlSeconds[CACHED_ROUTES[route]] * 1000;
  return async (req, res) => {
    const scope = ownerOf(req);
    const { body, hit } = await layer.cache.getOrLoad(
      {
        route,
        base: entryBase(scope, route, depends.userScoped, queryVariant(req.query as Record<string, unknown>)),
        tags: depends.tags(scope),
        ttlMs,
      },
      () => load(req),
    );
    res.setHeader('X-Cache', hit ? 'HIT' : 'MISS');
    res.type('application/json').send(body);
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
