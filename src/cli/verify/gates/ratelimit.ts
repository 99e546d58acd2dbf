import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { ApiClient, percentile, round } from '../http.ts';

/**
 * Gate `ratelimit`: tenant A (free) floods well past its limit while B (free) and C (pro)
 * send steady traffic. A must be cut off at exactly its limit and served again after the
 * window; B and C must see no 429 and no more than twice their baseline p95 latency; the
 * headers must count down one by one.
 */
const settings = z
  .object({
    threshold: z.number().int().min(0).max(0),
    /** A sends this many times its limit. */
    floodFactor: z.number().min(1.5).max(20),
    /** Seconds of steady B/C traffic before the flood, and during it. */
    phaseSeconds: z.number().min(1).max(60),
    /** Accepted requests of A may differ from its limit by this much (0 with one Redis). */
    tolerance: z.number().int().min(0).max(100),
    /** A baseline p95 below this counts as this: under it, one scheduler hiccup is the difference. */
    latencyFloorMs: z.number().min(0).max(1000),
    /** Wait for A's window to end and check it is served again (up to the window length). */
    checkReset: z.boolean(),
  })
  .strict();

export type RateLimitGateSettings = z.infer<typeof settings>;

const PATH = '/api/session/teams';

interface Probe {
  status: number;
  limit: number;
  remaining: number;
  resetEpoch: number;
  retryAfter: number | null;
  ms: number;
  body: unknown;
}

export const rateLimitGate: Gate<RateLimitGateSettings> = {
  name: 'ratelimit',
  description: 'per-tenant limits: a flooding tenant is cut off at its limit, the others never notice',
  unit: '429s to B and C',
  direction: 'max',
  settings,
  defaults: {
    threshold: 0,
    floodFactor: 3,
    phaseSeconds: 4,
    tolerance: 0,
    latencyFloorMs: 10,
    checkReset: true,
  },
  run: runRateLimitGate,
};

async function call(client: ApiClient, token: string): Promise<Probe> {
  const answer = await client.request('GET', PATH, token);
  const header = (name: string) => Number(answer.headers[name] ?? Number.NaN);
  return {
    status: answer.status,
    limit: header('x-ratelimit-limit'),
    remaining: header('x-ratelimit-remaining'),
    resetEpoch: header('x-ratelimit-reset'),
    retryAfter: answer.headers['retry-after'] ? Number(answer.headers['retry-after']) : null,
    ms: answer.ms,
    body: answer.body,
  };
}

/** Sequential requests at a steady rate until `until()`; each answer is kept. */
async function steady(
  client: ApiClient,
  token: string,
  perSecond: number,
  until: () => boolean,
): Promise<Probe[]> {
  const answers: Probe[] = [];
  const gap = 1000 / perSecond;
  while (!until()) {
    const began = performance.now();
    answers.push(await call(client, token));
    await sleep(Math.max(0, gap - (performance.now() - began)));
  }
  return answers;
}

async function runRateLimitGate(context: GateContext, config: RateLimitGateSettings): Promise<GateResult> {
  const free = context.tenants.filter((t) => t.plan === 'free');
  const pro = context.tenants.find((t) => t.plan === 'pro');
  if (free.length < 2 || !pro) {
    throw new GateCannotRun(
      'needs two free tenants and one pro tenant',
      'seed at least 4 demo tenants (config "tenants")',
    );
  }
  const [a, b] = free as [GateContext['tenants'][0], GateContext['tenants'][0]];
  const flooder = new ApiClient(context.url, 8);
  const quiet = new ApiClient(context.url, 4);
  try {
    const first = {
      a: await call(flooder, a.admin_token),
      b: await call(quiet, b.admin_token),
      c: await call(quiet, pro.admin_token),
    };
    for (const [who, probe] of Object.entries(first)) {
      if (probe.status !== 200 || !Number.isFinite(probe.limit)) {
        throw new GateCannotRun(
          `tenant ${who.toUpperCase()}'s first request answered ${probe.status} without rate-limit headers`,
          'is the daemon running with --rate-limit off, or is the tenant already limited? retry after a minute',
        );
      }
    }
    if (first.a.remaining !== first.a.limit - 1) {
      throw new GateCannotRun('tenant A has used part of its window already', 'retry after one window');
    }
    const rate = (limit: number) => Math.max(1, Math.min(25, (0.4 * limit) / (2 * config.phaseSeconds)));
    const [rateB, rateC] = [rate(first.b.limit), rate(first.c.limit)];
    context.progress(
      `ratelimit: baseline, B ${rateB.toFixed(1)}/s and C ${rateC.toFixed(1)}/s for ${config.phaseSeconds} s`,
    );
    let phaseEnd = performance.now() + config.phaseSeconds * 1000;
    const over = () => performance.now() >= phaseEnd;
    const [baseB, baseC] = await Promise.all([
      steady(quiet, b.admin_token, rateB, over),
      steady(quiet, pro.admin_token, rateC, over),
    ]);

    const floodSize = Math.ceil(first.a.limit * config.floodFactor);
    context.progress(
      `ratelimit: A floods ${floodSize} requests (limit ${first.a.limit}) while B and C go on`,
    );
    phaseEnd = performance.now() + config.phaseSeconds * 1000;
    let sent = 0;
    const floodAnswers: Probe[] = [];
    const flood = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < floodSize) {
          sent++;
          floodAnswers.push(await call(flooder, a.admin_token));
        }
      }),
    );
    const [duringB, duringC] = await Promise.all([
      steady(quiet, b.admin_token, rateB, over),
      steady(quiet, pro.admin_token, rateC, over),
      flood,
    ]);

    const accepted = 1 + floodAnswers.filter((p) => p.status === 200).length;
    const rejected = floodAnswers.filter((p) => p.status === 429);
    const otherA = floodAnswers.filter((p) => p.status !== 200 && p.status !== 429).length;
    const bAll = [first.b, ...baseB, ...duringB];
    const cAll = [first.c, ...baseC, ...duringC];
    const limited = [...bAll, ...cAll].filter((p) => p.status === 429).length;
    const failures: string[] = [];
    if (Math.abs(accepted - first.a.limit) > config.tolerance) {
      failures.push(
        `A had ${accepted} requests accepted; its limit is ${first.a.limit} (tolerance ${config.tolerance})`,
      );
    }
    if (otherA > 0) failures.push(`${otherA} of A's requests answered neither 200 nor 429`);
    if (
      rejected.some(
        (p) =>
          p.retryAfter === null || (p.body as { error?: { code?: string } })?.error?.code !== 'rate_limited',
      )
    ) {
      failures.push('a 429 to A lacked Retry-After or the JSON error body');
    }
    // Accepted flood requests must have seen every remaining count from limit-2 down to 0 once.
    const seen = floodAnswers
      .filter((p) => p.status === 200)
      .map((p) => p.remaining)
      .sort((x, y) => y - x);
    const expected = Array.from({ length: first.a.limit - 1 }, (_, k) => first.a.limit - 2 - k);
    if (JSON.stringify(seen) !== JSON.stringify(expected))
      failures.push("A's X-RateLimit-Remaining did not count down one by one");
    for (const [who, answers] of [
      ['B', bAll],
      ['C', cAll],
    ] as const) {
      const steps = answers.slice(1).map((p, k) => (answers[k] as Probe).remaining - p.remaining);
      if (steps.some((step) => step !== 1))
        failures.push(`${who}'s X-RateLimit-Remaining did not drop by exactly 1 per request`);
    }
    if (limited > 0) failures.push(`B and C received ${limited} 429s`);
    // The verdict pools B's and C's samples and compares p95s: with ~20 requests from B a
    // "p99" is just its slowest request, so one scheduler pause on a loaded 2-core machine
    // failed the gate (CI, stop 28) though nothing of A's reached B. Each tenant's p99 is
    // still reported.
    const p = (probes: Probe[], rank: number) =>
      percentile(
        probes.map((probe) => probe.ms),
        rank,
      ) ?? 0;
    const perTenant = (base: Probe[], during: Probe[]) => ({
      baseline_p99: round(p(base, 99)),
      during_flood_p99: round(p(during, 99)),
    });
    const latencyB = perTenant(baseB, duringB);
    const latencyC = perTenant(baseC, duringC);
    const pooled = {
      baseline_p95: round(p([...baseB, ...baseC], 95)) ?? 0,
      during_flood_p95: round(p([...duringB, ...duringC], 95)) ?? 0,
    };
    const allowedMs = 2 * Math.max(pooled.baseline_p95, config.latencyFloorMs);
    if (pooled.during_flood_p95 > allowedMs)
      failures.push(
        `B's and C's p95 rose from ${pooled.baseline_p95} ms to ${pooled.during_flood_p95} ms during A's flood (more than 2×, floor ${config.latencyFloorMs} ms)`,
      );

    let servedAgain: boolean | null = null;
    if (config.checkReset) {
      const waitMs = Math.max(0, first.a.resetEpoch * 1000 - Date.now()) + 1100;
      await context.wait("ratelimit: waiting for A's window to end", waitMs);
      servedAgain = (await call(flooder, a.admin_token)).status === 200;
      if (!servedAgain) failures.push('A was still refused after its window ended');
    }
    return {
      gate: 'ratelimit',
      pass: failures.length === 0,
      figure: limited,
      threshold: config.threshold,
      unit: '429s to B and C',
      details: {
        summary:
          `A accepted ${accepted}/${first.a.limit} of ${floodSize + 1}, then ${rejected.length} × 429 · ` +
          `B ${bAll.length} and C ${cAll.length} requests, ${limited} × 429 · p95 B+C ${pooled.baseline_p95}→${pooled.during_flood_p95} ms ` +
          `(p99 B ${latencyB.baseline_p99}→${latencyB.during_flood_p99}, C ${latencyC.baseline_p99}→${latencyC.during_flood_p99})${servedAgain === null ? '' : ` · A served after the window: ${servedAgain ? 'yes' : 'no'}`}`,
        failures,
        a: { tenant: a.slug, limit: first.a.limit, sent: floodSize + 1, accepted, rejected: rejected.length },
        b: {
          tenant: b.slug,
          limit: first.b.limit,
          requests: bAll.length,
          rate_per_s: round(rateB, 1),
          ...latencyB,
        },
        c: {
          tenant: pro.slug,
          limit: first.c.limit,
          requests: cAll.length,
          rate_per_s: round(rateC, 1),
          ...latencyC,
        },
        latency_b_and_c: { ...pooled, allowed_ms: allowedMs },
        served_after_reset: servedAgain,
      },
    };
  } finally {
    flooder.close();
    quiet.close();
  }
}
