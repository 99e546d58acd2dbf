import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { RolloutStatus } from '../../../daemon/supervisor/rollout.ts';
import { startFakeWuzapi } from '../../../devtools/fakeWuzapi.ts';
import { DaemonClient } from '../../client.ts';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { ApiClient } from '../http.ts';
import { ScratchRelease } from '../scratch/release.ts';
import { SteadyLoad } from '../steadyLoad.ts';
import { startEphemeral } from '../target.ts';
import { contactIds, fakeMessages, waitForJob } from '../workload.ts';
import { runTwoNodes } from './reloadNodes.ts';

/**
 * Gate `reload`: zero downtime, measured. (1) One daemon under steady load — keep-alive
 * and one-shot clients, reads and writes — while a campaign sends through the fake
 * WuzAPI, and three rolling reloads happen. (2) A deploy that cannot start (the gate
 * breaks the API worker module of the daemon's own copy of the code): the rollout aborts,
 * the old workers keep serving, `reload` says why. (3) Two daemons on one Redis and one
 * PostgreSQL behind haproxy, each restarted in turn under load (reloadNodes.ts).
 * Figure: failed requests over all three (connection errors, resets, unexpected statuses).
 */
const settings = z
  .object({
    /** Failed requests allowed in all. */
    threshold: z.number().int().min(0),
    /** Part 1 runs until this many requests were sent (and its rollouts are done). */
    minRequests: z.number().int().min(100).max(10_000_000),
    rollouts: z.number().int().min(1).max(20),
    apiWorkers: z.number().int().min(1).max(8),
    keepAliveClients: z.number().int().min(1).max(64),
    oneShotClients: z.number().int().min(0).max(64),
    recipients: z.number().int().min(10).max(10_000),
    /** Pacing of the campaign (each message waits this long), so it spans the rollouts. */
    messageDelayMs: z.number().int().min(0).max(10_000),
    /** Part 3 (haproxy): off to skip it where haproxy cannot be installed. */
    twoNodes: z.boolean(),
    timeoutSeconds: z.number().int().min(30).max(3600),
  })
  .strict();

export type ReloadGateSettings = z.infer<typeof settings>;

export const reloadGate: Gate<ReloadGateSettings> = {
  name: 'reload',
  description:
    'rolling reloads under load, a broken deploy aborted, two nodes behind haproxy restarted in turn: no failed request',
  unit: 'failed requests',
  direction: 'max',
  settings,
  defaults: {
    threshold: 0,
    minRequests: 20_000,
    rollouts: 3,
    apiWorkers: 2,
    keepAliveClients: 6,
    oneShotClients: 2,
    recipients: 300,
    messageDelayMs: 40,
    twoNodes: true,
    timeoutSeconds: 900,
  },
  // Its daemons run from a copy of the code it can break, on services it may stop.
  needsDaemon: false,
  run: runReloadGate,
};

/** Starts a rollout and follows it to its end. */
export async function rolloutOnce(client: DaemonClient, timeoutMs: number): Promise<RolloutStatus> {
  const started = await client.reload();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await client.rollout();
    if (status && status.id === started.id && status.state !== 'running') return status;
    if (Date.now() > deadline)
      throw new Error(`rollout ${started.id} still running after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

async function runReloadGate(context: GateContext, s: ReloadGateSettings): Promise<GateResult> {
  const cleanups: (() => Promise<void>)[] = [];
  const problems: string[] = [];
  const details: Record<string, unknown> = {};
  try {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wuzctl-reload-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const release = await ScratchRelease.create(path.join(dir, 'release'));
    const fake = await startFakeWuzapi({ port: 0, latencyMs: 0 });
    cleanups.push(() => fake.close());
    const daemon = await startEphemeral(
      1,
      context.progress,
      { WUZAPI_URL: fake.url, WUZ_RATE_LIMIT: 'off', WUZ_ALERTS: 'off' },
      { entry: release.cli, args: ['--api-workers', String(s.apiWorkers), '--queue-workers', '1'] },
    );
    cleanups.push(() => daemon.close());
    const control = new DaemonClient(daemon.dataDir as string);
    const tenant = daemon.tenants[0];
    if (!tenant?.user_tokens[0]) throw new GateCannotRun('the demo seed gave no user token');
    const token = tenant.user_tokens[0];

    // The campaign: contacts imported, then sent with pacing, so it runs through the rollouts.
    const api = new ApiClient(daemon.url, 2);
    const prefix = `+5597${String(randomInt(100_000, 999_999))}`;
    const csv = [
      'phone,name',
      ...Array.from({ length: s.recipients }, (_, i) => `${prefix}${String(i).padStart(5, '0')},Reload ${i}`),
    ];
    const upload = await api.request('POST', '/api/imports?filename=reload.csv', token, undefined, {
      text: `${csv.join('\n')}\n`,
      type: 'text/csv',
    });
    if (upload.status !== 202) throw new GateCannotRun(`POST /api/imports answered ${upload.status}`);
    const deadline = Date.now() + s.timeoutSeconds * 1000;
    await waitForJob(api, token, (upload.body as { job_id: string }).job_id, deadline);
    const ids = await contactIds(api, token, prefix, s.recipients);
    const load = new SteadyLoad(daemon.url, token, {
      keepAlive: s.keepAliveClients,
      oneShot: s.oneShotClients,
      tag: 'reload',
    });
    const campaign = await api.request('POST', '/api/campaigns', token, {
      name: `reload ${prefix}`,
      template: 'Hello {{name}}',
      audience: { contact_ids: ids },
      session_token: 'reload-gate-session',
      min_delay_ms: s.messageDelayMs,
      max_delay_ms: s.messageDelayMs,
    });
    if (campaign.status !== 202) throw new GateCannotRun(`POST /api/campaigns answered ${campaign.status}`);

    // Part 1: the rollouts, spread over the load.
    context.progress(
      `part 1: ${s.rollouts} rolling reloads under load, a campaign of ${s.recipients} sending`,
    );
    const rollouts: {
      id: number;
      state: string;
      ms: number;
      longestDrainMs: number;
      reason: string | null;
    }[] = [];
    for (let i = 0; i < s.rollouts; i++) {
      await sleep(1000);
      const status = await rolloutOnce(control, s.timeoutSeconds * 1000);
      const ms = Date.parse(status.finishedAt as string) - Date.parse(status.startedAt);
      const longestDrainMs = Math.max(0, ...status.steps.map((step) => step.drainMs));
      rollouts.push({ id: status.id, state: status.state, ms, longestDrainMs, reason: status.reason });
      context.progress(
        `rollout ${status.id}: ${status.state} in ${(ms / 1000).toFixed(1)} s (longest drain ${longestDrainMs} ms), ${load.sent} requests so far`,
      );
      if (status.state !== 'done') problems.push(`rollout ${status.id} ${status.state}: ${status.reason}`);
    }
    while (load.sent < s.minRequests && Date.now() < deadline) await sleep(200);
    const part1 = { sent: load.sent, failed: load.failed, failures: { ...load.failures } };
    context.progress(`part 1: ${part1.sent} requests, ${part1.failed} failed`);

    // Part 2: a deploy whose API worker does not load.
    context.progress('part 2: a broken deploy — the rollout must abort, the old workers keep serving');
    const before = await control.status();
    await release.breakApiWorker();
    const sentBefore = load.sent;
    const failedBefore = load.failed;
    const broken = await rolloutOnce(control, s.timeoutSeconds * 1000);
    await release.restore();
    const after = await control.status();
    if (broken.state !== 'aborted')
      problems.push(`the broken deploy's rollout ended ${broken.state}, not aborted`);
    if (!/this build is broken/.test(broken.reason ?? ''))
      problems.push(`the abort does not say why: ${broken.reason}`);
    const kept = (status: typeof before) =>
      status.children.map((c) => `${c.pid}:${c.generation}:${c.state}`).join(' ');
    if (kept(after) !== kept(before))
      problems.push(`the workers changed during the aborted rollout: ${kept(before)} → ${kept(after)}`);
    await sleep(2000);
    const part2 = { sent: load.sent - sentBefore, failed: load.failed - failedBefore, reason: broken.reason };

    await load.stop();
    const job = await waitForJob(api, token, (campaign.body as { job_id: string }).job_id, deadline);
    api.close();
    if (job.state !== 'completed') problems.push(`campaign job ${job.state}`);
    const received = (await fakeMessages(fake.url)).filter((m) => m.phone.startsWith(prefix.slice(1)));
    const perPhone = new Map<string, number>();
    for (const message of received) perPhone.set(message.phone, (perPhone.get(message.phone) ?? 0) + 1);
    const missing = s.recipients - perPhone.size;
    const twice = [...perPhone.values()].filter((n) => n > 1).length;
    if (missing) problems.push(`${missing} campaign recipients received nothing`);
    if (twice) problems.push(`${twice} campaign recipients received a message twice`);
    Object.assign(details, {
      part1: { ...part1, rollouts },
      part2,
      campaign: { recipients: s.recipients, received: received.length, missing, twice },
      failureExamples: load.examples,
    });
    await daemon.close();

    // Part 3: two nodes behind haproxy.
    let part3 = { sent: 0, failed: 0 } as { sent: number; failed: number };
    if (s.twoNodes) {
      part3 = await runTwoNodes(context, path.join(dir, 'nodes'), s.timeoutSeconds * 1000);
      details.part3 = part3;
      problems.push(...((part3 as { problems?: string[] }).problems ?? []));
    }
    const failed = part1.failed + part2.failed + part3.failed;
    details.problems = problems;
    details.sent = part1.sent + part2.sent + part3.sent;
    if (part1.sent < s.minRequests)
      problems.push(`part 1 sent ${part1.sent} requests, fewer than ${s.minRequests}`);
    return {
      gate: 'reload',
      // Problems (an abort that did not abort, a lost message) fail the gate whatever the figure.
      pass: failed <= s.threshold && problems.length === 0,
      figure: failed,
      threshold: s.threshold,
      unit: reloadGate.unit,
      details,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}
