/**
 * What compression costs on a cached JSON endpoint, in one run:
 *   npm run bench:compression                       (GET /api/session/agents, 10 s, 20 connections)
 *   npm run bench:compression -- --rounds 3 --duration 10 --path /api/admin/stripe/analytics --json
 * One daemon runs with --compression off (the floor), one with it on; on that one the same
 * endpoint is loaded with Accept-Encoding identity, gzip and br. Rounds are interleaved and
 * medians reported (a 2-core box is noisy). Also prints each coding's body size.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cli, embeddedEnv, median, type Served, serve, withTempDir } from './lib.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    path: { type: 'string', default: '/api/session/agents' },
    'api-workers': { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});

type Variant = 'compression off' | 'identity' | 'gzip' | 'br';
const VARIANTS: Variant[] = ['compression off', 'identity', 'gzip', 'br'];

interface Target {
  served: Served;
  token: string;
}

async function start(dir: string, compression: 'on' | 'off'): Promise<Target> {
  const env = embeddedEnv();
  const served = await serve(dir, env, [
    '--api-workers',
    values['api-workers'] as string,
    '--rate-limit',
    'off',
    '--compression',
    compression,
  ]);
  const seeded = JSON.parse(
    await cli(['seed', '--demo', '--tenants', '2', '--json', '--data-dir', dir], env),
  );
  const tenant = seeded.tenants[1];
  const token = (values.path as string).startsWith('/api/admin/')
    ? tenant.admin_token
    : tenant.user_tokens[0];
  return { served, token };
}

async function load(target: Target, acceptEncoding: string | undefined) {
  const headers: Record<string, string> = { authorization: `Bearer ${target.token}` };
  if (acceptEncoding) headers['accept-encoding'] = acceptEncoding;
  const url = `${target.served.url}${values.path}`;
  const wireBytes = await bytesOnTheWire(url, headers);
  const result = await autocannon({
    url,
    headers,
    connections: Number(values.connections),
    duration: Number(values.duration),
    excludeErrorStats: true,
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    bytesPerResponse: Math.round(result.throughput.total / Math.max(1, result.requests.total)),
    bodyBytes: wireBytes,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The body's size as sent (node:http does not decode, unlike fetch). */
function bytesOnTheWire(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () => resolve(bytes));
      })
      .on('error', reject);
  });
}

const runs: Record<Variant, Array<Awaited<ReturnType<typeof load>>>> = {
  'compression off': [],
  identity: [],
  gzip: [],
  br: [],
};

await withTempDir((offDir) =>
  withTempDir(async (onDir) => {
    const off = await start(offDir, 'off');
    const on = await start(onDir, 'on');
    try {
      for (let round = 0; round < Number(values.rounds); round++) {
        for (const variant of VARIANTS) {
          const target = variant === 'compression off' ? off : on;
          const header = variant === 'compression off' ? 'gzip, br' : variant;
          runs[variant].push(await load(target, header));
          if (!values.json) console.error(`round ${round + 1}: ${variant} done`);
        }
      }
    } finally {
      await Promise.all([off.served.stop(), on.served.stop()]);
    }
  }),
);

const floor = median(runs['compression off'].map((r) => r.requestsPerSecond));
const summary = VARIANTS.map((variant) => {
  const rps = median(runs[variant].map((r) => r.requestsPerSecond));
  const last = runs[variant].at(-1);
  return {
    variant,
    requestsPerSecond: rps,
    vsOff: Math.round((rps / floor) * 1000) / 1000,
    p99Ms: median(runs[variant].map((r) => r.p99Ms)),
    bodyBytes: last?.bodyBytes ?? 0,
  };
});

if (values.json)
  console.log(JSON.stringify({ path: values.path, rounds: Number(values.rounds), summary, runs }, null, 2));
else {
  for (const s of summary) {
    console.log(
      `${s.variant.padEnd(16)} ${String(s.requestsPerSecond).padStart(6)} req/s  ×${s.vsOff.toFixed(2)} of off  p99 ${s.p99Ms} ms  body ${s.bodyBytes} B`,
    );
  }
  console.log(
    `GET ${values.path}, ${values.connections} connections, ${values.duration} s × ${values.rounds} round(s), ${values['api-workers']} api workers (medians)`,
  );
}
if (Object.values(runs).some((list) => list.some((r) => r.non2xx > 0 || r.errors > 0))) process.exitCode = 1;
