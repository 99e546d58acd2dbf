import { describe, expect, it } from 'vitest';
import type { Settled, Tally } from '../../src/daemon/db/repositories/campaigns.ts';
import { SettleBatch } from '../../src/daemon/workers/settleBatch.ts';

const tally = (sent: number): Tally => ({
  status: 'running',
  job_id: 'job',
  total: 10,
  sent,
  failed: 0,
  cancelled: 0,
  pending: 10 - sent,
});
const sent = (position: number): Settled => ({ position, status: 'sent', attempts: 1 });

describe('SettleBatch (outcomes written in batches)', () => {
  it('writes a full batch at once, the rest on flush, in order, one write at a time', async () => {
    const writes: number[][] = [];
    let writing = 0;
    let overlapped = false;
    const batch = new SettleBatch({
      maxItems: 3,
      maxWaitMs: 60_000,
      write: async (items) => {
        overlapped ||= writing > 0;
        writing++;
        await new Promise((resolve) => setImmediate(resolve));
        writes.push(items.map((i) => i.position));
        writing--;
        return tally(writes.flat().length);
      },
    });
    for (const position of [0, 1, 2, 3, 4]) batch.add(sent(position));
    await batch.flush();
    expect(writes).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(overlapped).toBe(false);
    expect(batch.tally?.sent).toBe(5);
  });

  it('writes what waits once maxWaitMs has passed, without a flush', async () => {
    const written: number[] = [];
    const batch = new SettleBatch({
      maxItems: 100,
      maxWaitMs: 5,
      write: async (items) => {
        written.push(...items.map((i) => i.position));
        return tally(written.length);
      },
    });
    batch.add(sent(7));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(written).toEqual([7]);
  });

  it('a failed write sticks: later flushes reject with it and write nothing more', async () => {
    let calls = 0;
    const batch = new SettleBatch({
      maxItems: 100,
      maxWaitMs: 60_000,
      write: async () => {
        calls++;
        throw new Error('database away');
      },
    });
    batch.add(sent(1));
    await expect(batch.flush()).rejects.toThrow('database away');
    batch.add(sent(2));
    await expect(batch.flush()).rejects.toThrow('database away');
    expect(calls).toBe(1);
    expect(batch.failure).toBeInstanceOf(Error);
  });
});
