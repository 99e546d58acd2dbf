import type { Context } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { scrubAttributes, scrubString } from './privacy.ts';
import type { SpanCounts } from './runtime.ts';

/**
 * The exporter every span goes through: it applies the privacy rules (privacy.ts) to
 * attributes, event attributes and status messages, and counts what the collector took
 * and what was lost. A span is rewritten as a view over the original (Object.create),
 * because the SDK's spans carry getters the exporter's serializer reads.
 */
export class ScrubbingExporter implements SpanExporter {
  private readonly inner: SpanExporter;
  private readonly counts: SpanCounts;
  private readonly onSettled: (spans: number) => void;

  constructor(inner: SpanExporter, counts: SpanCounts, onSettled: (spans: number) => void) {
    this.inner = inner;
    this.counts = counts;
    this.onSettled = onSettled;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(scrubSpan), (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.counts.exported += spans.length;
      else this.counts.failed += spans.length;
      this.onSettled(spans.length);
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function scrubSpan(span: ReadableSpan): ReadableSpan {
  const attributes = scrubAttributes(span.attributes);
  const events = span.events.map((event) =>
    event.attributes ? { ...event, attributes: scrubAttributes(event.attributes) } : event,
  );
  const status = span.status.message
    ? { ...span.status, message: scrubString(span.status.message) }
    : span.status;
  return Object.create(span, {
    attributes: { value: attributes },
    events: { value: events },
    status: { value: status },
  }) as ReadableSpan;
}

/**
 * A bound on the spans waiting for export, in front of the batch processor: when the
 * collector is slow or away, spans beyond `maxQueued` are dropped and counted (the
 * processor's own queue drops silently), so memory stays bounded and requests never wait.
 */
export class BoundedSpanProcessor implements SpanProcessor {
  private queued = 0;
  private readonly inner: SpanProcessor;
  private readonly counts: SpanCounts;
  private readonly maxQueued: number;

  constructor(inner: SpanProcessor, counts: SpanCounts, maxQueued: number) {
    this.inner = inner;
    this.counts = counts;
    this.maxQueued = maxQueued;
  }

  /** The exporter has settled `spans` (sent or failed): they no longer wait. */
  settled(spans: number): void {
    this.queued = Math.max(0, this.queued - spans);
  }

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if (this.queued >= this.maxQueued) {
      this.counts.dropped++;
      return;
    }
    this.queued++;
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
