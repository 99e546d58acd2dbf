import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServeConfig } from '../../src/daemon/config/load.ts';
import { expressInternals, httpInternals } from '../../src/daemon/tracing/fastPath.ts';
import { serveWantsTracing, tracingEnabled, tracingModeOf } from '../../src/daemon/tracing/mode.ts';
import {
  REDACTED,
  scrubAttributes,
  scrubQuery,
  scrubSql,
  scrubUrl,
} from '../../src/daemon/tracing/privacy.ts';
import { DEFAULT_RATIO, samplingFromEnv } from '../../src/daemon/tracing/sampler.ts';
import { isUntraced } from '../../src/daemon/tracing/sdk.ts';

const request = (headers: Record<string, string> = {}) => ({ headers }) as unknown as IncomingMessage;

describe('tracing mode', () => {
  it('auto traces only when an OTLP endpoint is configured, and OTEL_SDK_DISABLED wins', () => {
    expect(tracingEnabled('auto', {})).toBe(false);
    expect(tracingEnabled('auto', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabled('auto', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c/v1/traces' })).toBe(true);
    expect(tracingEnabled('auto', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
    expect(tracingEnabled('on', {})).toBe(true);
    expect(tracingEnabled('off', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' })).toBe(false);
    expect(tracingEnabled('on', { OTEL_SDK_DISABLED: 'true' })).toBe(false);
  });

  it('refuses a mode that is not one, naming where it came from and what is allowed', () => {
    expect(() => loadServeConfig({ tracing: 'maybe' }, {})).toThrow(ConfigError);
    expect(() => loadServeConfig({}, { WUZ_TRACING: 'yes' })).toThrow(
      /WUZ_TRACING = "yes": must be auto, on or off/,
    );
    expect(loadServeConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing).toBe(true);
    expect(
      loadServeConfig({ tracing: 'off' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing,
    ).toBe(false);
  });

  it('reads the mode from the last --tracing flag, then WUZ_TRACING', () => {
    expect(tracingModeOf(['node', 'wuzctl', 'serve', '--tracing', 'on'], {})).toBe('on');
    expect(tracingModeOf(['node', 'wuzctl', 'serve', '--tracing=off'], { WUZ_TRACING: 'on' })).toBe('off');
    expect(tracingModeOf(['node', 'wuzctl', 'serve'], { WUZ_TRACING: 'on' })).toBe('on');
    expect(tracingModeOf(['node', 'wuzctl', 'serve'], {})).toBe('auto');
  });

  it('preloads only for serve, and never for an invalid mode (the option reports it)', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(serveWantsTracing(['node', 'wuzctl', 'serve'], endpoint)).toBe(true);
    expect(serveWantsTracing(['node', 'wuzctl', 'status'], endpoint)).toBe(false);
    expect(serveWantsTracing(['node', 'wuzctl', 'serve', '--tracing', 'maybe'], endpoint)).toBe(false);
    expect(serveWantsTracing(['node', 'wuzctl', 'serve', '--tracing', 'off'], endpoint)).toBe(false);
  });

  it("finds the instrumentations' own hook methods the fast path wraps (the pinned versions have them)", () => {
    expect(httpInternals._incomingRequestFunction).toBeTypeOf('function');
    expect(expressInternals._applyPatch).toBeTypeOf('function');
  });

  it('does not trace probes and scrapes', () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/metrics?x=1', '/healthz/'])
      expect(isUntraced(url)).toBe(true);
    for (const url of ['/', '/api/contacts', '/metricsx', '/api/healthz'])
      expect(isUntraced(url)).toBe(false);
  });
});

describe('span privacy', () => {
  it('keeps query parameter names and hides every value', () => {
    expect(scrubQuery('q=%2B5511999998888&page=2&flag')).toBe(`q=${REDACTED}&page=${REDACTED}&flag`);
    expect(scrubQuery('?token=abc')).toBe(`?token=${REDACTED}`);
    expect(scrubUrl('http://user:pw@wuzapi:8080/chat/send/text?phone=5511999998888')).toBe(
      `http://wuzapi:8080/chat/send/text?phone=${REDACTED}`,
    );
  });

  it('hides credentials, phones and e-mail addresses wherever they appear, and leaves ids alone', () => {
    const scrubbed = scrubAttributes({
      'http.request.header.authorization': ['Bearer wuz_abc'],
      'exception.message': 'send to +55 11 99999-8888 failed for a@b.example with sk_live_1234567890abcdef',
      'app.note': 'Bearer eyJhbGciOi.payload.sig',
      'messaging.message.id': '550e8400-e29b-41d4-a716-446655440000',
      'url.query': 'q=secret',
      'http.response.status_code': 200,
    });
    expect(scrubbed['http.request.header.authorization']).toBe(REDACTED);
    expect(scrubbed['exception.message']).toBe(`send to ${REDACTED} failed for ${REDACTED} with ${REDACTED}`);
    expect(scrubbed['app.note']).toBe(REDACTED);
    expect(scrubbed['messaging.message.id']).toBe('550e8400-e29b-41d4-a716-446655440000');
    expect(scrubbed['url.query']).toBe(`q=${REDACTED}`);
    expect(scrubbed['http.response.status_code']).toBe(200);
  });

  it('returns the same object when there is nothing to hide', () => {
    const clean = { 'http.route': '/api/contacts/:id', 'db.system.name': 'postgresql' };
    expect(scrubAttributes(clean)).toBe(clean);
  });

  it('replaces SQL literals; parameters are placeholders already', () => {
    expect(scrubSql("SELECT * FROM contacts WHERE phone = '+5511999998888' AND tenant_id = $1")).toBe(
      "SELECT * FROM contacts WHERE phone = '?' AND tenant_id = $1",
    );
  });
});

describe('sampling', () => {
  const shouldSample = (
    sampler: ReturnType<typeof samplingFromEnv>['sampler'],
    kind: SpanKind,
    traceId: string,
  ) => sampler.shouldSample(ROOT_CONTEXT, traceId, 'span', kind, {}, []).decision;
  // The ratio sampler's verdict is a function of the trace id: these two, checked with the
  // SDK, fall on either side of 5 %.
  const lowTrace = 'ffffffffffffffffffffffffffffffff'; // sampled at 5 %
  const highTrace = 'ffffffff000000000000000000000000'; // not sampled at 5 %, only at 100 %

  it('decides on arrival by the default ratio, and a caller cannot force a sample', () => {
    let next = 0;
    const policy = samplingFromEnv({}, () => next);
    next = DEFAULT_RATIO / 2;
    expect(policy.sampleIncoming(request())).toBe(true);
    next = DEFAULT_RATIO * 2;
    expect(policy.sampleIncoming(request())).toBe(false);
    // "sampled" from outside does not raise the ratio…
    expect(policy.sampleIncoming(request({ traceparent: `00-${highTrace}-0000000000000001-01` }))).toBe(
      false,
    );
    // …and "not sampled" from outside is honoured.
    next = 0;
    expect(policy.sampleIncoming(request({ traceparent: `00-${highTrace}-0000000000000001-00` }))).toBe(
      false,
    );
  });

  it('records the server span of a request sampled on arrival; other roots follow the ratio', () => {
    const { sampler } = samplingFromEnv({});
    expect(shouldSample(sampler, SpanKind.SERVER, highTrace)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(shouldSample(sampler, SpanKind.CONSUMER, highTrace)).toBe(SamplingDecision.NOT_RECORD);
    expect(shouldSample(sampler, SpanKind.CONSUMER, lowTrace)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('takes OTEL_TRACES_SAMPLER and its argument as the specification names them', () => {
    const on = samplingFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' });
    expect(shouldSample(on.sampler, SpanKind.CONSUMER, highTrace)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(on.sampleIncoming(request())).toBe(true);
    const off = samplingFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' });
    expect(off.sampleIncoming(request())).toBe(false);
    const full = samplingFromEnv({ OTEL_TRACES_SAMPLER_ARG: '1' }, () => 0.999);
    expect(full.sampleIncoming(request())).toBe(true);
    expect(shouldSample(full.sampler, SpanKind.CONSUMER, highTrace)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    // Not a ratio: the default, not an error that stops the daemon.
    expect(samplingFromEnv({ OTEL_TRACES_SAMPLER_ARG: 'lots' }).description).toContain(String(DEFAULT_RATIO));
  });
});
