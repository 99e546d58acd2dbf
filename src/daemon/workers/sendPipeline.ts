import type { Recipient } from '../db/repositories/campaigns.ts';

/** The most recipients one claim takes (one UPDATE … RETURNING). */
export const MAX_CLAIM = 256;
/** Claims hold about this much sending ahead, at the rate the campaign is going. */
const CLAIM_AHEAD_MS = 100;

export interface PipelineSteps {
  /** Sends in flight at once (the campaign's burst). */
  burst: number;
  /** Claims up to `limit` pending recipients in one statement (none: nothing left to claim). */
  claim(limit: number): Promise<Recipient[]>;
  /** Sends one claimed recipient and hands its outcome to the settle batch; never throws. */
  send(recipient: Recipient): Promise<void>;
  /** Gives back claimed recipients that were never sent. */
  release(recipients: Recipient[]): Promise<void>;
  /** True once no new send may start: shutting down, paused, cancelled, superseded. */
  stopped(): boolean;
  /** Between events: renew the tenant slot, report progress, surface a failed settle. */
  tick(): Promise<void>;
}

/**
 * A campaign with no pacing: keeps `burst` sends in flight continuously while the next
 * claim is already on its way, instead of claiming a batch, waiting for all of it, and
 * claiming again. Claims are sized to the campaign's own rate (about CLAIM_AHEAD_MS of
 * sending, at least `burst`, at most MAX_CLAIM): one round trip per claim at thousands
 * of messages per second, and against a slow WuzAPI no more claimed ahead than today —
 * a claim that waits long in hand would be mistaken for a dead worker's (reclaimStale).
 *
 * Returns when nothing is left to claim and every send has settled, or when stopped():
 * then the sends in flight finish and the recipients claimed but not yet sent are
 * released. Either way nothing of this run is `sending` any more, except after a failed
 * settle (which throws, and the job retries).
 */
export async function runPipeline(steps: PipelineSteps): Promise<void> {
  const buffer: Recipient[] = [];
  const inFlight = new Set<Promise<void>>();
  let claiming: Promise<void> | null = null;
  let exhausted = false;
  let done = 0;
  const began = performance.now();

  const claimSize = () => {
    const elapsedMs = performance.now() - began;
    const rate = elapsedMs > 0 ? done / elapsedMs : 0;
    return Math.min(MAX_CLAIM, Math.max(steps.burst, Math.round(rate * CLAIM_AHEAD_MS)));
  };
  const start = (recipient: Recipient) => {
    const sending: Promise<void> = steps.send(recipient).finally(() => {
      inFlight.delete(sending);
      done++;
    });
    inFlight.add(sending);
  };

  let claimError: unknown = null;
  try {
    for (;;) {
      await steps.tick();
      if (claimError) throw claimError;
      if (steps.stopped()) break;
      // The next claim goes out while a burst's worth is still in hand, so the sends
      // never wait for the database.
      if (!claiming && !exhausted && buffer.length <= steps.burst) {
        claiming = steps
          .claim(claimSize())
          .then((rows) => {
            if (rows.length === 0) exhausted = true;
            buffer.push(...rows);
          })
          .catch((error: unknown) => {
            claimError = error;
          })
          .finally(() => {
            claiming = null;
          });
      }
      while (inFlight.size < steps.burst && buffer.length > 0) start(buffer.shift() as Recipient);
      if (inFlight.size === 0 && !claiming) {
        if (buffer.length === 0) break;
        continue;
      }
      await Promise.race(claiming ? [...inFlight, claiming] : inFlight);
    }
  } finally {
    // Settled, not all: one failed send must not keep the others' claims from being released.
    await Promise.allSettled([...inFlight, claiming]);
    if (buffer.length > 0) await steps.release(buffer.splice(0));
  }
}
