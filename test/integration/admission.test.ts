import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetTokens } from '../../src/daemon/auth/authCache.ts';
import { parseToken } from '../../src/daemon/auth/tokens.ts';
import { type AppHarness, type HarnessTenant, startAppHarness } from '../helpers/appHarness.ts';

// The admission round trip (src/daemon/api/admission/script.ts) on the in-process app
// with the machine's Redis: what it saves must never weaken what it replaced.

let harness: AppHarness;
let tenant: HarnessTenant;
let other: HarnessTenant;
let commands = 0;

const get = (path: string, token: string, encoding = 'identity') =>
  fetch(`${harness.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, 'accept-encoding': encoding },
  });
const prefixOf = (token: string) => parseToken(token)?.prefix as string;
const windowCount = async (tenantId: string) => Number(await harness.redis.get(`wuz:rl:tenant:${tenantId}`));

beforeAll(async () => {
  // The limit is high enough never to refuse: these tests look at what it counts.
  harness = await startAppHarness({ flags: { rateLimitWindow: '600' } });
  tenant = await harness.tenant('enterprise');
  other = await harness.tenant('enterprise');
  // Every command the app sends to Redis, for the round-trip count.
  const send = harness.redis.sendCommand.bind(harness.redis);
  harness.redis.sendCommand = ((...args: Parameters<typeof send>) => {
    commands++;
    return send(...args);
  }) as typeof send;
});
afterAll(() => harness?.close());

describe('the admission round trip', () => {
  it('answers a cached, authenticated, counted GET with one Redis command once the token is known', async () => {
    // The first requests load the token, the script and the entry.
    for (let i = 0; i < 3; i++) expect((await get('/api/session/agents', tenant.userToken)).status).toBe(200);
    const counted = await windowCount(tenant.id);
    commands = 0;
    for (let i = 0; i < 10; i++) {
      const answer = await get('/api/session/agents', tenant.userToken);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-cache')).toBe('HIT');
      expect(answer.headers.get('x-ratelimit-limit')).toBe(
        String(harness.config.rateLimit.perPlan.enterprise),
      );
    }
    expect(commands).toBe(10);
    // Every one of them was counted against the tenant, exactly.
    expect(await windowCount(tenant.id)).toBe(counted + 10);
  });

  it('answers a hit from the fast path with the headers the app gives a miss', async () => {
    const path = `/api/session/agents?q=${Date.now()}`;
    const miss = await get(path, tenant.userToken);
    const hit = await get(path, tenant.userToken);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(await hit.text()).toBe(await miss.text());
    // Per response: its id, date, length, the window's count and reset.
    const varying = new Set([
      'x-request-id',
      'date',
      'content-length',
      'x-cache',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
      'ratelimit',
    ]);
    const fixed = (answer: Response) =>
      Object.fromEntries([...answer.headers].filter(([name]) => !varying.has(name)));
    expect(fixed(hit)).toEqual(fixed(miss));
    expect(Object.keys(fixed(hit))).toEqual(
      expect.arrayContaining([
        'content-security-policy',
        'x-frame-options',
        'cache-control',
        'ratelimit-policy',
        'vary',
      ]),
    );
    expect(hit.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // A request id a proxy sent is kept, as the app keeps it.
    const traced = await fetch(`${harness.url}${path}`, {
      headers: { authorization: `Bearer ${tenant.userToken}`, 'x-request-id': 'edge-123' },
    });
    expect(traced.headers.get('x-cache')).toBe('HIT');
    expect(traced.headers.get('x-request-id')).toBe('edge-123');
  });

  it('sends a hit byte for byte, whatever the text holds', async () => {
    // Multi-byte UTF-8 (accents, CJK, an emoji, a joiner): the fast path writes the stored
    // bytes as latin1 text, which must map each byte to itself.
    const name = 'Équipe São Paulo — 東京 👩‍💻 ÿ';
    const created = await fetch(`${harness.url}/api/session/teams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.userToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    expect(created.status).toBe(201);
    const miss = await get('/api/session/teams', other.userToken);
    const hit = await get('/api/session/teams', other.userToken);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    const bytes = Buffer.from(await hit.arrayBuffer());
    expect(bytes.equals(Buffer.from(await miss.arrayBuffer()))).toBe(true);
    expect(Number(hit.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes.toString('utf8')).toContain(name);
  });

  it('refuses a revoked token at the next request, though the worker remembers it', async () => {
    const token = (await harness.tenant('free')).userToken;
    expect((await get('/api/session/teams', token)).status).toBe(200);
    await harness.pool.query('UPDATE api_tokens SET revoked_at = now() WHERE prefix = $1', [prefixOf(token)]);
    // What `wuzctl tokens revoke` does after the update: drop the cached entry.
    await forgetTokens(harness.redis, [prefixOf(token)]);
    const answer = await get('/api/session/teams', token);
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('never takes a forged auth entry for the remembered one, nor serves another tenant', async () => {
    expect((await get('/api/session/agents', tenant.userToken)).status).toBe(200);
    const key = `wuz:auth:${prefixOf(tenant.userToken)}`;
    // Whoever can write to Redis swaps the entry for one naming the other tenant.
    const forged = (await harness.redis.get(`wuz:auth:${prefixOf(other.userToken)}`)) ?? 'x.{}';
    await harness.redis.set(key, forged, 'EX', 60);
    const before = await windowCount(other.id);
    const answer = await get('/api/session/agents', tenant.userToken);
    expect(answer.status).toBe(200);
    // Served as the token's own tenant (the database decided), and the other's window untouched.
    expect(answer.headers.get('ratelimit-policy')).toBe(
      (await get('/api/session/agents', tenant.adminToken)).headers.get('ratelimit-policy'),
    );
    expect(await windowCount(other.id)).toBe(before);
    // The entry is the genuine one again.
    expect(await harness.redis.get(key)).not.toBe(forged);
  });

  it('counts nothing for a remembered prefix with a wrong secret', async () => {
    expect((await get('/api/session/roles', tenant.userToken)).status).toBe(200);
    const before = await windowCount(tenant.id);
    const parsed = parseToken(tenant.userToken);
    const wrong = `wuz_${parsed?.prefix}_${'A'.repeat(43)}`;
    for (let i = 0; i < 3; i++) expect((await get('/api/session/roles', wrong)).status).toBe(401);
    expect(await windowCount(tenant.id)).toBe(before);
  });

  it('keeps a compressed copy of a cached answer and sends it to the clients that accept it', async () => {
    // Enough teams for the list to pass the compression threshold.
    for (let i = 0; i < 15; i++) {
      const created = await fetch(`${harness.url}/api/session/teams`, {
        method: 'POST',
        headers: { authorization: `Bearer ${other.userToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `a team with a long enough name to compress ${i}` }),
      });
      expect(created.status).toBe(201);
    }
    const plain = await get('/api/session/teams?per_page=50', other.userToken);
    const json = await plain.text();
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(json.length).toBeGreaterThan(harness.config.compression.thresholdBytes);
    for (const coding of ['br', 'gzip'] as const) {
      const first = await get('/api/session/teams?per_page=50', other.userToken, coding);
      const again = await get('/api/session/teams?per_page=50', other.userToken, coding);
      for (const answer of [first, again]) {
        expect(answer.headers.get('x-cache')).toBe('HIT');
        expect(answer.headers.get('content-encoding')).toBe(coding);
        expect(answer.headers.get('vary')).toMatch(/Accept-Encoding/i);
      }
      // fetch decodes: the bytes are the same JSON whichever copy sent them.
      expect(await first.text()).toBe(json);
      expect(await again.text()).toBe(json);
      const copies = await harness.redis.keys(`wuz:cache:{t:${other.id}}:/api/session/teams:*|${coding}`);
      expect(copies.length).toBe(1);
      const stored = (await harness.redis.getBuffer(copies[0] as string)) as Buffer;
      const decoded = coding === 'br' ? zlib.brotliDecompressSync(stored) : zlib.gunzipSync(stored);
      expect(decoded.toString()).toBe(json);
    }
    // A write retires the entry and its copies together: the next read shows the write.
    await fetch(`${harness.url}/api/session/teams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.userToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'the newest team' }),
    });
    const fresh = await get('/api/session/teams?per_page=50', other.userToken, 'br');
    expect(await fresh.text()).toContain('the newest team');
  });
});
