import type { Settled, Tally } from '../db/repositories/campaigns.ts';

export interface SettleBatchOptions {
  /** Writes one batch (one statement) and returns the campaign's state after it. */
  write: (batch: Settled[]) => Promise<Tally | null>;
  /** A batch this big is written at once. */
  maxItems: number;
  /** No outcome waits longer than this to be written. */
  maxWaitMs: number;
}

/**
 * Collects the outcomes of a campaign's sends and writes them in batches: one UPDATE per
 * `maxItems` outcomes or per `maxWaitMs`, whichever comes first, one write at a time.
 *
 * Why the wait is short: between a send and its settle the recipient is `sending` in the
 * database. A worker killed in that window leaves it so; it is reclaimed once older than
 * the job lock and sent again with the same message Id (the receiving side sees the same
 * message). Batching widens that window from one UPDATE to at most `maxWaitMs` plus one
 * write, so it stays a few tens of milliseconds.
 */
export class SettleBatch {
  private pending: Settled[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly options: SettleBatchOptions;
  /** The campaign as the last write left it (null until the first write). */
  tally: Tally | null = null;
  /** A write that failed: the job must stop (its rows stay `sending` and are reclaimed). */
  failure: unknown = null;

  constructor(options: SettleBatchOptions) {
    this.options = options;
  }

  add(outcome: Settled): void {
    this.pending.push(outcome);
    if (this.pending.length >= this.options.maxItems) void this.flush().catch(() => {});
    else this.timer ??= setTimeout(() => void this.flush().catch(() => {}), this.options.maxWaitMs);
  }

  /** Writes everything added so far; resolves once it is in the database. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    // Writes are chained: a batch never overtakes an earlier one, and the tally read last
    // is the newest.
    this.writing = this.writing.then(async () => {
      if (this.failure) throw this.failure;
      if (batch.length === 0) return;
      try {
        this.tally = (await this.options.write(batch)) ?? this.tally;
      } catch (error) {
        this.failure = error;
        throw error;
      }
    });
    return this.writing;
  }
}
