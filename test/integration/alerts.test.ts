import http from 'node:http';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebhookChannel } from '../../src/daemon/alerts/channels/webhook.ts';
import type { Sample } from '../../src/daemon/alerts/figures.ts';
import { AlertLoop } from '../../src/daemon/alerts/loop.ts';
import { parseAlertRules } from '../../src/daemon/alerts/ruleSpec.ts';
import { dataPaths } from '../../src/daemon/config/dataPaths.ts';
import {
  type ReceivedRequest,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../src/devtools/alertReceivers/webhookReceiver.ts';
import { exemptFromContract } from '../helpers/contract.ts';
import { cleanupDaemons, startDaemon, statusJson, waitFor, wuzctl } from '../helpers/daemon.ts';

// The fake Discord answers under /api/webhooks/…: not the daemon's API.
exemptFromContract();

// Our own DB index: the loop's keys (wuz:alerts:*) are removed by these tests only there.
const REDIS_URL = process.env.WUZ_TEST_ALERTS_REDIS_URL ?? 'redis://127.0.0.1:6379/12';

const titles = (receiver: WebhookReceiver) =>
  receiver.received
    .filter((entry) => entry.status < 300)
    .map((entry: ReceivedRequest) => String(entry.body?.embeds?.[0]?.title ?? entry.body?.text ?? ''));

/** Figures as a daemon would sample them: `errors` of `requests` answered 5xx so far. */
function figures(requests: number, errors: number, redisUp = true): Omit<Sample, 'at'> {
  return {
    requests,
    errors,
    buckets: [{ le: Number.POSITIVE_INFINITY, count: requests }],
    rssBytes: 1,
    memoryLimitBytes: 100,
    redisUp,
    databaseUp: true,
  };
}

describe('the alert loop, on a real Redis and a local Discord receiver', () => {
  let redis: Redis;
  let receiver: WebhookReceiver;
  const loops: AlertLoop[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    receiver = await startWebhookReceiver({ flavour: 'discord' });
  });
  afterEach(async () => {
    await Promise.all(loops.splice(0).map((loop) => loop.stop(100)));
    const keys = await redis.keys('wuz:alerts:*');
    if (keys.length) await redis.del(...keys);
    receiver.received.length = 0;
  });
  afterAll(async () => {
    redis.disconnect();
    await receiver.close();
  });

  /** A loop whose clock and figures the test moves; its evaluations run when the test says. */
  function loop(id: string, clock: { now: number }, sample: () => Omit<Sample, 'at'>, client: Redis = redis) {
    const made = new AlertLoop({
      rules: parseAlertRules('*.for=10s,*.window=60s,*.minRequests=10').rules,
      intervalMs: 5000,
      cooldownMs: 300_000,
      channels: [
        new WebhookChannel({
          url: new URL(receiver.url),
          format: 'discord',
          baseDelayMs: 10,
          maxDelayMs: 2000,
        }),
      ],
      instance: `test ${id}`,
      instanceId: id,
      runbookUrl: 'https://runbook.example.test/RUNBOOK.md',
      redis: () => client,
      sample: async () => sample(),
      log: pino({ level: 'silent' }),
      registry: new Registry(),
      now: () => clock.now,
    });
    loops.push(made);
    return made;
  }

  /** Evaluates every loop at each of these times (ms), then lets deliveries land. */
  async function run(clock: { now: number }, times: number[], ...targets: AlertLoop[]) {
    for (const at of times) {
      clock.now = at;
      for (const target of targets) await target.tick();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  it('fires once for two daemons on one Redis, whichever sees the errors, and resolves once', async () => {
    const clock = { now: 0 };
    let requests = 0;
    let errors = 0;
    const failing = loop('node-a', clock, () => figures(requests, errors));
    const healthy = loop('node-b', clock, () => figures(requests, 0));
    const times = Array.from({ length: 8 }, (_, i) => i * 5000);
    for (const at of times) {
      requests += 100;
      errors += 10; // 10% of node-a's requests fail
      await run(clock, [at], failing, healthy);
    }
    expect(titles(receiver)).toEqual(['[FIRING] HighErrorRate: HTTP 5xx error rate above 1%']);
    const sender = [failing, healthy].filter((l) => l.summary().sender);
    expect(sender).toHaveLength(1);
    expect(healthy.summary().alerts.find((a) => a.name === 'HighErrorRate')?.state).toBe('firing');
    // The errors stop: once the window holds none, one resolved message.
    for (const at of Array.from({ length: 14 }, (_, i) => 40_000 + i * 5000)) {
      requests += 100;
      await run(clock, [at], failing, healthy);
    }
    expect(titles(receiver)).toEqual([
      '[FIRING] HighErrorRate: HTTP 5xx error rate above 1%',
      '[RESOLVED] HighErrorRate: HTTP 5xx error rate above 1%',
    ]);
  });

  it('keeps what it sent across a restart: no second firing within the cooldown, the resolved one after', async () => {
    const clock = { now: 0 };
    let redisUp = false;
    const first = loop('node-a', clock, () => figures(0, 0, redisUp));
    await run(clock, [0, 5000, 10_000, 15_000], first);
    expect(titles(receiver)).toEqual(['[FIRING] RedisDown: Redis is unreachable']);
    await first.stop(100);
    // The same daemon started again, the condition still there: it holds (pending, then firing again).
    const second = loop('node-a2', clock, () => figures(0, 0, redisUp));
    await run(clock, [20_000, 25_000, 30_000, 35_000], second);
    expect(titles(receiver)).toHaveLength(1);
    redisUp = true;
    await run(clock, [40_000], second);
    expect(titles(receiver)).toEqual([
      '[FIRING] RedisDown: Redis is unreachable',
      '[RESOLVED] RedisDown: Redis is unreachable',
    ]);
  });

  it('alerts from memory when its Redis is away, and does not wait for a slow receiver', async () => {
    const clock = { now: 0 };
    const away = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    away.on('error', () => {});
    const alone = loop('node-c', clock, () => figures(0, 0, false), away);
    // The receiver is rate limited: it asks for a 1.5 s wait first.
    receiver.failNext(1, 429, { retryAfterSeconds: 1.5 });
    await run(clock, [0, 5000], alone);
    const began = performance.now();
    clock.now = 10_000;
    await alone.tick(); // fires: the delivery starts, the tick does not wait for it
    expect(performance.now() - began).toBeLessThan(1000);
    expect(alone.summary()).toMatchObject({ shared: false, sender: true });
    const delivered = await receiver.waitFor((entry) => entry.status === 200, 10_000);
    expect(delivered.body.embeds[0].title).toBe('[FIRING] RedisDown: Redis is unreachable');
    await waitFor(
      async () => alone.summary().alerts.find((a) => a.name === 'RedisDown')?.deliveries[0]?.attempts === 2,
      5000,
      'the delivery',
    );
    away.disconnect();
  });

  it('shares silences through Redis: a silenced alert does not fire, its silence shows on every node', async () => {
    const clock = { now: 0 };
    const a = loop('node-a', clock, () => figures(0, 0, false));
    const b = loop('node-b', clock, () => figures(0, 0, true));
    await a.silence('RedisDown', 60_000, 'planned restart', 'ops@test');
    await run(clock, [0, 5000, 10_000, 15_000], a, b);
    expect(titles(receiver)).toEqual([]);
    expect(b.summary().alerts.find((x) => x.name === 'RedisDown')?.silenced).toMatchObject({
      reason: 'planned restart',
    });
    await b.unsilence('RedisDown');
    await run(clock, [20_000], a, b);
    expect(titles(receiver)).toEqual(['[FIRING] RedisDown: Redis is unreachable']);
  });
});

describe('wuzctl alerts against a daemon', () => {
  let discord: WebhookReceiver;
  let slack: WebhookReceiver;
  beforeAll(async () => {
    discord = await startWebhookReceiver({ flavour: 'discord' });
    slack = await startWebhookReceiver({ flavour: 'slack' });
  });
  afterAll(async () => {
    await cleanupDaemons();
    await Promise.all([discord.close(), slack.close()]);
  });

  it('delivers a marked test to a Discord-format and a Slack-format receiver, and says when one refuses', async () => {
    for (const [receiver, format] of [
      [discord, 'discord'],
      [slack, 'slack'],
    ] as const) {
      const daemon = await startDaemon({
        apiWorkers: 1,
        queueWorkers: 0,
        env: { ALERT_WEBHOOK_URL: receiver.url, ALERT_WEBHOOK_FORMAT: format },
      });
      const status = await statusJson(daemon.dataDir);
      expect(status.alerts?.channels).toEqual([`${format} webhook at 127.0.0.1:${receiver.port}`]);
      expect(daemon.stdout()).toMatch(new RegExp(`alerts\\s+${format} webhook at 127\\.0\\.0\\.1`));
      const sent = await wuzctl(['alerts', 'test', 'RedisDown', '--data-dir', daemon.dataDir]);
      expect(sent.stderr).toBe('');
      expect(sent.exitCode).toBe(0);
      expect(sent.stdout).toMatch(/✓ webhook: accepted \(HTTP (200|204), 1 attempt\)/);
      const last = receiver.received.at(-1) as ReceivedRequest;
      const text = JSON.stringify(last.body);
      expect(text).toContain('[TEST] RedisDown');
      expect(text).toContain('nothing is wrong');
      receiver.failNext(1, 404);
      const refused = await wuzctl(['alerts', 'test', '--json', '--data-dir', daemon.dataDir]);
      expect(refused.exitCode).toBe(1);
      const body = JSON.parse(refused.stdout);
      expect(body).toMatchObject({
        ok: false,
        deliveries: [{ channel: 'webhook', ok: false, status: 404, attempts: 1 }],
      });
      await daemon.stop();
    }
  });

  it('lists the rules, silences one for every view, and refuses what it cannot do', async () => {
    const daemon = await startDaemon({ apiWorkers: 1, queueWorkers: 0 });
    const list = await wuzctl(['alerts', 'list', '--json', '--data-dir', daemon.dataDir]);
    expect(list.exitCode).toBe(0);
    const summary = JSON.parse(list.stdout);
    expect(summary.alerts.map((a: { name: string }) => a.name)).toEqual([
      'HighErrorRate',
      'HighLatencyP95',
      'RedisDown',
      'DatabaseDown',
      'HighMemoryUsage',
    ]);
    expect(summary.alerts[0]).toMatchObject({
      threshold: '1%',
      windowSeconds: 300,
      forSeconds: 300,
      state: 'inactive',
    });
    expect(summary.channels).toEqual([]);

    const silenced = await wuzctl([
      'alerts',
      'silence',
      'redisdown',
      '--for',
      '1h',
      '--reason',
      'maintenance',
      '--data-dir',
      daemon.dataDir,
    ]);
    expect(silenced.exitCode).toBe(0);
    expect(silenced.stdout).toMatch(/silenced RedisDown until/);
    const status = await statusJson(daemon.dataDir);
    expect(status.alerts?.alerts.find((a) => a.name === 'RedisDown')?.silenced).toMatchObject({
      reason: 'maintenance',
    });
    expect((await wuzctl(['status', '--data-dir', daemon.dataDir])).stdout).toMatch(
      /alerts .*silenced: RedisDown/,
    );
    expect((await wuzctl(['alerts', '--data-dir', daemon.dataDir])).stdout).toMatch(/RedisDown \(silenced\)/);
    expect((await wuzctl(['alerts', 'unsilence', 'RedisDown', '--data-dir', daemon.dataDir])).stdout).toMatch(
      /unsilenced RedisDown/,
    );

    const noChannel = await wuzctl(['alerts', 'test', '--data-dir', daemon.dataDir]);
    expect(noChannel.exitCode).toBe(1);
    expect(noChannel.stderr).toMatch(/no alert channel is configured: set ALERT_WEBHOOK_URL/);
    const badRule = await wuzctl(['alerts', 'silence', 'Nope', '--for', '1h', '--data-dir', daemon.dataDir]);
    expect(badRule.exitCode).toBe(2);
    expect(badRule.stderr).toMatch(/no alert rule "Nope"[\s\S]*HighErrorRate/);
    const badFor = await wuzctl([
      'alerts',
      'silence',
      'RedisDown',
      '--for',
      'forever',
      '--data-dir',
      daemon.dataDir,
    ]);
    expect(badFor.exitCode).toBe(2);
    // The control socket checks what it is sent, whoever sends it: 400 with the reason.
    const control = (path: string, body: string) =>
      new Promise<{ status: number; body: { error?: { code: string; message: string } } }>(
        (resolve, reject) => {
          const req = http.request(
            { socketPath: dataPaths(daemon.dataDir).socket, method: 'POST', path },
            (res) => {
              let text = '';
              res.on('data', (chunk) => {
                text += chunk;
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
            },
          );
          req.on('error', reject);
          req.end(body);
        },
      );
    for (const [path, body, reason] of [
      ['/alerts/silence', '{"rule":"Nope","forSeconds":60}', /rule must be one of/],
      ['/alerts/silence', '{"rule":"RedisDown","forSeconds":999999999}', /./],
      ['/alerts/silence', 'not json', /./],
      ['/alerts/test', '{"channel":"pager"}', /./],
      ['/alerts/unsilence', '{}', /./],
    ] as const) {
      const answer = await control(path, body);
      expect(answer.status, `${path} ${body}`).toBe(400);
      expect(answer.body.error?.code).toBe('invalid_request');
      expect(answer.body.error?.message).toMatch(reason);
    }
    await daemon.stop();
    const gone = await wuzctl(['alerts', 'list', '--data-dir', daemon.dataDir]);
    expect(gone.exitCode).toBe(3);
  });
});
