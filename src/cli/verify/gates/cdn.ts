import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { CACHED_ROUTES } from '../../../daemon/cache/cachedRoute.ts';
import http from '../../../nodeHttp.ts';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { round } from '../http.ts';
import { webAppFiles } from '../webFiles.ts';

/**
 * Gate `cdn`: the header contract a CDN and a browser rely on, per class of URL —
 * hashed assets cached for a year and immutable; index.html, the service worker and the
 * manifest revalidated (`no-cache` with a validator, a conditional request answered 304);
 * every API answer `private, no-store`; errors and 404s never stored; no cookie on a
 * cacheable response; the security headers everywhere. Figure: rules holding / checked.
 */
const settings = z.object({ threshold: z.number().min(0).max(1) }).strict();
export type CdnGateSettings = z.infer<typeof settings>;

const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  bytes: number;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'accept-encoding': 'br, gzip', ...headers } }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

class Rules {
  checked = 0;
  readonly failures: string[] = [];
  check(ok: boolean, what: string): void {
    this.checked++;
    if (!ok) this.failures.push(what);
  }
}

const header = (reply: Reply, name: string) => String(reply.headers[name] ?? '');

/** nosniff, a CSP that forbids framing, and a referrer policy: on every response. */
function securityHeaders(rules: Rules, where: string, reply: Reply): void {
  rules.check(
    header(reply, 'x-content-type-options') === 'nosniff',
    `${where}: X-Content-Type-Options nosniff`,
  );
  rules.check(
    /frame-ancestors 'none'/.test(header(reply, 'content-security-policy')),
    `${where}: CSP frame-ancestors`,
  );
  rules.check(header(reply, 'referrer-policy') !== '', `${where}: Referrer-Policy`);
}

function notStored(rules: Rules, where: string, reply: Reply): void {
  rules.check(
    /no-store/.test(header(reply, 'cache-control')),
    `${where}: Cache-Control no-store (got "${header(reply, 'cache-control')}")`,
  );
}

function noCookieIfPublic(rules: Rules, where: string, reply: Reply): void {
  if (/public/.test(header(reply, 'cache-control'))) {
    rules.check(reply.headers['set-cookie'] === undefined, `${where}: a cacheable response sets a cookie`);
  }
}

export async function runCdnGate(context: GateContext, config: CdnGateSettings): Promise<GateResult> {
  const rules = new Rules();
  const tenant = context.tenants[0];
  const user = tenant?.user_tokens[0];
  if (!tenant || !user)
    throw new GateCannotRun('no demo tenant with a user token', 'seed one: wuzctl seed --demo');
  const files = await webAppFiles(context.url);
  context.progress(`checking ${files.length} web files, the API, errors and /metrics`);

  for (const file of files) {
    const reply = await get(`${context.url}${file}`);
    const where = file;
    rules.check(reply.status === 200, `${where}: status ${reply.status}`);
    securityHeaders(rules, where, reply);
    noCookieIfPublic(rules, where, reply);
    if (file.startsWith('/assets/')) {
      rules.check(
        header(reply, 'cache-control') === IMMUTABLE,
        `${where}: Cache-Control "${header(reply, 'cache-control')}", expected "${IMMUTABLE}"`,
      );
      continue;
    }
    // Names that stay the same across deploys: a browser or CDN must ask again each time.
    rules.check(
      /no-cache/.test(header(reply, 'cache-control')),
      `${where}: Cache-Control no-cache (got "${header(reply, 'cache-control')}")`,
    );
    const etag = header(reply, 'etag');
    rules.check(
      etag !== '' || header(reply, 'last-modified') !== '',
      `${where}: no validator (ETag or Last-Modified)`,
    );
    if (etag) {
      const again = await get(`${context.url}${file}`, { 'if-none-match': etag });
      rules.check(
        again.status === 304 && again.bytes === 0,
        `${where}: If-None-Match answered ${again.status}, not a bodiless 304`,
      );
    }
  }

  const api: Array<[string, string | undefined]> = [
    ...Object.keys(CACHED_ROUTES).map((route): [string, string] => [
      route,
      route.startsWith('/api/admin/') ? tenant.admin_token : user,
    ]),
    ['/api/me', user],
    ['/api/contacts?per_page=5', user],
    ['/api/openapi.json', undefined],
  ];
  for (const [path, token] of api) {
    const reply = await get(`${context.url}${path}`, token ? { authorization: `Bearer ${token}` } : {});
    rules.check(reply.status === 200, `${path}: status ${reply.status}`);
    securityHeaders(rules, path, reply);
    noCookieIfPublic(rules, path, reply);
    if (path === '/api/openapi.json') {
      rules.check(/no-cache/.test(header(reply, 'cache-control')), `${path}: Cache-Control no-cache`);
    } else {
      rules.check(
        header(reply, 'cache-control') === 'private, no-store',
        `${path}: Cache-Control "${header(reply, 'cache-control')}", expected "private, no-store"`,
      );
    }
  }

  // Errors and misses: never stored by a shared cache, whoever asks.
  const misses: Array<[string, Record<string, string>, number]> = [
    ['/assets/missing-0000000.js', {}, 404],
    ['/no-such-file.png', {}, 404],
    ['/api/nope', { authorization: `Bearer ${user}` }, 404],
    ['/api/session/agents', {}, 401],
    ['/api/session/agents', { authorization: `Bearer ${user}`, 'accept-encoding': 'identity;q=0' }, 406],
  ];
  for (const [path, headers, status] of misses) {
    const reply = await get(`${context.url}${path}`, headers);
    const where = `${path} (${status})`;
    rules.check(reply.status === status, `${where}: status ${reply.status}`);
    notStored(rules, where, reply);
    securityHeaders(rules, where, reply);
  }

  const metrics = await get(context.metricsUrl);
  rules.check(metrics.status === 200, `/metrics: status ${metrics.status}`);
  notStored(rules, '/metrics', metrics);

  const holding = rules.checked - rules.failures.length;
  const figure = round(holding / rules.checked, 3) ?? 0;
  return {
    gate: 'cdn',
    pass: figure >= config.threshold,
    figure,
    threshold: config.threshold,
    unit: 'rules holding',
    details: {
      summary: `${holding}/${rules.checked} header rules hold over ${files.length} web files, ${api.length} API routes, ${misses.length} errors and /metrics`,
      failures: rules.failures.slice(0, 50),
      rules: rules.checked,
    },
  };
}

export const cdnGate: Gate<CdnGateSettings> = {
  name: 'cdn',
  description:
    'Cache-Control per class (immutable assets, revalidated pages, private API, unstored errors), validators, security headers',
  unit: 'rules holding',
  direction: 'min',
  settings,
  defaults: { threshold: 1 },
  run: runCdnGate,
};
