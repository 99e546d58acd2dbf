/**
 * What the running tracer shows the rest of the process: its span counts (for metrics)
 * and how to flush it at shutdown. The preload puts it on a global symbol, because it is
 * loaded first and on its own; code that runs with tracing off finds nothing here and
 * loads nothing else. This file imports nothing.
 */
export interface SpanCounts {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans dropped because the export queue was full (a slow or unreachable collector). */
  dropped: number;
  /** Spans lost in an export that failed. */
  failed: number;
}

export interface TracingRuntime {
  role: string;
  counts: SpanCounts;
  /** Exports what is queued and stops the tracer, giving up after `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<void>;
  /** The ids of the span current in this async context (for log lines), if any. */
  activeIds(): { trace_id: string; span_id: string } | undefined;
}

const KEY = Symbol.for('wuzctl.tracing');

type WithRuntime = typeof globalThis & { [KEY]?: TracingRuntime };

export function setTracingRuntime(runtime: TracingRuntime): void {
  (globalThis as WithRuntime)[KEY] = runtime;
}

/** The tracer of this process; undefined when tracing is off. */
export function tracingRuntime(): TracingRuntime | undefined {
  return (globalThis as WithRuntime)[KEY];
}

/** Flushes pending spans within `timeoutMs`; nothing to do when tracing is off. */
export async function flushTracing(timeoutMs: number): Promise<void> {
  await tracingRuntime()?.shutdown(timeoutMs);
}
