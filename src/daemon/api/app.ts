import type { RequestListener } from 'node:http';
import express, { Router } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { type CacheLayer, prefetchFor } from '../cache/cachedRoute.ts';
import type { CompressionConfig, RateLimitConfig } from '../config/types.ts';
import { databaseHealthy } from '../db/pool.ts';
import type { Logger } from '../logger.ts';
import type { QueueSource } from '../queues/index.ts';
import type { RateLimitCounters } from '../ratelimit/store.ts';
import type { CacheSeal } from '../security/cacheSeal.ts';
import type { SecretBox } from '../security/secretBox.ts';
import { redisHealthy } from '../services/redis.ts';
import type { ActiveSessions } from '../telemetry/activeSessions.ts';
import type { Exposition } from '../telemetry/clusterMetrics.ts';
import { installHttpMetrics } from '../telemetry/httpMetrics.ts';
import type { ProcessMetrics } from '../telemetry/metrics.ts';
import { metricsEndpoint } from '../telemetry/metricsEndpoint.ts';
import { type WebIndex, webAppHandler } from '../web/webApp.ts';
import { Admission } from './admission/admission.ts';
import { compression } from './compression/middleware.ts';
import { routesOn } from './contract/route.ts';
import { errorHandler, notFound } from './errors.ts';
import { fastCachedRead } from './fastCachedRead.ts';
import { authenticate, requireAdmin } from './middleware/auth.ts';
import { AuthFailureLimiter } from './middleware/authFailureLimiter.ts';
import { jsonBody } from './middleware/jsonBody.ts';
import { apiAnswerHeaders, securityHeaders } from './middleware/securityHeaders.ts';
import { TenantLimit } from './middleware/tenantLimit.ts';
import { requestIdOf } from './requestId.ts';
import { planRoutes } from './routes/admin/plans.ts';
import { stripeRoutes } from './routes/admin/stripe.ts';
import { userAdminRoutes } from './routes/admin/users.ts';
import { apiDocsRoutes } from './routes/apiDocs.ts';
import { contactRoutes } from './routes/contacts.ts';
import { meRoutes } from './routes/me.ts';
import { campaignRoutes } from './routes/queues/campaigns.ts';
import { importRoutes } from './routes/queues/imports.ts';
import { jobRoutes } from './routes/queues/jobs.ts';
import { reportRoutes } from './routes/queues/reports.ts';
import { serviceApi } from './routes/service.ts';
import { agentRoutes } from './routes/session/agents.ts';
import { roleRoutes } from './routes/session/roles.ts';
import { teamRoutes } from './routes/session/teams.ts';
import { userPlanRoutes } from './routes/user/plans.ts';
import { subscriptionRoutes } from './routes/user/subscription.ts';
import { clientAddressOf, type TrustProxy } from './trustProxy.ts';

export interface AppDeps {
  redis: Redis;
  pool: pg.Pool;
  log: Logger;
  /**
   * `active` while the worker drains: responses ask clients to close keep-alive sockets.
   * `unready` once a stop is announced: /readyz fails so balancers stop sending, nothing else changes.
   */
  drain: { active: boolean; unready?: boolean };
  bodyLimitBytes: number;
  /** Brotli/gzip of dynamic responses; absent: none (tests of other layers). */
  compression?: CompressionConfig;
  cache: CacheLayer;
  rateLimit: { config: RateLimitConfig; counters: RateLimitCounters };
  queues: QueueSource;
  importLimitBytes: number;
  security: {
    /** Signs and verifies the auth cache's entries. */
    seal: CacheSeal;
    /** Encrypts and decrypts secrets at rest. */
    box: SecretBox;
    /** Proxies allowed to name the client (`req.ip`). */
    trustProxy: TrustProxy;
    /** Send Strict-Transport-Security. */
    hsts: boolean;
  };
  /** The built web app (dist/web), or null when it was not built. */
  web?: WebIndex | null;
  metrics?: {
    /** Records every response in http_requests_total / _duration (absent: metrics off). */
    http?: ProcessMetrics;
    /** Serves GET /metrics here (absent when the supervisor has its own metrics port). */
    endpoint?: { token?: string; scrape: () => Promise<Exposition> };
    /** Notes each authenticated token for active_sessions_total. */
    activeSessions?: ActiveSessions;
  };
}

/** The middleware order of the API lives here and only here; the server's request listener. */
export function createApp({
  redis,
  pool,
  log,
  drain,
  bodyLimitBytes,
  compression: compressionConfig,
  cache,
  rateLimit,
  queues,
  importLimitBytes,
  security,
  web,
  metrics,
}: AppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  // Per-address limits and the /metrics check read req.ip: off unless proxies are named.
  app.set('trust proxy', security.trustProxy);
  // req.ip as clientAddressOf() says: Express's reading of X-Forwarded-For, plus
  // Cloudflare's CF-Connecting-IP when the chain ends at a trusted Cloudflare edge.
  const clientOf = clientAddressOf(security.trustProxy);
  app.set('etag', false);

  // 0. Metrics first, so they time (and count) every response, errors and 404s included.
  if (metrics?.http) installHttpMetrics(app, metrics.http);

  // 1. Security headers on everything, 404s and errors included; request id (kept when a
  //    proxy sent one) and drain signalling.
  if (security.trustProxy !== false) {
    app.use((req, _res, next) => {
      Object.defineProperty(req, 'ip', { value: clientOf(req), configurable: true });
      next();
    });
  }
  // 1a. The admission: who a token names, its count and its cached answer, in one round
  //     trip (admission/); a cached hit is answered before the app (see the end).
  const limits = rateLimit.config.enabled;
  const limit = limits ? new TenantLimit(rateLimit.config, rateLimit.counters) : null;
  const admission = new Admission({
    db: pool,
    redis,
    seal: security.seal,
    log,
    limit,
    prefetch: (req, principal) => prefetchFor(cache, req, principal),
  });
  app.use(securityHeaders({ hsts: security.hsts }));
  // 1b. Compression of everything after it, errors included; the coding is negotiated
  //     once here (a 406 when nothing is acceptable), for the web app's files too.
  if (compressionConfig?.enabled) app.use(compression(compressionConfig));
  app.use((req, res, next) => {
    res.setHeader('X-Request-Id', requestIdOf(req));
    if (drain.active) res.setHeader('Connection', 'close');
    next();
  });

  // 2. Probes: no auth, no body.
  const on = routesOn(app, '');
  on(serviceApi.health, (_req, res) => {
    res.json({ status: 'ok' });
  });

  on(serviceApi.ready, async (_req, res) => {
    const [redisError, databaseError] = await Promise.all([redisHealthy(redis), databaseHealthy(pool)]);
    const checks = {
      redis: redisError ? `error: ${redisError}` : 'ok',
      database: databaseError ? `error: ${databaseError}` : 'ok',
      draining: drain.active,
      stopping: Boolean(drain.unready),
    };
    const ready = !redisError && !databaseError && !drain.active && !drain.unready;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  // 2b. Prometheus (access: METRICS_TOKEN, else loopback clients only).
  if (metrics?.endpoint)
    on(
      serviceApi.metrics,
      metricsEndpoint(metrics.endpoint.token, metrics.endpoint.scrape, security.trustProxy),
    );

  // 2c. The API's description (OpenAPI 3.1) and its reference page: public, before auth.
  app.use('/api', apiDocsRoutes());

  // 3. The API: auth and rate limit → body → (admin) → routes. Auth first: an anonymous
  //    caller costs one indexed lookup (and counts against its address), never the parsing
  //    of a megabyte of JSON; the limit with it, because its key is the caller's tenant —
  //    one Redis round trip checks the token's entry, counts the request and fetches the
  //    cached answer of a cached GET (admission/script.ts).
  const api = Router();
  // Per caller: never stored by a shared proxy; JSON: nothing may load or frame it (set
  // with the security headers already, again here for any path Express routes in).
  api.use(apiAnswerHeaders);
  api.use(
    authenticate({
      db: pool,
      log,
      admission,
      failures: limits ? new AuthFailureLimiter(redis, rateLimit.config, rateLimit.counters) : null,
      limit,
    }),
  );
  const sessions = metrics?.activeSessions;
  if (sessions) {
    api.use((req, _res, next) => {
      if (req.principal) sessions.note(req.principal.tokenId);
      next();
    });
  }
  // CSV uploads stream their raw body: mounted before the JSON parser.
  api.use('/imports', importRoutes(pool, queues, importLimitBytes));
  api.use(jsonBody(bodyLimitBytes));
  api.use('/me', meRoutes());
  api.use('/admin', requireAdmin);
  api.use('/admin/stripe', stripeRoutes(pool, cache, security.box));
  api.use('/admin/plans', planRoutes(pool, cache));
  api.use('/admin/users', userAdminRoutes(pool));
  api.use('/user/subscription', subscriptionRoutes(pool, cache));
  api.use('/user/plans', userPlanRoutes(pool));
  api.use('/session/agents', agentRoutes(pool, cache));
  api.use('/session/teams', teamRoutes(pool, cache));
  api.use('/session/roles', roleRoutes(pool, cache));
  api.use('/contacts', contactRoutes(pool));
  api.use('/campaigns', campaignRoutes(pool, queues, security.box));
  api.use('/reports', reportRoutes(pool, queues));
  api.use('/jobs', jobRoutes(pool, queues));
  app.use('/api', api);

  // 4. The web app: its files, and index.html for its client-side routes.
  if (web) app.use(webAppHandler(web));

  // 5. Everything else: JSON 404, and one error handler for all.
  app.use(notFound);
  app.use(errorHandler(log));

  // The cached read's hot path, in front of all this: a hit is answered whole, on Node's
  // own request, and everything else goes on to the app (fastCachedRead.ts).
  if (!cache.cache.stats().enabled) return app;
  return fastCachedRead(
    {
      admission,
      limit,
      cache,
      compression: Boolean(compressionConfig?.enabled),
      hsts: security.hsts,
      drain,
      parseQuery: app.get('query parser fn'),
      metrics: metrics?.http,
      activeSessions: metrics?.activeSessions,
      log,
    },
    app,
  );
}
