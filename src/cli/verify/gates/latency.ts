import { z } from 'zod';
import { mixedWorkload, type PlannedRequest } from '../../bench/mixed.ts';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { ApiClient, percentile, round } from '../http.ts';

/**
 * Gate `latency`: the cache gate's mixed workload (Zipf-distributed users reading the
 * cached endpoints, 5% writes) at a fixed concurrency for a fixed time; the p95 and p99
 * of every route group, from the client (request sent → last byte). Any failed request
 * (a connection error, a 5xx, a 429) fails the gate. Figure: the worst group's p95 (ms).
 */
const settings = z
  .object({
    /** Milliseconds the worst route group's p95 may reach: the plan's alert line by default. */
    threshold: z.number().positive().max(2000),
    /** And its p99 (each group). */
    maxP99Ms: z.number().positive().max(10_000),
    concurrency: z.number().int().min(1).max(256),
    durationSeconds: z.number().int().min(2).max(600),
    /** Groups with fewer samples are reported but not held to the thresholds. */
    minSamples: z.number().int().min(1).max(10_000),
  })
  .strict();

export type LatencyGateSettings = z.infer<typeof settings>;

export const latencyGate: Gate<LatencyGateSettings> = {
  name: 'latency',
  description:
    'p95/p99 of every route group under the mixed workload at a fixed concurrency, no failed request',
  unit: 'ms p95 (worst route group)',
  direction: 'max',
  settings,
  defaults: { threshold: 2000, maxP99Ms: 5000, concurrency: 16, durationSeconds: 15, minSamples: 20 },
  daemonEnv: { WUZ_RATE_LIMIT: 'off' },
  run: runLatencyGate,
};

async function runLatencyGate(context: GateContext, s: LatencyGateSettings): Promise<GateResult> {
  if (context.tenants.length === 0) {
    throw new GateCannotRun(
      'the latency gate needs the demo tenants',
      'run it without --url, or pass --tokens F',
    );
  }
  context.progress('latency: planning the mixed workload (the cache gate’s Zipf reads and writes)');
  const planned = await mixedWorkload(context.url, context.tenants, 200_000);
  const client = new ApiClient(context.url, s.concurrency);
  const samples = new Map<string, number[]>();
  const failures: Record<string, number> = {};
  let next = 0;
  const deadline = Date.now() + s.durationSeconds * 1000;
  context.progress(`latency: ${s.concurrency} clients for ${s.durationSeconds} s`);
  const worker = async () => {
    while (Date.now() < deadline) {
      const request = planned[next++ % planned.length] as PlannedRequest;
      const answer = await client
        .request(
          request.method,
          request.path,
          request.token,
          request.body ? JSON.parse(request.body) : undefined,
        )
        .catch((error: NodeJS.ErrnoException) => error.code ?? error.message);
      if (typeof answer === 'string' || answer.status >= 400) {
        const key = `${request.group} ${typeof answer === 'string' ? answer : answer.status}`;
        failures[key] = (failures[key] ?? 0) + 1;
        continue;
      }
      const list = samples.get(request.group) ?? [];
      list.push(answer.ms);
      samples.set(request.group, list);
    }
  };
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  client.close();
  const groups = Object.fromEntries(
    [...samples.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([group, ms]) => [
        group,
        {
          requests: ms.length,
          p50: round(percentile(ms, 50)),
          p95: round(percentile(ms, 95)),
          p99: round(percentile(ms, 99)),
        },
      ]),
  );
  const held = Object.entries(groups).filter(([, g]) => g.requests >= s.minSamples);
  const worst = held.reduce<[string, number] | null>(
    (acc, [group, g]) => (acc && acc[1] >= (g.p95 ?? 0) ? acc : [group, g.p95 ?? 0]),
    null,
  );
  const overP99 = held.filter(([, g]) => (g.p99 ?? 0) > s.maxP99Ms).map(([group]) => group);
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  const figure = worst?.[1] ?? null;
  return {
    gate: 'latency',
    pass: figure !== null && figure <= s.threshold && failed === 0 && overP99.length === 0,
    figure,
    threshold: s.threshold,
    unit: latencyGate.unit,
    details: {
      worstGroup: worst?.[0] ?? null,
      groups,
      failed,
      failures,
      overP99,
      maxP99Ms: s.maxP99Ms,
      concurrency: s.concurrency,
      durationSeconds: s.durationSeconds,
      requests: [...samples.values()].reduce((n, ms) => n + ms.length, 0) + failed,
    },
  };
}
