import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { databaseHealthy } from '../db/pool.ts';
import { redisHealthy, withTimeout } from '../services/redis.ts';
import { countActiveSessions } from './activeSessions.ts';

/** The states BullMQ reports depths for (v6 has no separate "paused": paused jobs wait). */
export const QUEUE_DEPTH_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const;

/** A queue's depth by state right now; null when Redis does not answer within 1 s (no made-up zeros). */
export function queueDepths(queue: Queue): Promise<Record<string, number> | null> {
  return withTimeout(queue.getJobCounts(...QUEUE_DEPTH_STATES), 1000, 'timed out').catch(() => null);
}

/** The memory this daemon may use: the cgroup limit when there is one, else the machine's RAM. */
export async function memoryLimitBytes(): Promise<number> {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    const text = (await readFile(file, 'utf8').catch(() => '')).trim();
    const limit = Number(text);
    // "max" (v2) or a huge sentinel (v1) mean no limit.
    if (Number.isFinite(limit) && limit > 0 && limit < os.totalmem()) return limit;
  }
  return os.totalmem();
}

export interface GaugeSources {
  redis?: Redis;
  pool?: pg.Pool;
  queues?: Queue[];
}

/**
 * Gauges only the supervisor computes, once per scrape (in prom-client's collect()), so
 * they are never multiplied by the number of workers: service health, queue depths and
 * active sessions.
 */
export function registerSupervisorGauges(
  registry: Registry,
  sources: () => GaugeSources,
  limitBytes: () => Promise<number> = memoryLimitBytes,
): void {
  const registers = [registry];
  // 1 when the probe answers within its timeout (it returns what went wrong, or null).
  const upGauge = (name: string, help: string, probe: () => Promise<string | null> | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const problem = probe();
        this.set(problem && (await problem) === null ? 1 : 0);
      },
    });
  upGauge('redis_up', '1 when the supervisor can PING Redis within 1 s', () => {
    const { redis } = sources();
    return redis && redisHealthy(redis);
  });
  upGauge('database_up', '1 when the supervisor can run SELECT 1 within 1 s', () => {
    const { pool } = sources();
    return pool && databaseHealthy(pool);
  });
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in each queue by state, right now (completed and failed: those still retained)',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      await Promise.all(
        (sources().queues ?? []).map(async (queue) => {
          // Redis away: no sample rather than a made-up zero (redis_up says why).
          const counts = await queueDepths(queue);
          if (!counts) return;
          for (const state of QUEUE_DEPTH_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }),
      );
    },
  });
  new Gauge({
    name: 'active_sessions_total',
    help: 'Distinct API tokens that made an authenticated request in the last 5 minutes',
    registers,
    async collect() {
      const { redis } = sources();
      this.reset();
      const count = redis
        ? await withTimeout(countActiveSessions(redis), 1000, 'timed out').catch(() => null)
        : null;
      if (count !== null) this.set(count);
    },
  });
  const limit = new Gauge({
    name: 'wuzctl_memory_limit_bytes',
    help: 'Memory available to the daemon: its cgroup limit, else the machine total (for the memory alert)',
    registers,
  });
  void limitBytes().then((bytes) => limit.set(bytes));
}
