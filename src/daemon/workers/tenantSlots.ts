import type { Redis } from 'ioredis';
import { QUEUE_PREFIX } from '../queues/index.ts';

/**
 * How many campaigns of one tenant send at once, across every queue worker. BullMQ's
 * per-group limits are a Pro feature; this is a lease set in Redis: a member per running
 * campaign job, scored by when its lease ends, so a killed worker's slot frees itself.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

export class TenantSlots {
  private readonly redis: Redis;
  private readonly limit: number;
  private readonly leaseMs: number;

  constructor(redis: Redis, limit: number, leaseMs: number) {
    this.redis = redis;
    this.limit = limit;
    this.leaseMs = leaseMs;
  }

  private key(tenantId: string): string {
    return `${QUEUE_PREFIX}:tenant-campaigns:${tenantId}`;
  }

  /** Takes (or renews) a slot for this job; false when the tenant's slots are all taken. */
  async acquire(tenantId: string, jobId: string): Promise<boolean> {
    const ok = await this.redis.eval(
      ACQUIRE,
      1,
      this.key(tenantId),
      Date.now(),
      this.leaseMs,
      this.limit,
      jobId,
    );
    return ok === 1;
  }

  async release(tenantId: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.key(tenantId), jobId);
  }
}
