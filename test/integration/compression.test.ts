import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppHarness, type HarnessTenant, startAppHarness } from '../helpers/appHarness.ts';
import { rawRequest } from '../helpers/rawHttp.ts';

/** Brotli and gzip of dynamic responses, over real HTTP to the in-process app. */
let harness: AppHarness;
let tenant: HarnessTenant;
let auth: Record<string, string>;

beforeAll(async () => {
  harness = await startAppHarness({ flags: { rateLimit: 'off' } });
  tenant = await harness.tenant('enterprise');
  auth = { authorization: `Bearer ${tenant.userToken}` };
  const contacts = Array.from({ length: 60 }, (_, i) => ({
    phone: `+55119${String(10_000_000 + i)}`,
    name: `Contact ${i}`,
    variables: { city: 'São Paulo', first_name: `Name${i}` },
  }));
  const created = await fetch(`${harness.url}/api/contacts`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(contacts),
  });
  expect(created.status).toBe(201);
});
afterAll(async () => {
  await harness?.close();
});

const list = () => `${harness.url}/api/contacts?per_page=60`;

describe('dynamic responses are compressed as the client accepts', () => {
  it('br, gzip and identity decode to exactly the same body, with Vary on each', async () => {
    const identity = await rawRequest(list(), { headers: auth });
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body.length).toBeGreaterThan(4096);
    for (const [header, encoding] of [
      ['br', 'br'],
      ['gzip', 'gzip'],
      ['gzip, deflate, br', 'br'],
      ['br;q=0, gzip', 'gzip'],
      ['br;q=0.5, gzip;q=0.9', 'gzip'],
      ['gzip;q=0.5, identity', undefined],
      ['identity', undefined],
      ['*', 'br'],
    ] as const) {
      const reply = await rawRequest(list(), { headers: { ...auth, 'accept-encoding': header } });
      expect(reply.status, header).toBe(200);
      expect(reply.headers['content-encoding'], header).toBe(encoding);
      expect(reply.headers.vary, header).toMatch(/accept-encoding/i);
      expect(reply.body.equals(identity.body), header).toBe(true);
      if (encoding) {
        expect(reply.wire.length, header).toBeLessThan(identity.body.length / 3);
        // Sent whole, compressed in one piece: its length is known up front.
        expect(Number(reply.headers['content-length']), header).toBe(reply.wire.length);
      }
    }
  });

  it('brotli beats gzip on the same answer', async () => {
    const br = await rawRequest(list(), { headers: { ...auth, 'accept-encoding': 'br' } });
    const gzip = await rawRequest(list(), { headers: { ...auth, 'accept-encoding': 'gzip' } });
    expect(br.wire.length).toBeLessThan(gzip.wire.length);
  });

  it('answers 406 when identity and every coding it has are refused', async () => {
    for (const header of ['identity;q=0', '*;q=0', 'identity;q=0, deflate']) {
      const reply = await rawRequest(list(), { headers: { ...auth, 'accept-encoding': header } });
      expect(reply.status, header).toBe(406);
      expect(JSON.parse(reply.body.toString()).error.code).toBe('not_acceptable');
    }
  });

  it('leaves small bodies alone (still saying they vary) and errors are compressed like answers', async () => {
    const health = await rawRequest(`${harness.url}/healthz`, { headers: { 'accept-encoding': 'br' } });
    expect(health.headers['content-encoding']).toBeUndefined();
    expect(health.headers.vary).toMatch(/accept-encoding/i);
    expect(JSON.parse(health.body.toString())).toEqual({ status: 'ok' });
    const bad = await rawRequest(`${list()}&per_page=abc`, { headers: { ...auth, 'accept-encoding': 'br' } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error.code).toBe('invalid_request');
  });

  it('compresses /metrics and the OpenAPI document; a HEAD sends no body', async () => {
    const metrics = await rawRequest(`${harness.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-encoding']).toBe('gzip');
    expect(metrics.body.toString()).toContain('# HELP');
    const doc = await rawRequest(`${harness.url}/api/openapi.json`, { headers: { 'accept-encoding': 'br' } });
    expect(doc.headers['content-encoding']).toBe('br');
    expect(JSON.parse(doc.body.toString()).openapi).toBe('3.1.0');
    const head = await rawRequest(list(), { method: 'HEAD', headers: { ...auth, 'accept-encoding': 'br' } });
    expect(head.status).toBe(200);
    expect(head.wire.length).toBe(0);
    expect(head.headers.vary).toMatch(/accept-encoding/i);
  });
});

describe('--compression off', () => {
  it('sends every answer as it is, whatever the client accepts', async () => {
    const off = await startAppHarness({ flags: { compression: 'off' } });
    try {
      const owner = await off.tenant('enterprise');
      const reply = await rawRequest(`${off.url}/api/openapi.json`, {
        headers: { authorization: `Bearer ${owner.userToken}`, 'accept-encoding': 'br, gzip' },
      });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBeUndefined();
      expect(reply.body.length).toBeGreaterThan(100_000);
      const refused = await rawRequest(`${off.url}/healthz`, {
        headers: { 'accept-encoding': 'identity;q=0' },
      });
      expect(refused.status).toBe(200);
    } finally {
      await off.close();
    }
  });
});

describe('a CSV report download', () => {
  let reportId: string;
  const csvBytes = 24 * 1024 * 1024;

  beforeAll(async () => {
    // A finished report with a large CSV, written straight into the harness's database
    // (no queue worker runs here).
    const line = 'campaign,Name with, some text,sent,42,delivered,0.875,2026-12-03T12:00:00Z\n';
    const csv = line.repeat(Math.ceil(csvBytes / line.length));
    const owner = await harness.pool.query<{ id: string }>(
      `SELECT u.id FROM users u JOIN api_tokens t ON t.user_id = u.id WHERE t.prefix = $1`,
      [tenant.userToken.split('_')[1]],
    );
    const { rows } = await harness.pool.query<{ id: string }>(
      `INSERT INTO reports (tenant_id, owner_id, kind, scope, period_from, period_to, status, columns, rows, csv, row_count, finished_at)
       VALUES ($1, $2, 'usage', 'owner', now() - interval '1 day', now(), 'completed', '{a}', '[]', $3, 1, now())
       RETURNING id`,
      [tenant.id, owner.rows[0]?.id, csv],
    );
    reportId = rows[0]?.id as string;
  });

  it('streams compressed as it is produced, decoding to the stored CSV, without holding it in memory', async () => {
    const url = `${harness.url}/api/reports/${reportId}?format=csv`;
    let peak = 0;
    const base = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }, 5);
    const hash = await new Promise<{ bytes: number; encoding?: string; chunked: boolean }>(
      (resolve, reject) => {
        http
          .get(url, { headers: { ...auth, 'accept-encoding': 'br' } }, (res) => {
            let bytes = 0;
            const decoder = zlib.createBrotliDecompress();
            res.pipe(decoder);
            decoder.on('data', (chunk: Buffer) => {
              bytes += chunk.length;
            });
            decoder.on('end', () =>
              resolve({
                bytes,
                encoding: res.headers['content-encoding'],
                chunked: res.headers['transfer-encoding'] === 'chunked',
              }),
            );
            decoder.on('error', reject);
          })
          .on('error', reject);
      },
    );
    clearInterval(sampler);
    expect(hash.encoding).toBe('br');
    expect(hash.chunked).toBe(true);
    const stored = await harness.pool.query<{ length: number }>(
      'SELECT octet_length(csv)::int AS length FROM reports WHERE id = $1',
      [reportId],
    );
    expect(hash.bytes).toBe(stored.rows[0]?.length);
    // The whole CSV as one string would be 24 MB and more on the heap.
    expect(peak).toBeLessThan(csvBytes / 2);
  });

  it("answers HEAD with the download's headers and no body", async () => {
    const head = await rawRequest(`${harness.url}/api/reports/${reportId}?format=csv`, {
      method: 'HEAD',
      headers: { ...auth, 'accept-encoding': 'br' },
    });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toContain('text/csv');
    expect(head.headers['content-disposition']).toMatch(/^attachment; filename="?usage-\d{4}-\d{2}-\d{2}/);
    expect(head.wire.length).toBe(0);
  });

  it('stops reading when the client disconnects, and the next request is served', async () => {
    const url = `${harness.url}/api/reports/${reportId}?format=csv`;
    await new Promise<void>((resolve) => {
      const req = http.get(url, { headers: { ...auth, 'accept-encoding': 'gzip' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => resolve());
    });
    const active = async () =>
      (
        await harness.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT substr(csv%' AND state = 'active'",
        )
      ).rows[0]?.n ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await active()).toBe(0);
    const after = await rawRequest(`${harness.url}/api/me`, { headers: auth });
    expect(after.status).toBe(200);
  });
});
