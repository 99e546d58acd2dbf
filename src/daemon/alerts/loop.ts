import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger.ts';
import {
  type AlertRecord,
  decide,
  EMPTY_RECORD,
  INITIAL_STATE,
  mergeStates,
  nextAllowedAt,
  nextState,
  type RuleState,
} from './engine.ts';
import { type Sample, SampleHistory } from './figures.ts';
import { buildNotification } from './notification.ts';
import { RULES, type RuleDefinition, type RuleParams } from './rules.ts';
import { AlertStore, type NodeReport, type SharedView, type Silence } from './store.ts';
import {
  ALERT_NAMES,
  type AlertChannel,
  type AlertName,
  type ChannelName,
  type DeliveryResult,
} from './types.ts';

export interface AlertLoopOptions {
  rules: Record<AlertName, RuleParams>;
  intervalMs: number;
  cooldownMs: number;
  channels: AlertChannel[];
  /** What a notification names: host and URL. */
  instance: string;
  /** Unique per daemon process: its report and its sender lease in Redis. */
  instanceId: string;
  runbookUrl: string;
  redis: () => Redis | undefined;
  /** The figures right now (the loop stamps the time). */
  sample: () => Promise<Omit<Sample, 'at'>>;
  log: Logger;
  registry: Registry;
  now?: () => number;
}

export interface Delivery extends DeliveryResult {
  channel: ChannelName;
  kind: string;
  at: string;
}

/** One rule in `wuzctl alerts list` and `status`. */
export interface AlertView {
  name: AlertName;
  severity: string;
  summary: string;
  threshold: string;
  windowSeconds: number | null;
  forSeconds: number;
  value: number | null;
  valueText: string | null;
  state: RuleState['state'];
  since: string | null;
  lastNotification: { kind: string; at: string } | null;
  nextAllowedAt: string | null;
  silenced: { until: string; reason: string; by: string } | null;
  deliveries: Delivery[];
}

export interface AlertsSummary {
  enabled: boolean;
  intervalSeconds: number;
  cooldownSeconds: number;
  channels: string[];
  /** This daemon sends for every daemon on its Redis (it holds the lease). */
  sender: boolean;
  /** State is shared in Redis (false: Redis is away, this daemon decides alone from memory). */
  shared: boolean;
  nodes: number;
  alerts: AlertView[];
}

const iso = (at: number | null | undefined) =>
  at === null || at === undefined ? null : new Date(at).toISOString();

/**
 * The supervisor's alert loop: every interval it samples the cluster's figures, steps each
 * rule (pending → firing → resolved), shares its view and what was sent through Redis so
 * that one daemon notifies for all, and hands notifications to the channels without
 * waiting for them: a slow receiver never delays the loop or the supervisor.
 */
export class AlertLoop {
  private readonly options: AlertLoopOptions;
  private readonly history: SampleHistory;
  private readonly now: () => number;
  private local = Object.fromEntries(ALERT_NAMES.map((name) => [name, INITIAL_STATE])) as Record<
    AlertName,
    RuleState
  >;
  private cluster = { ...this.local };
  private records = Object.fromEntries(ALERT_NAMES.map((name) => [name, EMPTY_RECORD])) as Record<
    AlertName,
    AlertRecord
  >;
  private silences: Partial<Record<AlertName, Silence>> = {};
  private deliveries = Object.fromEntries(ALERT_NAMES.map((name) => [name, [] as Delivery[]])) as Record<
    AlertName,
    Delivery[]
  >;
  private view: Pick<SharedView, 'sender' | 'nodes'> = { sender: false, nodes: [] };
  private shared = false;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly notifications: Counter<'alertname' | 'channel' | 'result'>;

  constructor(options: AlertLoopOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    const longest = Math.max(...Object.values(options.rules).map((params) => params.windowMs));
    this.history = new SampleHistory(longest + options.intervalMs);
    const registers = [options.registry];
    const loop = this;
    new Gauge({
      name: 'alerts_firing',
      help: '1 while the alert fires (cluster-wide, as the sending daemon sees it), else 0',
      labelNames: ['alertname'],
      registers,
      collect() {
        for (const name of ALERT_NAMES)
          this.set({ alertname: name }, Number(loop.cluster[name].state === 'firing'));
      },
    });
    this.notifications = new Counter({
      name: 'alert_notifications_total',
      help: 'Alert notifications by alert and channel: "sent" (the receiver accepted it) or "failed" (after every retry)',
      labelNames: ['alertname', 'channel', 'result'],
      registers,
    });
    for (const name of ALERT_NAMES) {
      for (const channel of options.channels) {
        for (const result of ['sent', 'failed'])
          this.notifications.inc({ alertname: name, channel: channel.name, result }, 0);
      }
    }
  }

  private cachedStore?: AlertStore;

  /** The store on the supervisor's Redis connection (made once: the connection lives as long as the loop). */
  private store(): AlertStore | undefined {
    const redis = this.options.redis();
    if (!redis) return undefined;
    this.cachedStore ??= new AlertStore(redis, this.options.instanceId);
    return this.cachedStore;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    void this.tick();
  }

  /** One evaluation; a tick still running (Redis slow to time out) makes the next one skip. */
  tick(): Promise<void> {
    this.ticking ??= this.evaluate()
      .catch((error) => this.options.log.error({ err: error }, 'alert evaluation failed'))
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  private async evaluate(): Promise<void> {
    const { rules, log, intervalMs } = this.options;
    const now = this.now();
    this.history.push({ ...(await this.options.sample()), at: now });
    for (const rule of RULES) {
      const params = rules[rule.name];
      const value = rule.measure(this.history, params);
      const known = value !== null || this.history.spanMs() >= params.windowMs;
      if (!known) {
        this.local[rule.name] = { ...this.local[rule.name], unknown: true };
        continue;
      }
      const breached = value !== null && rule.breached(value, params);
      this.local[rule.name] = nextState(this.local[rule.name], breached, value, params.forMs, now);
    }
    const report: NodeReport = {
      id: this.options.instanceId,
      instance: this.options.instance,
      at: now,
      rules: { ...this.local },
    };
    const leaseMs = Math.max(3 * intervalMs, 5000);
    const store = this.store();
    let view: SharedView;
    try {
      if (!store) throw new Error('no Redis connection');
      view = await store.sync(report, leaseMs);
      if (!this.shared) {
        // Back from memory: what this daemon sent meanwhile wins where it is newer.
        const merged = this.mergeRecords(view.records);
        await store.saveRecords(merged);
        view.records = merged;
        log.info('alert state is shared through Redis again');
      }
      this.shared = true;
    } catch (error) {
      if (this.shared)
        log.warn({ err: error }, 'alert state not shared: Redis is away, alerting from memory');
      this.shared = false;
      view = { sender: true, nodes: [report], records: this.records, silences: this.silences };
    }
    this.records = view.records;
    this.silences = view.silences;
    // Redis has our report too: ours is the one just made.
    const nodes = [report, ...view.nodes.filter((node) => node.id !== report.id)];
    this.view = { sender: view.sender, nodes };
    for (const name of ALERT_NAMES) {
      this.cluster[name] = mergeStates(nodes.map((node) => node.rules[name] ?? INITIAL_STATE));
    }
    if (!view.sender) return;
    const changed: Partial<Record<AlertName, AlertRecord>> = {};
    const due: { rule: RuleDefinition; kind: 'firing' | 'reminder' | 'resolved'; record: AlertRecord }[] = [];
    for (const rule of RULES) {
      const decision = decide(
        this.records[rule.name],
        this.cluster[rule.name],
        now,
        this.options.cooldownMs,
        Boolean(this.silences[rule.name]),
      );
      if (!decision.kind) continue;
      changed[rule.name] = decision.record;
      due.push({ rule, kind: decision.kind, record: this.records[rule.name] });
      this.records[rule.name] = decision.record;
    }
    if (due.length === 0) return;
    // Recorded before it is sent: a restart or another daemon never sends it twice.
    if (this.shared && store) {
      await store.saveRecords(changed).catch((error) => {
        log.warn({ err: error }, 'could not record the alert notifications in Redis');
      });
    }
    for (const { rule, kind, record } of due) {
      const state = this.cluster[rule.name];
      this.dispatch(
        buildNotification({
          kind,
          rule,
          params: rules[rule.name],
          value: state.value,
          startsAt: (kind === 'resolved' ? record.firingSince : state.since) ?? now,
          ...(kind === 'resolved' ? { endsAt: now } : {}),
          instance: this.options.instance,
          runbookUrl: this.options.runbookUrl,
        }),
      );
    }
  }

  private mergeRecords(fromRedis: Record<AlertName, AlertRecord>): Record<AlertName, AlertRecord> {
    return Object.fromEntries(
      ALERT_NAMES.map((name) => {
        const ours = this.records[name];
        const theirs = fromRedis[name];
        return [name, (ours.lastNotifiedAt ?? 0) > (theirs.lastNotifiedAt ?? 0) ? ours : theirs];
      }),
    ) as Record<AlertName, AlertRecord>;
  }

  private dispatch(notification: ReturnType<typeof buildNotification>): void {
    const { log } = this.options;
    log.warn(
      { alert: notification.alert, kind: notification.kind, value: notification.value },
      `alert ${notification.kind}: ${notification.summary}`,
    );
    for (const channel of this.options.channels) {
      const delivery = this.deliver(channel, notification).then((result) => {
        if (!result.ok) {
          log.error(
            {
              alert: notification.alert,
              channel: channel.name,
              status: result.status,
              attempts: result.attempts,
              answer: result.answer,
            },
            'alert notification failed',
          );
        }
      });
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
    }
  }

  private async deliver(
    channel: AlertChannel,
    notification: ReturnType<typeof buildNotification>,
  ): Promise<Delivery> {
    const result = await channel.send(notification, this.abort.signal);
    const delivery: Delivery = {
      ...result,
      channel: channel.name,
      kind: notification.kind,
      at: new Date(this.now()).toISOString(),
    };
    if (notification.kind !== 'test') {
      this.notifications.inc({
        alertname: notification.alert,
        channel: channel.name,
        result: result.ok ? 'sent' : 'failed',
      });
    }
    const kept = this.deliveries[notification.alert];
    kept.unshift(delivery);
    kept.splice(5);
    return delivery;
  }

  /** `wuzctl alerts test`: a marked notification through the same channels; waits for the receivers' answers. */
  async test(ruleName: AlertName, channel?: ChannelName): Promise<Delivery[]> {
    const rule = RULES.find((r) => r.name === ruleName) as RuleDefinition;
    const channels = this.options.channels.filter((c) => !channel || c.name === channel);
    const now = this.now();
    const notification = buildNotification({
      kind: 'test',
      rule,
      params: this.options.rules[rule.name],
      value: null,
      startsAt: now,
      instance: this.options.instance,
      runbookUrl: this.options.runbookUrl,
    });
    return Promise.all(channels.map((c) => this.deliver(c, notification)));
  }

  async silence(
    name: AlertName,
    forMs: number,
    reason: string,
    by: string,
  ): Promise<{ silence: Silence; shared: boolean }> {
    const now = this.now();
    const silence: Silence = { until: now + forMs, reason, by, at: now };
    this.silences[name] = silence;
    const shared = await this.store()
      ?.silence(name, silence)
      .then(
        () => true,
        () => false,
      );
    return { silence, shared: shared ?? false };
  }

  async unsilence(name: AlertName): Promise<{ removed: boolean; shared: boolean }> {
    const local = Boolean(this.silences[name]);
    delete this.silences[name];
    const removed = await this.store()
      ?.unsilence(name)
      .then(
        (gone) => ({ gone, shared: true }),
        () => ({ gone: false, shared: false }),
      );
    return { removed: local || Boolean(removed?.gone), shared: removed?.shared ?? false };
  }

  channelNames(): ChannelName[] {
    return this.options.channels.map((channel) => channel.name);
  }

  summary(): AlertsSummary {
    const { rules, cooldownMs, intervalMs } = this.options;
    const now = this.now();
    return {
      enabled: true,
      intervalSeconds: intervalMs / 1000,
      cooldownSeconds: cooldownMs / 1000,
      channels: this.options.channels.map((channel) => channel.describe()),
      sender: this.view.sender,
      shared: this.shared,
      nodes: this.view.nodes.length,
      alerts: RULES.map((rule) => {
        const params = rules[rule.name];
        const state = this.cluster[rule.name];
        const record = this.records[rule.name];
        const silence = this.silences[rule.name];
        const allowed = nextAllowedAt(record, cooldownMs);
        return {
          name: rule.name,
          severity: rule.severity,
          summary: rule.tunable.threshold ? `${rule.summary} ${rule.thresholdText(params)}` : rule.summary,
          threshold: rule.thresholdText(params),
          windowSeconds: rule.tunable.window ? params.windowMs / 1000 : null,
          forSeconds: params.forMs / 1000,
          value: state.value,
          valueText: state.value === null ? null : rule.format(state.value),
          state: state.state,
          since: iso(state.since),
          lastNotification: record.lastKind
            ? { kind: record.lastKind, at: iso(record.lastNotifiedAt) as string }
            : null,
          nextAllowedAt: allowed !== null && allowed > now ? iso(allowed) : null,
          silenced:
            silence && silence.until > now
              ? { until: iso(silence.until) as string, reason: silence.reason, by: silence.by }
              : null,
          deliveries: this.deliveries[rule.name],
        };
      }),
    };
  }

  /** Stops evaluating, gives deliveries in flight `graceMs`, then aborts them; hands the lease over. */
  async stop(graceMs = 2000): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    if (this.inFlight.size) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      this.abort.abort();
      await Promise.allSettled([...this.inFlight]);
    }
    await this.store()
      ?.release()
      .catch(() => {});
  }
}
