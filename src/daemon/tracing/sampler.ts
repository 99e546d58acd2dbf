import type { IncomingMessage } from 'node:http';
import type { Attributes, Context, Link, SpanKind as SpanKindType } from '@opentelemetry/api';
import { SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SamplingResult,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';

/**
 * One request in twenty is traced by default. A trace is for reading one request end to
 * end, not for counting (Prometheus counts every request): at 100 requests/s that is 5
 * traces/s, more than anyone reads; and below that, a request that is not traced costs
 * almost nothing (see sampleIncoming). `npm run bench:tracing` has the figures.
 */
export const DEFAULT_RATIO = 0.05;

/** How this process samples: the SDK's sampler, and the decision taken as a request arrives. */
export interface SamplingPolicy {
  sampler: Sampler;
  /**
   * Whether an incoming request is traced at all. False: the HTTP instrumentation ignores
   * it and suppresses tracing for its whole handling, so Express, Redis and PostgreSQL
   * create no spans either. Deciding here, before any span exists, is what makes an
   * unsampled request cheap: a sampler decides only after the instrumentation has done
   * its work (the request's attributes, a span object, the context, the per-layer wrapping).
   */
  sampleIncoming(request: IncomingMessage): boolean;
  description: string;
}

/**
 * The sampler from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, as the specification
 * names them (the SDK's TracerProvider no longer reads them itself). A sampler named
 * explicitly behaves exactly as specified, and every request goes through it.
 *
 * Unset, the default is parent-based with the ratio decided on arrival (sampleIncoming),
 * and one difference from `parentbased_traceidratio`: a caller's `traceparent` saying
 * "sampled" does not force a sample. Anyone can send that header; honouring it would let
 * any client turn on full tracing, and its cost, for every request it makes. A caller's
 * "not sampled" is honoured, and a sampled request keeps the caller's trace id, so a
 * traced proxy in front still links up.
 */
export function samplingFromEnv(env: NodeJS.ProcessEnv, random: () => number = Math.random): SamplingPolicy {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || '';
  const ratio = ratioOf(env.OTEL_TRACES_SAMPLER_ARG);
  const every = () => true;
  switch (name) {
    case 'always_on':
      return { sampler: new AlwaysOnSampler(), sampleIncoming: every, description: name };
    case 'always_off':
      return { sampler: new AlwaysOffSampler(), sampleIncoming: () => false, description: name };
    case 'traceidratio':
      return {
        sampler: new TraceIdRatioBasedSampler(ratio),
        sampleIncoming: every,
        description: `${name} ${ratio}`,
      };
    case 'parentbased_always_on':
      return {
        sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
        sampleIncoming: every,
        description: name,
      };
    case 'parentbased_always_off':
      return {
        sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
        sampleIncoming: every,
        description: name,
      };
    case 'parentbased_traceidratio':
      return {
        sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
        sampleIncoming: every,
        description: `${name} ${ratio}`,
      };
    default: {
      const root = new ArrivalDecidedSampler(new TraceIdRatioBasedSampler(ratio));
      return {
        sampler: new ParentBasedSampler({ root, remoteParentSampled: root }),
        sampleIncoming: (request) => !callerSaysNotSampled(request) && random() < ratio,
        description: `parentbased_traceidratio ${ratio}, decided on arrival (a caller's "sampled" does not force it)`,
      };
    }
  }
}

/**
 * Root spans: a server span was sampled already, on arrival (only sampled requests get
 * one); any other root (a job enqueued untraced, a supervisor task) by the ratio.
 */
class ArrivalDecidedSampler implements Sampler {
  private readonly always = new AlwaysOnSampler();
  private readonly ratio: Sampler;

  constructor(ratio: Sampler) {
    this.ratio = ratio;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKindType,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const sampler = spanKind === SpanKind.SERVER ? this.always : this.ratio;
    return sampler.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `ArrivalDecided{${this.ratio.toString()}}`;
  }
}

/** A `traceparent` whose flags say "not sampled" (`00-<trace>-<span>-00`). */
function callerSaysNotSampled(request: IncomingMessage): boolean {
  const header = request.headers.traceparent;
  if (typeof header !== 'string') return false;
  const match = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-([\da-f]{2})$/.exec(header.trim());
  return match ? (Number.parseInt(match[1] as string, 16) & 1) === 0 : false;
}

/** OTEL_TRACES_SAMPLER_ARG: a ratio in [0, 1]; anything else falls back to the default. */
function ratioOf(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_RATIO;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : DEFAULT_RATIO;
}
