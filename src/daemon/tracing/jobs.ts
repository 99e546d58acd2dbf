import type { Attributes, Span } from '@opentelemetry/api';
import { tracingRuntime } from './runtime.ts';

/**
 * Trace context across the queue. A job carries the W3C `traceparent` (and `tracestate`)
 * of the request that enqueued it, in its data, so whichever worker runs it — now, after a
 * delay, or after a crash and a retry — continues the same trace.
 *
 * The processing span is a child of the enqueue span, not a link: a campaign, an import
 * or a report is started by exactly one request and is that request's work, so it belongs
 * in that request's trace, read top to bottom in one view. (Links are for work that has
 * many causes, such as a batch of messages, or that must not lengthen the caller's trace;
 * neither applies.) Every run of a job — a park, a resume, a retry — is one more
 * processing span under the same parent, with its attempt number.
 *
 * With tracing off nothing is carried and nothing is recorded, and this module does not
 * load the OpenTelemetry API, whose every call would be a no-op (prom-client loads the API
 * package anyway, for its exemplars; the SDK stays out). The tracing preload has set the
 * runtime before any job runs, so "off" is known for the life of the process.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

type OtelApi = typeof import('@opentelemetry/api');
let loaded: Promise<OtelApi> | undefined;
/** The OpenTelemetry API, loaded on the first traced job (tracing on only). */
const otel = () => (loaded ??= import('@opentelemetry/api'));

/** Semantic-convention attributes of a job's message. */
function messagingAttributes(queue: string, jobId: string): Attributes {
  return {
    'messaging.system': 'bullmq',
    'messaging.destination.name': queue,
    'messaging.message.id': jobId,
  };
}

/**
 * Runs `add` (which puts the job in Redis) inside a producer span, and gives it the
 * carrier to store with the job; the carrier is empty when nothing is traced.
 */
export async function tracedEnqueue<T>(
  queue: string,
  jobId: string,
  add: (carrier: TraceCarrier | undefined) => Promise<T>,
): Promise<T> {
  if (!tracingRuntime()) return add(undefined);
  const { context, propagation, SpanKind, SpanStatusCode, trace } = await otel();
  return trace.getTracer('wuzctl').startActiveSpan(
    `send ${queue}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { ...messagingAttributes(queue, jobId), 'messaging.operation.type': 'send' },
    },
    async (span) => {
      const carrier: TraceCarrier = {};
      propagation.inject(context.active(), carrier);
      try {
        return await add(carrier.traceparent ? carrier : undefined);
      } catch (error) {
        failed(span, error, SpanStatusCode.ERROR);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** What a run of a job ended with, when it is not an error: parked, handed back. */
export type RunOutcome = 'completed' | 'delayed' | 'waiting';

/**
 * Runs one attempt of a job inside a consumer span continuing the trace its carrier
 * names (a new trace when it carries none: a job enqueued with tracing off).
 */
export async function tracedProcess<R>(
  job: { queueName: string; id?: string; attemptsMade: number; data: { trace?: TraceCarrier } },
  run: () => Promise<R>,
  outcomeOf: (error: unknown) => RunOutcome | undefined,
): Promise<R> {
  if (!tracingRuntime()) return run();
  const { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = await otel();
  const parent = job.data.trace ? propagation.extract(ROOT_CONTEXT, job.data.trace) : ROOT_CONTEXT;
  const span = trace.getTracer('wuzctl').startSpan(
    `process ${job.queueName}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...messagingAttributes(job.queueName, String(job.id)),
        'messaging.operation.type': 'process',
        'wuz.job.attempt': job.attemptsMade + 1,
      },
    },
    parent,
  );
  try {
    const result = await context.with(trace.setSpan(parent, span), run);
    span.setAttribute('wuz.job.outcome', 'completed');
    return result;
  } catch (error) {
    const outcome = outcomeOf(error);
    if (outcome) span.setAttribute('wuz.job.outcome', outcome);
    else {
      span.setAttribute('wuz.job.outcome', 'failed');
      failed(span, error, SpanStatusCode.ERROR);
    }
    throw error;
  } finally {
    span.end();
  }
}

function failed(span: Span, error: unknown, code: OtelApi['SpanStatusCode']['ERROR']): void {
  const message = (error as Error)?.message ?? String(error);
  span.setStatus({ code, message });
  span.setAttribute('error.type', (error as Error)?.name ?? 'Error');
}
