import type { ReceivedSpan, ReceivedTrace } from './spans.ts';

/**
 * The last `keep` traces, assembled from spans that arrive in many batches from many
 * processes (an API worker, a queue worker, the supervisor). A trace "settles" once no new
 * span has come for `settleMs`: that is when it is printed; more spans later settle it again.
 */
export class TraceStore {
  private readonly traces = new Map<string, ReceivedTrace>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly keep: number;
  private readonly settleMs: number;
  onSettled?: (trace: ReceivedTrace) => void;

  constructor(keep: number, settleMs: number) {
    this.keep = keep;
    this.settleMs = settleMs;
  }

  add(spans: ReceivedSpan[], now = Date.now()): void {
    for (const span of spans) {
      let trace = this.traces.get(span.traceId);
      if (trace)
        this.traces.delete(span.traceId); // re-inserted: Map order is recency
      else trace = { traceId: span.traceId, spans: [], firstSeenMs: now, lastSeenMs: now };
      // A span exported twice (a retried export) is kept once.
      if (!trace.spans.some((known) => known.spanId === span.spanId)) trace.spans.push(span);
      trace.lastSeenMs = now;
      this.traces.set(span.traceId, trace);
      this.schedule(trace);
    }
    while (this.traces.size > this.keep) {
      const oldest = this.traces.keys().next().value as string;
      this.traces.delete(oldest);
      clearTimeout(this.timers.get(oldest));
      this.timers.delete(oldest);
    }
  }

  private schedule(trace: ReceivedTrace): void {
    clearTimeout(this.timers.get(trace.traceId));
    const timer = setTimeout(() => {
      this.timers.delete(trace.traceId);
      if (this.traces.get(trace.traceId) === trace) this.onSettled?.(trace);
    }, this.settleMs);
    timer.unref();
    this.timers.set(trace.traceId, timer);
  }

  /** Newest first. */
  all(): ReceivedTrace[] {
    return [...this.traces.values()].reverse();
  }

  get(traceId: string): ReceivedTrace | undefined {
    return this.traces.get(traceId.toLowerCase());
  }

  spanCount(): number {
    let count = 0;
    for (const trace of this.traces.values()) count += trace.spans.length;
    return count;
  }

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.traces.clear();
  }
}
