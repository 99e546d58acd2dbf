import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/output.ts';
import { loadVerifyConfig } from '../../src/cli/verify/config.ts';
import type { GateContext } from '../../src/cli/verify/gate.ts';
import { cacheGate } from '../../src/cli/verify/gates/cache.ts';
import { type Outcome, renderJunit } from '../../src/cli/verify/report.ts';
import { exitCodeOf, toJson } from '../../src/cli/verify/runner.ts';
import type { CacheSummary } from '../../src/daemon/cache/summary.ts';
import { prng, zipf } from '../../src/random.ts';

async function configFile(content: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wuzv-'));
  const file = path.join(dir, 'verify.json');
  await writeFile(file, content);
  return file;
}

describe('verify config', () => {
  it('defaults to the plan’s threshold and accepts a tighter one with other settings', async () => {
    const plain = await loadVerifyConfig(undefined, [cacheGate as never]);
    expect(plain.settings.get('cache')).toMatchObject({ threshold: 0.7, writeRatio: 0.05 });
    const file = await configFile('{"tenants": 3, "gates": {"cache": {"threshold": 0.9, "requests": 500}}}');
    const tight = await loadVerifyConfig(file, [cacheGate as never]);
    expect(tight.tenants).toBe(3);
    expect(tight.settings.get('cache')).toMatchObject({ threshold: 0.9, requests: 500, concurrency: 16 });
  });

  it.each([
    ['{"gates": {"cache": {"threshold": 0.5}}}', /looser than the plan's 0.7/],
    ['{"gates": {"cache": {"requests": "many"}}}', /requests/],
    ['{"gates": {"cache": {"colour": "blue"}}}', /colour/],
    ['{"gates": {"nope": {}}}', /unknown gate "nope"/],
    ['{"tenant": 3}', /tenant/],
    ['{not json', /not valid JSON/],
  ])('refuses %s', async (content, message) => {
    const file = await configFile(content);
    const error = await loadVerifyConfig(file, [cacheGate as never]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toMatch(message);
  });
});

describe('verify report', () => {
  const outcome = (over: Partial<Outcome>): Outcome => ({
    gate: 'cache',
    pass: true,
    figure: 0.93,
    threshold: 0.7,
    unit: 'hit rate',
    details: {},
    seconds: 1.5,
    ...over,
  });

  it('exits 0 when all pass, 1 when one failed, 2 when one could not run and none failed', () => {
    expect(exitCodeOf([outcome({})])).toBe(0);
    expect(exitCodeOf([outcome({}), outcome({ pass: false })])).toBe(1);
    expect(exitCodeOf([outcome({}), outcome({ pass: false, figure: null, error: 'no chromium' })])).toBe(2);
    expect(exitCodeOf([outcome({ pass: false }), outcome({ pass: false, error: 'x' })])).toBe(1);
  });

  it('prints exactly {pass, gates:[{gate, pass, figure, threshold, unit, details}]}', () => {
    const json = toJson([
      outcome({}),
      outcome({ gate: 'pwa', pass: false, figure: null, error: 'no chromium', hint: 'apt install chromium' }),
    ]);
    expect(Object.keys(json)).toEqual(['pass', 'gates']);
    expect(json.pass).toBe(false);
    for (const gate of json.gates)
      expect(Object.keys(gate)).toEqual(['gate', 'pass', 'figure', 'threshold', 'unit', 'details']);
    expect(json.gates[1]?.details).toMatchObject({
      error: 'no chromium',
      hint: 'apt install chromium',
      seconds: 1.5,
    });
  });

  it('writes JUnit XML with a failure and an error element, escaped', () => {
    const xml = renderJunit([
      outcome({}),
      outcome({ gate: 'bundle', pass: false, details: { failures: ['initial <script> & "css" too big'] } }),
      outcome({ gate: 'pwa', pass: false, figure: null, error: 'chromium not found' }),
    ]);
    expect(xml).toMatch(/<testsuites name="wuzctl verify" tests="3" failures="1" errors="1"/);
    expect(xml).toContain('<failure message="initial &lt;script&gt; &amp; &quot;css&quot; too big"/>');
    expect(xml).toContain('<error message="chromium not found">');
    expect(xml).not.toMatch(/<script>/);
  });
});

describe('seeded randomness', () => {
  it('repeats the same sequence for the same seed and skews towards low ranks', () => {
    const draw = (seed: string) => {
      const next = zipf(20, 1.1, prng(seed));
      return Array.from({ length: 5000 }, next);
    };
    const a = draw('x');
    expect(draw('x')).toEqual(a);
    expect(draw('y')).not.toEqual(a);
    const counts = Array.from({ length: 20 }, (_, k) => a.filter((r) => r === k).length);
    expect(Math.min(...a)).toBe(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(19);
    // P(0)/P(19) = 20^1.1 ≈ 27: the head must clearly dominate the tail.
    expect(counts[0]).toBeGreaterThan(5 * (counts[19] as number));
    expect(counts[0]).toBeGreaterThan(counts[1] as number);
  });
});

/**
 * A deliberately broken API that speaks the routes the cache gate uses: proves the gate's
 * own checks catch what they claim to (the real daemon is exercised in integration tests).
 */
function brokenApi(mode: 'stale' | 'errors'): Promise<{ url: string; close(): Promise<void> }> {
  // Each token holder has their own rows, as on the real API.
  const names = new Map<string, string>();
  let reads = 0;
  let settingsKey = 'pk_test_x';
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (status: number, value: unknown, cache?: string) => {
        res.writeHead(status, { 'content-type': 'application/json', ...(cache ? { 'x-cache': cache } : {}) });
        res.end(JSON.stringify(value));
      };
      const who = req.headers.authorization ?? '';
      const list = (id: string) => ({
        data: [{ id, name: names.get(`${who}:${id}`) ?? 'seeded' }],
        total: 1,
      });
      if (req.method === 'PATCH') {
        // The write "succeeds", and in stale mode reads keep showing the old name.
        const id = url.pathname.split('/').pop() as string;
        if (mode !== 'stale') names.set(`${who}:${id}`, JSON.parse(body).name);
        return send(200, { id });
      }
      if (req.method === 'PUT') {
        if (mode !== 'stale') settingsKey = JSON.parse(body).publishable_key;
        return send(200, {});
      }
      if (req.method !== 'GET') return send(200, {});
      reads++;
      // Past the gate's set-up reads, one in ten fails.
      if (mode === 'errors' && reads > 20 && reads % 10 === 0)
        return send(503, { error: { code: 'unavailable', message: 'x' } });
      switch (url.pathname) {
        case '/api/admin/plans':
          return send(200, { data: [{ id: 'p1', name: 'Starter', limits: { max_agents: 3 } }] });
        case '/api/admin/users':
          return send(200, { data: [] });
        case '/api/session/teams':
          return send(200, list('t1'), 'HIT');
        case '/api/session/roles':
          return send(200, list('r1'), 'HIT');
        case '/api/session/agents':
          return send(200, list('a1'), 'HIT');
        default:
          return send(200, { publishable_key: settingsKey }, 'MISS');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

describe('the cache gate’s own checks', () => {
  let close: () => Promise<void> = async () => {};
  afterEach(() => close());

  const counters = (hits: number): CacheSummary => ({
    enabled: true,
    hits,
    misses: 10,
    loads: 10,
    errors: 0,
    hitRate: null,
    routes: {},
  });

  async function runAgainst(mode: 'stale' | 'errors') {
    const api = await brokenApi(mode);
    close = api.close;
    let calls = 0;
    const context: GateContext = {
      url: api.url,
      metricsUrl: `${api.url}/metrics`,
      tenants: [{ slug: 'demo-1', plan: 'free', admin_token: 'a', user_tokens: ['u1'] }],
      fakeWuzapi: null,
      traces: null,
      // Counters that say "all hits": only the gate's own checks can fail it.
      cacheCounters: async () => counters(calls++ < 2 ? 0 : 1_000_000),
      progress: () => {},
      wait: (_message, ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
    return cacheGate.run(context, { ...cacheGate.defaults, requests: 400, concurrency: 4, writeRatio: 0.2 });
  }

  it('fails on a read that does not show a write that answered 200', async () => {
    const result = await runAgainst('stale');
    expect(result.pass).toBe(false);
    expect(result.figure).toBeGreaterThan(0.99);
    expect((result.details.stale as string[]).length).toBeGreaterThan(0);
    expect(result.details.failures).toEqual(expect.arrayContaining([expect.stringMatching(/stale reads/)]));
  });

  it('fails on any 5xx', async () => {
    const result = await runAgainst('errors');
    expect(result.pass).toBe(false);
    expect(result.details.server_errors).toBeGreaterThan(0);
    expect(result.details.stale).toEqual([]);
  });
});
