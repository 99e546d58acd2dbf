import { type Attributes as OtelAttributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeExportRequest, encodeExportResponse } from '../../src/devtools/traces/otlpProto.ts';
import { renderTrace } from '../../src/devtools/traces/render.ts';
import { OtlpShapeError, type ReceivedSpan, spansOfRequest } from '../../src/devtools/traces/spans.ts';
import { TraceStore } from '../../src/devtools/traces/store.ts';

// The rendered tree is compared as text: no colour codes, whatever the terminal.
beforeAll(() => {
  process.env.NO_COLOR = '1';
});

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const OTHER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const resource = resourceFromAttributes({ 'service.name': 'wuzapi-manager', 'wuz.role': 'worker' });

/**
 * A finished span as the SDK hands it to an exporter, built by hand so that it can carry
 * what the API's setAttribute would refuse (bytes, maps): the serializers encode those too.
 */
function readable(spanId: string, init: Partial<ReadableSpan> & { parent?: string }): ReadableSpan {
  return {
    name: `span ${spanId}`,
    kind: SpanKind.INTERNAL,
    spanContext: () => ({ traceId: TRACE, spanId, traceFlags: 1 }),
    parentSpanContext: init.parent ? { traceId: TRACE, spanId: init.parent, traceFlags: 1 } : undefined,
    startTime: [1_700_000_000, 123_456_789],
    endTime: [1_700_000_000, 125_956_789],
    duration: [0, 2_500_000],
    status: { code: SpanStatusCode.UNSET },
    attributes: {},
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: { name: 'wuzctl-test', version: '1.2.3' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...init,
  };
}

const sdkSpans: ReadableSpan[] = [
  readable('00f067aa0ba902b7', {
    name: 'POST /api/campaigns',
    kind: SpanKind.SERVER,
    status: { code: SpanStatusCode.OK },
    attributes: {
      'http.route': '/api/campaigns',
      'http.response.status_code': 201,
      ratio: 0.25,
      ok: false,
      empty: '',
      // Past 2^31: an int64 on the wire, a plain number here.
      big: 4_000_000_000,
      tags: ['a', 'b'],
      raw: new Uint8Array([1, 2, 255]),
      nested: { depth: 1, inner: { flag: true } },
    } as unknown as OtelAttributes,
    events: [{ name: 'enqueued', time: [1_700_000_000, 124_000_000], attributes: { count: 3 } }],
  }),
  readable('b7ad6b7169203331', {
    kind: SpanKind.CLIENT,
    parent: '00f067aa0ba902b7',
    status: { code: SpanStatusCode.ERROR, message: 'duplicate key' },
    links: [{ context: { traceId: OTHER_TRACE, spanId: '53995c3f42cd8ad8', traceFlags: 1 }, attributes: {} }],
  }),
  readable('1111111111111111', { kind: SpanKind.PRODUCER, parent: '00f067aa0ba902b7' }),
  readable('2222222222222222', { kind: SpanKind.CONSUMER, parent: '1111111111111111' }),
  readable('3333333333333333', { kind: SpanKind.INTERNAL, parent: '2222222222222222' }),
];

const fromProtobuf = () =>
  spansOfRequest(decodeExportRequest(ProtobufTraceSerializer.serializeRequest(sdkSpans) as Uint8Array));
const fromJson = () =>
  spansOfRequest(
    JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(sdkSpans) as Uint8Array).toString('utf8')),
  );

describe('OTLP decoding', () => {
  it('reads the protobuf and the JSON form of the same spans to the same ReceivedSpans', () => {
    const protobuf = fromProtobuf();
    expect(protobuf).toHaveLength(5);
    expect(fromJson()).toEqual(protobuf);
  });

  it('names kinds (the wire enum is one more than the API one), statuses, ids and times', () => {
    const spans = fromProtobuf();
    expect(spans.map((span) => span.kind)).toEqual(['server', 'client', 'producer', 'consumer', 'internal']);
    expect(spans.map((span) => span.status)).toEqual([
      { code: 'ok' },
      { code: 'error', message: 'duplicate key' },
      { code: 'unset' },
      { code: 'unset' },
      { code: 'unset' },
    ]);
    const [server, client] = spans as [ReceivedSpan, ReceivedSpan];
    expect(server).toMatchObject({
      traceId: TRACE,
      spanId: '00f067aa0ba902b7',
      parentSpanId: null,
      name: 'POST /api/campaigns',
      resource: { 'service.name': 'wuzapi-manager', 'wuz.role': 'worker' },
      scope: { name: 'wuzctl-test', version: '1.2.3' },
    });
    expect(server.startMs).toBeCloseTo(1_700_000_000_123.456, 3);
    expect(server.durationMs).toBeCloseTo(2.5, 3);
    expect(server.events).toEqual([
      { name: 'enqueued', timeMs: 1_700_000_000_124, attributes: { count: 3 } },
    ]);
    expect(client.parentSpanId).toBe('00f067aa0ba902b7');
    expect(client.links).toEqual([{ traceId: OTHER_TRACE, spanId: '53995c3f42cd8ad8', attributes: {} }]);
  });

  it('turns every attribute type into plain JSON: int64 to number, bytes to base64, maps to objects', () => {
    expect(fromProtobuf()[0]?.attributes).toEqual({
      'http.route': '/api/campaigns',
      'http.response.status_code': 201,
      ratio: 0.25,
      ok: false,
      empty: '',
      big: 4_000_000_000,
      tags: ['a', 'b'],
      raw: Buffer.from([1, 2, 255]).toString('base64'),
      nested: { depth: 1, inner: { flag: true } },
    });
  });

  it('reads OTLP/JSON as other senders write it: int64 as strings, upper-case hex ids', () => {
    const [span] = spansOfRequest({
      resourceSpans: [
        {
          scopeSpans: [
            {
              scope: { name: 'hand' },
              spans: [
                {
                  traceId: TRACE.toUpperCase(),
                  spanId: 'B7AD6B7169203331',
                  parentSpanId: '',
                  name: 'by hand',
                  kind: 5,
                  startTimeUnixNano: '1700000000000000000',
                  endTimeUnixNano: '1700000000004000000',
                  attributes: [
                    { key: 'n', value: { intValue: '-42' } },
                    {
                      key: 'list',
                      value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'x' }] } },
                    },
                    {
                      key: 'map',
                      value: { kvlistValue: { values: [{ key: 'k', value: { doubleValue: 1.5 } }] } },
                    },
                    { key: 'nothing', value: {} },
                  ],
                  status: { code: 2 },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(span).toMatchObject({
      traceId: TRACE,
      spanId: 'b7ad6b7169203331',
      parentSpanId: null,
      kind: 'consumer',
      startMs: 1_700_000_000_000,
      durationMs: 4,
      status: { code: 'error' },
      attributes: { n: -42, list: [1, 'x'], map: { k: 1.5 }, nothing: null },
      resource: {},
      scope: { name: 'hand' },
    });
    expect(span?.scope).not.toHaveProperty('version');
  });

  it('rejects what is not an export request, with a reason', () => {
    expect(() => spansOfRequest(null)).toThrow(OtlpShapeError);
    const withIds = (traceId: string, spanId: string) => ({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId, spanId }] }] }],
    });
    expect(() => spansOfRequest(withIds('abcd', 'b7ad6b7169203331'))).toThrow(/traceId is not 16 bytes/);
    expect(() => spansOfRequest(withIds(TRACE, ''))).toThrow(/no traceId or spanId/);
    expect(() => decodeExportRequest(new Uint8Array([0xff, 0xff, 0xff]))).toThrow();
  });

  it('answers an empty ExportTraceServiceResponse, which the SDK reads as no partial success', () => {
    const response = encodeExportResponse();
    expect(response).toBeInstanceOf(Uint8Array);
    expect(response.byteLength).toBe(0);
    expect(ProtobufTraceSerializer.deserializeResponse(response)).toEqual({});
  });
});

/** A received span with the fields a test does not care about filled in. */
function span(traceId: string, spanId: string, init: Partial<ReceivedSpan> = {}): ReceivedSpan {
  return {
    traceId: traceId.padStart(32, '0'),
    spanId: spanId.padStart(16, '0'),
    parentSpanId: null,
    name: `span ${spanId}`,
    kind: 'internal',
    startMs: 1000,
    durationMs: 1,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    resource: { 'service.name': 'wuzapi-manager' },
    scope: { name: 'test' },
    ...init,
  };
}

describe('the trace store', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('groups spans by trace across batches, keeps a span once, and forgets the least recently updated', () => {
    const store = new TraceStore(2, 1000);
    store.add([span('a', '1'), span('b', '1')], 1);
    store.add([span('a', '2'), span('a', '2')], 2);
    store.add([span('c', '1')], 3);
    expect(store.all().map((trace) => trace.traceId.slice(-1))).toEqual(['c', 'a']);
    expect(store.get('a'.padStart(32, '0'))).toMatchObject({ firstSeenMs: 1, lastSeenMs: 2 });
    expect(store.get('a'.padStart(32, '0'))?.spans.map((s) => s.spanId.slice(-1))).toEqual(['1', '2']);
    expect(store.spanCount()).toBe(3);
    store.clear();
    expect(store.all()).toEqual([]);
  });

  it('settles a trace once no span has come for settleMs, and again when more come later', () => {
    vi.useFakeTimers();
    const store = new TraceStore(10, 1000);
    const settled: number[] = [];
    store.onSettled = (trace) => settled.push(trace.spans.length);
    store.add([span('a', '1')]);
    vi.advanceTimersByTime(900);
    store.add([span('a', '2')]);
    vi.advanceTimersByTime(900);
    expect(settled).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(settled).toEqual([2]);
    store.add([span('a', '3')]);
    vi.advanceTimersByTime(1000);
    expect(settled).toEqual([2, 3]);
  });
});

describe('the span tree', () => {
  it('indents children in start order, marks orphans, shows links, errors and key attributes', () => {
    const worker = { 'service.name': 'wuzapi-manager', 'wuz.role': 'worker' };
    const tree = renderTrace({
      traceId: TRACE,
      firstSeenMs: 0,
      lastSeenMs: 0,
      spans: [
        span(TRACE, 'c2', { name: 'second', parentSpanId: '00000000000000a1', startMs: 1003 }),
        span(TRACE, 'a1', {
          name: 'GET /api/things',
          kind: 'server',
          durationMs: 12.34,
          attributes: { 'http.request.method': 'GET', 'http.route': '/api/things', 'user.agent': 'curl' },
        }),
        span(TRACE, 'c1', {
          name: 'first',
          kind: 'client',
          parentSpanId: '00000000000000a1',
          startMs: 1001,
          status: { code: 'error', message: 'ECONNREFUSED' },
          attributes: { 'db.system.name': 'redis', 'wuz.tenant': 't1' },
        }),
        span(TRACE, 'd1', {
          name: 'send',
          kind: 'consumer',
          parentSpanId: 'ffffffffffffffff',
          startMs: 1010,
          resource: worker,
          links: [{ traceId: OTHER_TRACE, spanId: '53995c3f42cd8ad8', attributes: {} }],
        }),
      ].map((s) => ({ ...s, traceId: TRACE })),
    });
    expect(tree.split('\n')).toEqual([
      `trace ${TRACE} GET /api/things 12.3 ms, 4 spans (wuzapi-manager, wuzapi-manager/worker)`,
      '├─ GET /api/things [wuzapi-manager] server 12.3 ms http.request.method=GET http.route=/api/things',
      '│  ├─ first [wuzapi-manager] client 1.0 ms ERROR: ECONNREFUSED db.system.name=redis wuz.tenant=t1',
      '│  └─ second [wuzapi-manager] internal 1.0 ms',
      '└─ send [wuzapi-manager/worker] consumer 1.0 ms (parent not received)',
      `   ↳ link ${OTHER_TRACE}/53995c3f42cd8ad8`,
    ]);
  });
});
