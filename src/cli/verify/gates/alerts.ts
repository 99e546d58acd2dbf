import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { z } from 'zod';
import type { AlertName } from '../../../daemon/alerts/types.ts';
import { type ReceivedMail, startSmtpReceiver } from '../../../devtools/alertReceivers/smtpReceiver.ts';
import {
  type ReceivedRequest,
  startWebhookReceiver,
} from '../../../devtools/alertReceivers/webhookReceiver.ts';
import { DaemonClient } from '../../client.ts';
import type { Gate, GateContext, GateResult } from '../gate.ts';
import { ApiClient } from '../http.ts';
import { ScratchPostgres } from '../scratch/postgres.ts';
import { ScratchRedis } from '../scratch/redis.ts';
import { SteadyLoad, type Step } from '../steadyLoad.ts';
import { startEphemeral, type Target } from '../target.ts';

/**
 * Gate `alerts`: each of the five conditions is caused for real — the gate's own
 * redis-server and PostgreSQL are stopped, a table the API reads is locked, the memory
 * limit is set below what the daemon uses — and each alert must fire within its window
 * + `for`, reach the webhook (Discord format) and the SMTP server exactly once while it
 * fires, and send one resolved message once the cause is gone. The daemon has no fault
 * injection: it is an ordinary `wuzctl serve` with short windows.
 * Figure: alerts that fired and resolved correctly, out of five.
 */
const settings = z
  .object({
    /** The share of the five alerts that must fire and resolve correctly. */
    threshold: z.number().min(0).max(1),
    intervalSeconds: z.number().int().min(1).max(10),
    forSeconds: z.number().int().min(1).max(60),
    windowSeconds: z.number().int().min(2).max(120),
    minRequests: z.number().int().min(1).max(1000),
    /** Longer than a scenario, so that "one notification per cooldown" is what is seen. */
    cooldownSeconds: z.number().int().min(10).max(3600),
    /** How long each alert keeps firing before its cause is removed (no second message may come). */
    holdSeconds: z.number().int().min(1).max(120),
    /** How long to wait for one notification, at most. */
    timeoutSeconds: z.number().int().min(10).max(600),
  })
  .strict();

export type AlertsGateSettings = z.infer<typeof settings>;

export const alertsGate: Gate<AlertsGateSettings> = {
  name: 'alerts',
  description:
    'each alert fires for a real cause (Redis or PostgreSQL stopped, a table locked, low memory), notifies webhook and e-mail once, and resolves',
  unit: 'of 5 alerts fired and resolved',
  direction: 'min',
  settings,
  defaults: {
    threshold: 1,
    intervalSeconds: 1,
    forSeconds: 3,
    windowSeconds: 10,
    minRequests: 10,
    cooldownSeconds: 120,
    holdSeconds: 6,
    timeoutSeconds: 60,
  },
  // Its daemon runs on services of the gate's own, which it stops and starts.
  needsDaemon: false,
  run: runAlertsGate,
};

type Kind = 'FIRING' | 'RESOLVED' | 'REMINDER' | 'TEST';
interface Arrival {
  channel: 'webhook' | 'email';
  kind: Kind;
  alert: string;
  at: number;
}

/** "[FIRING] RedisDown: …" — the title every channel leads with. */
function parseTitle(title: unknown): { kind: Kind; alert: string } | null {
  const match = /^\[(FIRING|RESOLVED|REMINDER|TEST)\] (\w+):/.exec(String(title ?? ''));
  return match ? { kind: match[1] as Kind, alert: match[2] as string } : null;
}

interface ScenarioResult {
  alerts: AlertName[];
  ok: boolean;
  problems: string[];
  /** From the cause to the last channel's firing message, per alert. */
  timeToFireMs: Record<string, number | null>;
  timeToResolveMs: Record<string, number | null>;
  serving: Record<string, unknown>;
}

/** The gate's background load: uncached (database) and cached reads, every 100 ms per client, counted by status. */
const LOAD_MIX: Step[] = [
  { method: 'GET', path: '/api/contacts', expect: 200 },
  { method: 'GET', path: '/api/session/agents', expect: 200 },
];
const startLoad = (url: string, token: string, clients: number) =>
  new SteadyLoad(url, token, { keepAlive: clients, oneShot: 0, tag: 'alerts', mix: LOAD_MIX, pauseMs: 100 });

/** The daemon's own count of what it sent must match what the receivers got; every alert has its firing gauge. */
async function checkMetrics(metricsUrl: string, arrived: Arrival[]): Promise<string[]> {
  const text = await (await fetch(metricsUrl)).text();
  const problems: string[] = [];
  for (const channel of ['webhook', 'email'] as const) {
    const sent = [
      ...text.matchAll(
        new RegExp(
          `^alert_notifications_total\\{[^}]*channel="${channel}"[^}]*result="sent"[^}]*\\} (\\d+)`,
          'gm',
        ),
      ),
    ]
      .map((match) => Number(match[1]))
      .reduce((a, b) => a + b, 0);
    const got = arrived.filter((a) => a.channel === channel).length;
    if (sent !== got)
      problems.push(`alert_notifications_total says ${sent} sent by ${channel}, the receiver got ${got}`);
  }
  const gauges = text.match(/^alerts_firing\{alertname="\w+"\} [01]$/gm) ?? [];
  if (gauges.length !== 5) problems.push(`alerts_firing has ${gauges.length} series, not one per alert`);
  return problems;
}

async function runAlertsGate(context: GateContext, s: AlertsGateSettings): Promise<GateResult> {
  const cleanups: (() => Promise<void>)[] = [];
  const pgDir = await mkdtemp(path.join(os.tmpdir(), 'wuzctl-alerts-pg-'));
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wuzctl-alerts-'));
  cleanups.push(
    () => rm(pgDir, { recursive: true, force: true }),
    () => rm(dataDir, { recursive: true, force: true }),
  );
  try {
    context.progress(
      'starting a scratch PostgreSQL (initdb) and redis-server, a webhook and an SMTP receiver',
    );
    const [postgres, redis, webhook, smtp] = await Promise.all([
      ScratchPostgres.create(pgDir),
      ScratchRedis.create(),
      startWebhookReceiver({ flavour: 'discord' }),
      startSmtpReceiver({ user: 'alerts', password: 'gate-smtp-password' }),
    ]);
    cleanups.push(
      () => postgres.stop(),
      () => redis.stop(),
      () => webhook.close(),
      () => smtp.close(),
    );
    const arrivals = (): Arrival[] => [
      ...webhook.received.flatMap((entry: ReceivedRequest) => {
        const parsed = parseTitle(entry.body?.embeds?.[0]?.title);
        return parsed && entry.status < 300 ? [{ channel: 'webhook' as const, ...parsed, at: entry.at }] : [];
      }),
      ...smtp.messages.flatMap((mail: ReceivedMail) => {
        const parsed = parseTitle(mail.subject);
        return parsed ? [{ channel: 'email' as const, ...parsed, at: mail.at }] : [];
      }),
    ];
    const baseEnv = {
      REDIS_URL: redis.url,
      DATABASE_URL: postgres.url,
      ALERT_WEBHOOK_URL: webhook.url,
      ALERT_WEBHOOK_FORMAT: 'discord',
      ALERT_EMAIL_ENABLED: 'true',
      SMTP_URL: smtp.url,
      ALERT_EMAIL_TO: 'oncall@example.test',
      WUZ_ALERTS: 'on',
      WUZ_ALERT_INTERVAL: String(s.intervalSeconds),
      WUZ_ALERT_COOLDOWN: String(s.cooldownSeconds),
      WUZ_ALERT_RULES: `*.for=${s.forSeconds}s,*.window=${s.windowSeconds}s,*.minRequests=${s.minRequests}`,
      WUZ_RATE_LIMIT: 'off',
      WUZ_MEMORY_LIMIT: '',
    };
    const daemonArgs = ['--api-workers', '2', '--queue-workers', '1'];
    let daemon: Target = await startEphemeral(1, context.progress, baseEnv, { dataDir, args: daemonArgs });
    cleanups.push(() => daemon.close());
    const control = new DaemonClient(dataDir);
    const token = daemon.tenants[0]?.admin_token as string;
    const api = new ApiClient(daemon.url, 2);

    const waitQuiet = async () => {
      const deadline = Date.now() + s.timeoutSeconds * 1000;
      for (;;) {
        const summary = await control.alerts().catch(() => null);
        if (summary?.alerts.every((alert) => alert.state === 'inactive')) return;
        if (Date.now() > deadline) {
          throw new Error(
            `alerts still active: ${summary?.alerts
              .filter((a) => a.state !== 'inactive')
              .map((a) => a.name)
              .join(', ')}`,
          );
        }
        await sleep(500);
      }
    };
    const waitArrival = async (alert: string, kind: Kind, channel: Arrival['channel'], since: number) => {
      const deadline = Date.now() + s.timeoutSeconds * 1000;
      for (;;) {
        const found = arrivals().find(
          (a) => a.alert === alert && a.kind === kind && a.channel === channel && a.at >= since,
        );
        if (found) return found.at;
        if (Date.now() > deadline) return null;
        await sleep(100);
      }
    };

    /** Causes a condition, checks the firing and resolved messages, removes it. */
    const scenario = async (
      alerts: AlertName[],
      what: string,
      cause: () => Promise<void>,
      remove: () => Promise<void>,
      serving: () => Promise<Record<string, unknown>>,
    ): Promise<ScenarioResult> => {
      const problems: string[] = [];
      const timeToFireMs: Record<string, number | null> = {};
      const timeToResolveMs: Record<string, number | null> = {};
      context.progress(`${alerts.join(' + ')}: ${what}`);
      const began = Date.now();
      await cause();
      for (const alert of alerts) {
        const times = await Promise.all(
          (['webhook', 'email'] as const).map((channel) => waitArrival(alert, 'FIRING', channel, began)),
        );
        if (times.some((at) => at === null))
          problems.push(`${alert} did not fire on every channel within ${s.timeoutSeconds} s`);
        timeToFireMs[alert] = times.every((at) => at !== null)
          ? Math.max(...(times as number[])) - began
          : null;
      }
      const seen = await serving();
      await context.wait(
        `holding the cause ${s.holdSeconds} s: no second notification may come`,
        s.holdSeconds * 1000,
      );
      const removed = Date.now();
      context.progress(`${alerts.join(' + ')}: cause removed, waiting for the resolved messages`);
      await remove();
      for (const alert of alerts) {
        const times = await Promise.all(
          (['webhook', 'email'] as const).map((channel) => waitArrival(alert, 'RESOLVED', channel, removed)),
        );
        if (times.some((at) => at === null))
          problems.push(`${alert} did not resolve on every channel within ${s.timeoutSeconds} s`);
        timeToResolveMs[alert] = times.every((at) => at !== null)
          ? Math.max(...(times as number[])) - removed
          : null;
      }
      await waitQuiet().catch((error: Error) => problems.push(error.message));
      // Exactly one firing and one resolved per channel; nothing from the other alerts.
      const during = arrivals().filter((a) => a.at >= began);
      for (const alert of alerts) {
        for (const channel of ['webhook', 'email'] as const) {
          const mine = during.filter((a) => a.alert === alert && a.channel === channel);
          const firing = mine.filter((a) => a.kind === 'FIRING' || a.kind === 'REMINDER').length;
          const resolved = mine.filter((a) => a.kind === 'RESOLVED').length;
          if (firing !== 1 || resolved !== 1) {
            problems.push(
              `${alert} on ${channel}: ${firing} firing and ${resolved} resolved messages (1 and 1 expected)`,
            );
          }
        }
      }
      const strays = during.filter((a) => !alerts.includes(a.alert as AlertName));
      if (strays.length)
        problems.push(`unexpected: ${strays.map((a) => `${a.kind} ${a.alert} (${a.channel})`).join(', ')}`);
      return { alerts, ok: problems.length === 0, problems, timeToFireMs, timeToResolveMs, serving: seen };
    };

    const statusOf = async (route: string) =>
      (await api.request('GET', route, token).catch(() => null))?.status ?? 'network error';
    const healthz = async () =>
      (await fetch(`${daemon.url}/healthz`).catch(() => null))?.status ?? 'network error';

    context.progress('baseline: the daemon under light load; no alert may fire');
    await waitQuiet();
    let load = startLoad(daemon.url, token, 4);
    await context.wait('baseline load', (s.windowSeconds + s.forSeconds) * 1000);
    const results: Record<string, ScenarioResult> = {};
    const baseline = arrivals().length;
    if (baseline > 0)
      throw new Error(
        `alerts fired with nothing wrong: ${arrivals()
          .map((a) => `${a.kind} ${a.alert}`)
          .join(', ')}`,
      );

    results.redis = await scenario(
      ['RedisDown'],
      "stopping the gate's redis-server",
      () => redis.stop(),
      () => redis.start(),
      async () => ({ healthz: await healthz(), uncachedRead: await statusOf('/api/contacts') }),
    );
    results.database = await scenario(
      ['DatabaseDown', 'HighErrorRate'],
      "stopping the gate's PostgreSQL (uncached reads then answer 5xx)",
      () => postgres.stop(),
      () => postgres.start(),
      async () => ({
        healthz: await healthz(),
        cachedRead: await statusOf('/api/session/agents'),
        uncachedRead: await statusOf('/api/contacts'),
      }),
    );
    // A lock on contacts, held in 4 s stretches with short breaks: reads of it complete,
    // slowly. Cached reads stay fast.
    let locking = true;
    let locker: Promise<void> = Promise.resolve();
    const lockClient = new pg.Client({ connectionString: postgres.url });
    results.latency = await scenario(
      ['HighLatencyP95'],
      'locking the contacts table, in 4 s stretches',
      async () => {
        await lockClient.connect();
        locker = (async () => {
          while (locking) {
            await lockClient.query('BEGIN');
            await lockClient.query('LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE');
            await sleep(4000);
            await lockClient.query('COMMIT');
            await sleep(50);
          }
        })();
      },
      async () => {
        locking = false;
        await locker;
        await lockClient.end();
      },
      async () => {
        const began = performance.now();
        const status = await statusOf('/api/session/agents');
        return { cachedRead: status, cachedReadMs: Math.round(performance.now() - began) };
      },
    );
    await load.stop();
    const loadCounts = { ...load.answers };
    const metricProblems = await checkMetrics(
      daemon.metricsUrl,
      arrivals().filter((a) => a.kind !== 'TEST'),
    );

    // Memory: the same daemon restarted with a limit below what it uses, then without one;
    // the resolved message comes from the second start (the state is in Redis).
    const status = await control.status();
    const rss = status.rssBytes + status.children.reduce((sum, child) => sum + (child.rssBytes ?? 0), 0);
    const limit = Math.max(16 * 1024 * 1024, Math.floor(rss * 0.6));
    const restart = async (env: Record<string, string>) => {
      await daemon.close();
      daemon = await startEphemeral(
        0,
        context.progress,
        { ...baseEnv, ...env },
        { dataDir, args: daemonArgs },
      );
      load = startLoad(daemon.url, token, 2);
    };
    results.memory = await scenario(
      ['HighMemoryUsage'],
      `restarting the daemon with WUZ_MEMORY_LIMIT=${limit} (it uses ${rss} bytes)`,
      () => restart({ WUZ_MEMORY_LIMIT: String(limit) }),
      async () => {
        await load.stop();
        await restart({});
      },
      async () => ({ healthz: await healthz() }),
    );
    await load.stop();

    const passed = Object.values(results).flatMap((result) => (result.ok ? result.alerts : []));
    const problems = [...Object.values(results).flatMap((result) => result.problems), ...metricProblems];
    const timeToFire = Object.assign({}, ...Object.values(results).map((r) => r.timeToFireMs));
    const timeToResolve = Object.assign({}, ...Object.values(results).map((r) => r.timeToResolveMs));
    // A metrics mismatch fails the gate as a whole: the figure counts nothing then.
    const figure = metricProblems.length ? 0 : passed.length / 5;
    return {
      gate: 'alerts',
      pass: figure >= s.threshold,
      figure,
      threshold: s.threshold,
      unit: alertsGate.unit,
      details: {
        passed,
        problems,
        timeToFireMs: timeToFire,
        timeToResolveMs: timeToResolve,
        serving: Object.fromEntries(Object.entries(results).map(([name, r]) => [name, r.serving])),
        load: loadCounts,
        notifications: { webhook: webhook.received.length, email: smtp.messages.length },
        rules: baseEnv.WUZ_ALERT_RULES,
      },
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}
