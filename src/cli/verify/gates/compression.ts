import type { IncomingHttpHeaders } from 'node:http';
import zlib from 'node:zlib';
import { z } from 'zod';
import { negotiateEncoding } from '../../../daemon/api/compression/negotiate.ts';
import { CACHED_ROUTES } from '../../../daemon/cache/cachedRoute.ts';
import http from '../../../nodeHttp.ts';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { round } from '../http.ts';
import { webAppFiles } from '../webFiles.ts';

/**
 * Gate `compression`: the mix a client fetches — every cached API route, a list route, a
 * report's CSV, /metrics and every file of the web app — each with br, gzip, identity and
 * q-value headers. Each answer must carry the coding RFC 9110 negotiation picks (identity
 * for bodies under the threshold and for types not worth compressing), decode to exactly
 * the identity body, and say `Vary: Accept-Encoding` when it is negotiable. The figure is
 * how much smaller the whole mix is in br than with gzip level 6 (what `compression()`
 * sent), also per class.
 */
const settings = z
  .object({
    /** Percent: how much smaller the br mix must be than gzip-6 (the plan: 15–20%). */
    threshold: z.number().min(0).max(100),
    /** Bodies under this many bytes must go out uncompressed (the daemon's --compression-threshold). */
    smallBytes: z.number().int().min(0),
  })
  .strict();
export type CompressionGateSettings = z.infer<typeof settings>;

/** Headers tried on each URL besides the three plain ones. */
const HEADERS = [
  'br',
  'gzip',
  'identity',
  'br;q=0, gzip',
  'gzip;q=0.9, br;q=0.5',
  'gzip;q=0.5, identity',
  '*',
];
const COMPRESSIBLE = /^(?:text\/|application\/(?:json|javascript|manifest\+json)|image\/svg\+xml)/;

type Class = 'api' | 'csv' | 'metrics' | 'html' | 'js' | 'css' | 'other';

interface Target {
  url: string;
  token?: string;
  class: Class;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  wire: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function fetchRaw(url: string, acceptEncoding: string | undefined, token?: string): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (acceptEncoding !== undefined) headers['accept-encoding'] = acceptEncoding;
  if (token) headers.authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, wire: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function decode(reply: Reply): Buffer {
  const coding = reply.headers['content-encoding'];
  if (coding === 'br') return zlib.brotliDecompressSync(reply.wire);
  if (coding === 'gzip') return zlib.gunzipSync(reply.wire);
  return reply.wire;
}

function classOf(path: string, type: string): Class {
  if (type.startsWith('text/html')) return 'html';
  if (type.startsWith('text/css')) return 'css';
  if (type.includes('javascript')) return 'js';
  if (type.startsWith('text/csv')) return 'csv';
  if (path === '/metrics') return 'metrics';
  if (type.startsWith('application/json')) return 'api';
  return 'other';
}

/** The URLs of the mix, with the token each needs. */
async function targets(context: GateContext): Promise<Target[]> {
  const tenant = context.tenants[0];
  const user = tenant?.user_tokens[0];
  if (!tenant || !user)
    throw new GateCannotRun('no demo tenant with a user token', 'seed one: wuzctl seed --demo');
  const list: Target[] = Object.keys(CACHED_ROUTES).map((route) => ({
    url: `${context.url}${route}`,
    token: route.startsWith('/api/admin/') ? tenant.admin_token : user,
    class: 'api',
  }));
  list.push({ url: `${context.url}/api/contacts?per_page=100`, token: user, class: 'api' });
  const reports = await fetchRaw(`${context.url}/api/reports?per_page=100`, 'identity', user);
  const completed = (
    JSON.parse(reports.wire.toString()) as { data?: Array<{ id: string; status: string }> }
  ).data?.find((report) => report.status === 'completed');
  if (!completed)
    throw new GateCannotRun(
      'the demo user has no completed report',
      'seed the demo data: wuzctl seed --demo',
    );
  list.push({ url: `${context.url}/api/reports/${completed.id}?format=csv`, token: user, class: 'csv' });
  list.push({ url: context.metricsUrl, class: 'metrics' });
  for (const file of await webAppFiles(context.url))
    list.push({ url: `${context.url}${file}`, class: 'other' });
  return list;
}

export async function runCompressionGate(
  context: GateContext,
  config: CompressionGateSettings,
): Promise<GateResult> {
  const failures: string[] = [];
  const totals: Record<string, { br: number; gzip6: number; identity: number }> = {};
  const mix = await targets(context);
  context.progress(`fetching ${mix.length} URLs with ${HEADERS.length + 1} Accept-Encoding headers each`);
  for (const target of mix) {
    const path = new URL(target.url).pathname;
    const plain = await fetchRaw(target.url, undefined, target.token);
    if (plain.status !== 200) {
      failures.push(`${path}: ${plain.status} without Accept-Encoding`);
      continue;
    }
    if (plain.headers['content-encoding'])
      failures.push(`${path}: encoded for a client that sent no Accept-Encoding`);
    const identity = plain.wire;
    const type = String(plain.headers['content-type'] ?? '');
    const klass = target.class === 'other' ? classOf(path, type) : target.class;
    const negotiable = COMPRESSIBLE.test(type);
    // A streamed body (no Content-Length: a CSV download) is compressed whatever its size:
    // the size is not known when the headers go out.
    const streamed = plain.headers['content-length'] === undefined;
    const small = !streamed && identity.length < config.smallBytes;
    for (const header of HEADERS) {
      const reply = await fetchRaw(target.url, header, target.token);
      const where = `${path} [${header}]`;
      if (reply.status !== 200) {
        failures.push(`${where}: status ${reply.status}`);
        continue;
      }
      const expected = negotiable && !small ? negotiateEncoding(header) : 'identity';
      const got = reply.headers['content-encoding'] ?? 'identity';
      if (got !== expected) failures.push(`${where}: Content-Encoding ${got}, expected ${expected}`);
      if (negotiable && !/accept-encoding/i.test(String(reply.headers.vary ?? ''))) {
        failures.push(`${where}: no Vary: Accept-Encoding`);
      }
      let body: Buffer;
      try {
        body = decode(reply);
      } catch (error) {
        failures.push(`${where}: does not decode as ${got} (${(error as Error).message})`);
        continue;
      }
      // /metrics moves between requests (its own counters): compare its shape, not its bytes.
      const same =
        klass === 'metrics'
          ? body.toString().split('\n')[0] === identity.toString().split('\n')[0]
          : body.equals(identity);
      if (!same) failures.push(`${where}: decodes to another body than identity's`);
      if (header === 'br') {
        const sums = totals[klass] ?? { br: 0, gzip6: 0, identity: 0 };
        totals[klass] = sums;
        sums.br += reply.wire.length;
        sums.identity += identity.length;
        // What expressjs/compression sent before: gzip level 6 of anything over 1 kB.
        sums.gzip6 +=
          negotiable && identity.length >= 1024
            ? zlib.gzipSync(identity, { level: 6 }).length
            : identity.length;
      }
    }
  }
  const all = Object.values(totals).reduce(
    (sum, t) => ({ br: sum.br + t.br, gzip6: sum.gzip6 + t.gzip6, identity: sum.identity + t.identity }),
    { br: 0, gzip6: 0, identity: 0 },
  );
  const figure = round(all.gzip6 > 0 ? (1 - all.br / all.gzip6) * 100 : 0, 1) ?? 0;
  if (figure < config.threshold) {
    failures.push(`br is ${figure}% smaller than gzip-6 over the mix (needs ${config.threshold}%)`);
  }
  const perClass = Object.fromEntries(
    Object.entries(totals).map(([klass, t]) => [
      klass,
      {
        br_bytes: t.br,
        gzip6_bytes: t.gzip6,
        identity_bytes: t.identity,
        br_vs_gzip6: round((1 - t.br / t.gzip6) * 100, 1),
      },
    ]),
  );
  return {
    gate: 'compression',
    pass: failures.length === 0,
    figure,
    threshold: config.threshold,
    unit: '% smaller than gzip-6',
    details: {
      summary:
        `${mix.length} URLs × ${HEADERS.length + 1} headers; br ${all.br} B vs gzip-6 ${all.gzip6} B vs identity ${all.identity} B · ` +
        Object.entries(perClass)
          .map(([klass, t]) => `${klass} ${t.br_vs_gzip6}%`)
          .join(', '),
      failures: failures.slice(0, 50),
      per_class: perClass,
    },
  };
}

export const compressionGate: Gate<CompressionGateSettings> = {
  name: 'compression',
  description: 'Accept-Encoding honoured on API, CSV, /metrics and web files; br ≥ 10% smaller than gzip-6',
  unit: '% smaller than gzip-6',
  direction: 'min',
  settings,
  // The plan says 15–20%; measured here it is not reachable (docs/DECISIONS.md, issue 17):
  // minified JS is 9–13% smaller in brotli 11 than in gzip 6, JSON 2–6% at brotli 4.
  defaults: { threshold: 10, smallBytes: 1024 },
  run: runCompressionGate,
};
