import type { Redis } from 'ioredis';
import { withTimeout } from '../services/redis.ts';
import { type AlertRecord, EMPTY_RECORD, type RuleState } from './engine.ts';
import { ALERT_NAMES, type AlertName } from './types.ts';

const PREFIX = 'wuz:alerts:';
const SENDER_KEY = `${PREFIX}sender`;
const NODES_KEY = `${PREFIX}nodes`;
const RECORDS_KEY = `${PREFIX}records`;
const nodeKey = (id: string) => `${PREFIX}node:${id}`;
const silenceKey = (name: AlertName) => `${PREFIX}silence:${name}`;

/** A silence: no firing or reminder for the alert until `until`. */
export interface Silence {
  until: number;
  reason: string;
  by: string;
  at: number;
}

/** What one daemon publishes at each evaluation, for the sender to merge. */
export interface NodeReport {
  /** The daemon process (host, pid, a random part): unique even for two daemons on one host. */
  id: string;
  /** What notifications and `alerts list` name it: host and URL. */
  instance: string;
  at: number;
  rules: Record<AlertName, RuleState>;
}

export interface SharedView {
  /** This daemon holds the sender lease: it alone notifies for the cluster. */
  sender: boolean;
  nodes: NodeReport[];
  records: Record<AlertName, AlertRecord>;
  silences: Partial<Record<AlertName, Silence>>;
}

// Take the lease when free, renew it when ours: one daemon sends at a time, and a sender
// that dies is replaced once its lease runs out.
const LEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2]) return 1
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

function parse<T>(text: string | null | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined; // written by something else: ignored, never trusted
  }
}

/**
 * The alert loop's shared state in Redis: the sender lease, each daemon's latest report,
 * what was notified per alert and the silences. Every call is bounded (Redis may be the
 * thing that is down): it throws after `timeoutMs`, and the loop falls back to memory.
 */
export class AlertStore {
  private readonly redis: Redis;
  private readonly instance: string;
  private readonly timeoutMs: number;

  constructor(redis: Redis, instance: string, timeoutMs = 1000) {
    this.redis = redis;
    this.instance = instance;
    this.timeoutMs = timeoutMs;
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    return withTimeout(work, this.timeoutMs, 'Redis did not answer');
  }

  /** Publishes this daemon's report, takes or renews the lease, reads the rest: two round trips. */
  async sync(report: NodeReport, leaseMs: number): Promise<SharedView> {
    const staleBefore = report.at - leaseMs;
    const first = await this.bounded(
      this.redis
        .multi()
        .set(nodeKey(this.instance), JSON.stringify(report), 'PX', leaseMs)
        .zadd(NODES_KEY, report.at, this.instance)
        .zremrangebyscore(NODES_KEY, '-inf', staleBefore)
        .zrange(NODES_KEY, '0', '-1')
        .eval(LEASE, '1', SENDER_KEY, this.instance, String(leaseMs))
        .hgetall(RECORDS_KEY)
        .mget(...ALERT_NAMES.map(silenceKey))
        .exec(),
    );
    if (!first) throw new Error('Redis discarded the transaction');
    const failed = first.find(([error]) => error);
    if (failed) throw failed[0] as Error;
    const ids = first[3]?.[1] as string[];
    const sender = first[4]?.[1] === 1;
    const recordTexts = first[5]?.[1] as Record<string, string>;
    const silenceTexts = first[6]?.[1] as (string | null)[];
    const nodeTexts = ids.length ? await this.bounded(this.redis.mget(...ids.map(nodeKey))) : [];
    const nodes = nodeTexts
      .map((text) => parse<NodeReport>(text))
      .filter((node): node is NodeReport => node !== undefined && typeof node.rules === 'object');
    const records = Object.fromEntries(
      ALERT_NAMES.map((name) => [name, { ...EMPTY_RECORD, ...parse<AlertRecord>(recordTexts[name]) }]),
    ) as Record<AlertName, AlertRecord>;
    const silences: Partial<Record<AlertName, Silence>> = {};
    ALERT_NAMES.forEach((name, i) => {
      const silence = parse<Silence>(silenceTexts[i]);
      if (silence && silence.until > report.at) silences[name] = silence;
    });
    return { sender, nodes, records, silences };
  }

  async saveRecords(records: Partial<Record<AlertName, AlertRecord>>): Promise<void> {
    const entries = Object.entries(records).map(([name, record]) => [name, JSON.stringify(record)]);
    if (entries.length) await this.bounded(this.redis.hset(RECORDS_KEY, Object.fromEntries(entries)));
  }

  /** Expires with the silence: a relative TTL, so nodes whose clocks differ agree on it. */
  async silence(name: AlertName, silence: Silence): Promise<void> {
    const ttl = Math.max(1, silence.until - silence.at);
    await this.bounded(this.redis.set(silenceKey(name), JSON.stringify(silence), 'PX', ttl));
  }

  async unsilence(name: AlertName): Promise<boolean> {
    return (await this.bounded(this.redis.del(silenceKey(name)))) > 0;
  }

  /** On stop: another daemon takes over at its next evaluation instead of after the lease. */
  async release(): Promise<void> {
    await this.bounded(
      this.redis
        .multi()
        .eval(RELEASE, '1', SENDER_KEY, this.instance)
        .del(nodeKey(this.instance))
        .zrem(NODES_KEY, this.instance)
        .exec(),
    );
  }
}
