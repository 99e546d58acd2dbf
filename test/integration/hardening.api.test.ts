import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupDaemons,
  type Daemon,
  embeddedEnv,
  type SeededTenant,
  seedDemo,
  startDaemon,
} from '../helpers/daemon.ts';

/**
 * What the API answers to hostile or broken input, and what it trusts about who is
 * calling — over real daemons on loopback.
 */
let plain: Daemon;
let proxied: Daemon;
let tenants: SeededTenant[];
let proxiedTenants: SeededTenant[];

beforeAll(async () => {
  [plain, proxied] = await Promise.all([
    startDaemon({ env: embeddedEnv, apiWorkers: 1, queueWorkers: 0 }),
    startDaemon({
      env: embeddedEnv,
      apiWorkers: 1,
      queueWorkers: 0,
      args: ['--trust-proxy', 'loopback', '--hsts', 'on'],
    }),
  ]);
  tenants = await seedDemo(plain.dataDir, 2);
  proxiedTenants = await seedDemo(proxied.dataDir, 1);
});
afterAll(cleanupDaemons);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A raw request: node:http lets a test send what fetch refuses (huge headers, any body). */
function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const errorCode = (reply: Reply) => JSON.parse(reply.text).error.code as string;

describe('hostile input gets the documented JSON error', () => {
  it('JSON nested 8,000 levels deep: 400 json_too_deep on every JSON route, no stack trace logged', async () => {
    const deep = `${'['.repeat(8000)}${']'.repeat(8000)}`;
    const deepObject = `${'{"a":'.repeat(8000)}1${'}'.repeat(8000)}`;
    for (const [path, body] of [
      ['/api/session/teams', deep],
      ['/api/contacts', deepObject],
      ['/api/campaigns', deepObject],
    ] as const) {
      const reply = await request(`${plain.url}${path}`, {
        method: 'POST',
        headers: { ...bearer(tenants[0]?.admin_token ?? ''), 'content-type': 'application/json' },
        body,
      });
      expect(reply.status, `${path}: ${reply.text}`).toBe(400);
      expect(errorCode(reply)).toBe('json_too_deep');
    }
    // A body of ordinary depth still goes through.
    const team = await request(`${plain.url}/api/session/teams`, {
      method: 'POST',
      headers: { ...bearer(tenants[0]?.admin_token ?? ''), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'deep enough' }),
    });
    expect(team.status).toBe(201);
    expect(plain.stdout() + plain.stderr()).not.toMatch(/RangeError|Maximum call stack|unhandled error/);
  });

  it('a 20 KB query string or an oversized header: 431 with the JSON body, not a bare status line', async () => {
    const longQuery = await request(`${plain.url}/api/session/agents?q=${'x'.repeat(20_000)}`, {
      headers: bearer(tenants[0]?.admin_token ?? ''),
    });
    const bigHeader = await request(`${plain.url}/healthz`, { headers: { 'x-padding': 'y'.repeat(20_000) } });
    for (const reply of [longQuery, bigHeader]) {
      expect(reply.status).toBe(431);
      expect(reply.headers['content-type']).toMatch(/^application\/json/);
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(errorCode(reply)).toBe('headers_too_large');
      expect(JSON.parse(reply.text).error.message).toMatch(/16 KB/);
    }
    // The daemon is fine afterwards.
    expect((await request(`${plain.url}/healthz`)).status).toBe(200);
  });

  it('malformed HTTP: 400 bad_request as JSON', async () => {
    const net = await import('node:net');
    const { port } = new URL(plain.url);
    const text = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () =>
        socket.write('GET / HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n'),
      );
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk;
      });
      socket.on('close', () => resolve(received));
    });
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code).toBe('bad_request');
  });
});

describe('security headers', () => {
  it('every response carries nosniff, a restrictive CSP with frame-ancestors and Referrer-Policy; no HSTS unless asked', async () => {
    const token = tenants[0]?.admin_token ?? '';
    const replies = {
      api: await request(`${plain.url}/api/session/agents`, { headers: bearer(token) }),
      apiError: await request(`${plain.url}/api/session/agents`),
      notFound: await request(`${plain.url}/api/nothing-here`, { headers: bearer(token) }),
      probe: await request(`${plain.url}/healthz`),
      web: await request(`${plain.url}/`, { headers: { accept: 'text/html' } }),
    };
    for (const [name, reply] of Object.entries(replies)) {
      expect(reply.headers['x-content-type-options'], name).toBe('nosniff');
      expect(reply.headers['content-security-policy'], name).toMatch(/frame-ancestors 'none'/);
      expect(reply.headers['content-security-policy'], name).toMatch(/default-src '(none|self)'/);
      expect(reply.headers['referrer-policy'], name).toBe('no-referrer');
      expect(reply.headers['x-frame-options'], name).toBe('DENY');
      expect(reply.headers['strict-transport-security'], name).toBeUndefined();
    }
    // JSON is never a document: nothing may load from it.
    expect(replies.api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(replies.notFound.headers['content-security-policy']).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    // What acts only on a rendered document goes with the page, never with JSON.
    for (const name of ['cross-origin-opener-policy', 'x-dns-prefetch-control', 'x-xss-protection']) {
      expect(replies.web.headers[name], name).toBeDefined();
      for (const json of [replies.api, replies.apiError, replies.notFound])
        expect(json.headers[name], name).toBeUndefined();
    }
    expect(replies.api.headers['cross-origin-resource-policy']).toBe('same-origin');
    // Express routes paths case-insensitively: /API/… is the API too, with its headers.
    const upper = await request(`${plain.url}/API/session/agents`, { headers: bearer(token) });
    expect(upper.status).toBe(200);
    expect(upper.headers['cache-control']).toBe('private, no-store');
    expect(upper.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(upper.headers['x-dns-prefetch-control']).toBeUndefined();
    const hsts = await request(`${proxied.url}/healthz`);
    expect(hsts.headers['strict-transport-security']).toBe('max-age=31536000');
  });
});

describe('who is calling: bad-token floods and proxies', () => {
  it('a flood of bad tokens from one address never refuses the valid tokens of two tenants, cached or not', async () => {
    const bad = (i: number) => `wuz_${i.toString(16).padStart(12, '0')}_${'b'.repeat(43)}`;
    const flood = Array.from({ length: 400 }, (_, i) =>
      request(`${plain.url}/api/session/agents`, { headers: bearer(bad(i)) }),
    );
    // Meanwhile, and after: tokens of two tenants never used before (not in the auth cache).
    const valid = [
      tenants[0]?.user_tokens[1],
      tenants[1]?.user_tokens[1],
      tenants[1]?.user_tokens[2],
    ] as string[];
    const during = await Promise.all(
      valid.map((token) => request(`${plain.url}/api/session/agents`, { headers: bearer(token) })),
    );
    const flooded = await Promise.all(flood);
    const after = await Promise.all(
      [...valid, tenants[0]?.admin_token as string].map((token) =>
        request(`${plain.url}/api/session/agents`, { headers: bearer(token) }),
      ),
    );
    expect([...during, ...after].map((reply) => reply.status)).toEqual(Array(7).fill(200));
    // The guessing itself is slowed down: past the limit, failures are 429 with Retry-After.
    const statuses = flooded.map((reply) => reply.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(300);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(Number(flooded.find((reply) => reply.status === 429)?.headers['retry-after'])).toBeGreaterThan(0);
    // Without --trust-proxy, X-Forwarded-For is not a way out of the limit.
    const spoofed = await request(`${plain.url}/api/session/agents`, {
      headers: { ...bearer(bad(9999)), 'x-forwarded-for': '198.51.100.77' },
    });
    expect(spoofed.status).toBe(429);
  });

  it('with --trust-proxy, the limit is per real client behind the proxy', async () => {
    const badToken = `wuz_${'c'.repeat(12)}_${'c'.repeat(43)}`;
    const from = (client: string, token = badToken) =>
      request(`${proxied.url}/api/session/agents`, {
        headers: { ...bearer(token), 'x-forwarded-for': client },
      });
    const noisy = [];
    for (let i = 0; i < 40; i++) noisy.push((await from('198.51.100.1')).status);
    expect(noisy.at(-1)).toBe(429);
    // Another client behind the same proxy is judged on its own.
    expect((await from('198.51.100.2')).status).toBe(401);
    expect((await from('198.51.100.1', proxiedTenants[0]?.admin_token)).status).toBe(200);
  });

  it('/metrics: a request a same-host proxy forwarded is not local; with --trust-proxy its real client decides', async () => {
    expect((await request(`${plain.url}/metrics`)).status).toBe(200);
    const forwarded = await request(`${plain.url}/metrics`, {
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(forwarded.status).toBe(403);
    expect(errorCode(forwarded)).toBe('forbidden');
    for (const header of ['forwarded', 'x-real-ip', 'cf-connecting-ip']) {
      expect(
        (await request(`${plain.url}/metrics`, { headers: { [header]: 'for=203.0.113.9' } })).status,
      ).toBe(403);
    }
    const remote = await request(`${proxied.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(remote.status).toBe(403);
    const local = await request(`${proxied.url}/metrics`, { headers: { 'x-forwarded-for': '127.0.0.1' } });
    expect(local.status).toBe(200);
  });
});
