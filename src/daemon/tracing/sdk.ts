import { randomUUID } from 'node:crypto';
import { context, DiagLogLevel, diag, propagation, TraceFlags, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { type Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { version } from '../../paths.ts';
import { BoundedSpanProcessor, ScrubbingExporter } from './export.ts';
import { installFastPaths } from './fastPath.ts';
import { type SpanCounts, setTracingRuntime, type TracingRuntime } from './runtime.ts';
import { samplingFromEnv } from './sampler.ts';

/** Requests that are probes, not work: they would outnumber every real trace. */
export const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export const DEFAULT_SERVICE_NAME = 'wuzapi-manager';

/** A standard OTEL_BSP_* number, or the default when unset or not a positive number. */
function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name]);
  return env[name] && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Whether an incoming request's path (query stripped) is one not to trace. */
export function isUntraced(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0] as string;
  return UNTRACED_PATHS.has(path.length > 1 ? path.replace(/\/+$/, '') : path);
}

/**
 * Starts tracing in this process: W3C trace context, the instrumentations of the modules
 * we use (http, Express, ioredis, pg, and undici, which is what `fetch` — the WuzAPI
 * client — runs on), and a batch exporter over OTLP/HTTP protobuf configured by the
 * standard OTEL_EXPORTER_OTLP_* variables. Deliberately not NodeSDK: it pulls in gRPC,
 * Zipkin, Prometheus, metrics and logs exporters (and, unset, turns the last two on),
 * none of which we use; this is the part of it we need.
 */
export function startTracing(role: string, env: NodeJS.ProcessEnv = process.env): TracingRuntime {
  if (env.OTEL_LOG_LEVEL) diag.setLogger({ ...console, verbose: console.debug }, DiagLogLevel.WARN);
  const counts: SpanCounts = { exported: 0, dropped: 0, failed: 0 };
  const sampling = samplingFromEnv(env);
  const { sampler } = sampling;
  // Precedence: OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME over our defaults; the role
  // and the instance are this process's own and always ours.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME, 'service.version': version }))
    .merge(detectResources({ detectors: [hostDetector, processDetector, envDetector] }))
    .merge(resourceFromAttributes({ 'service.instance.id': randomUUID(), 'wuz.role': role }));

  const maxQueued = envNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048);
  let bounded: BoundedSpanProcessor | undefined;
  const exporter = new ScrubbingExporter(
    new OTLPTraceExporter({ timeoutMillis: envNumber(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 5000) }),
    counts,
    (spans) => bounded?.settled(spans),
  );
  const batch = new BatchSpanProcessor({
    exporter,
    // Our bound comes first (it counts what it drops); the batch queue is only a backstop.
    maxQueueSize: maxQueued * 2,
    maxExportBatchSize: Math.min(maxQueued, envNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512)),
    // One second, not the specification's five: a developer watching `wuzctl traces`
    // sees a request at once, and the cost is one small POST per second at most.
    scheduledDelayMillis: envNumber(env, 'OTEL_BSP_SCHEDULE_DELAY', 1000),
    exportTimeoutMillis: envNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT', 5000),
  });
  bounded = new BoundedSpanProcessor(batch, counts, maxQueued);
  const provider = new TracerProvider({ resource, sampler, spanProcessors: [bounded] });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  // One decision per request, taken as it arrives (fastPath.ts): traced, or not touched at all.
  installFastPaths((request) => !isUntraced(request.url) && sampling.sampleIncoming(request));
  const instrumentations: Record<string, () => Instrumentation> = {
    http: () =>
      new HttpInstrumentation({
        // Outgoing node:http calls with no request around them are our own plumbing.
        requireParentforOutgoingSpans: true,
      }),
    // Router and route-handler spans; one span per middleware would triple the count.
    express: () => new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
    // The command's name only: arguments are keys and values, which may name people.
    ioredis: () =>
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    pg: () => new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    undici: () => new UndiciInstrumentation({ requireParentforSpans: true }),
  };
  // OTEL_NODE_DISABLED_INSTRUMENTATIONS, as auto-instrumentations-node reads it: `pg,express`.
  // Constructing an instrumentation enables it, so a disabled one is never built.
  const disabled = new Set((env.OTEL_NODE_DISABLED_INSTRUMENTATIONS ?? '').split(',').map((n) => n.trim()));
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: Object.entries(instrumentations)
      .filter(([name]) => !disabled.has(name))
      .map(([, create]) => create()),
  });

  let stopped: Promise<void> | undefined;
  const runtime: TracingRuntime = {
    role,
    counts,
    shutdown(timeoutMs) {
      stopped ??= Promise.race([
        provider.shutdown().catch(() => {}),
        new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, timeoutMs)).unref()),
      ]);
      return stopped;
    },
    activeIds() {
      const span = trace.getSpan(context.active());
      if (!span) return undefined;
      const { traceId, spanId, traceFlags } = span.spanContext();
      // An unsampled span's ids lead to no trace: a log line naming them would mislead.
      if ((traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
      return { trace_id: traceId, span_id: spanId };
    },
  };
  setTracingRuntime(runtime);
  return runtime;
}
