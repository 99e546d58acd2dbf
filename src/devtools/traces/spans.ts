/**
 * The spans a receiver keeps, in one shape whatever the wire form was: OTLP protobuf
 * (decoded by otlpProto.ts: ids as bytes) or OTLP/JSON (ids as hex strings). Enums become
 * names, times milliseconds, attribute values plain JSON.
 */
export type AttributeValue =
  | string
  | number
  | boolean
  | AttributeValue[]
  | { [key: string]: AttributeValue }
  | null;
export type Attributes = Record<string, AttributeValue>;
export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: SpanKindName;
  /** Milliseconds since the epoch (fractional). */
  startMs: number;
  durationMs: number;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  attributes: Attributes;
  events: { name: string; timeMs: number; attributes: Attributes }[];
  links: { traceId: string; spanId: string; attributes: Attributes }[];
  /** The resource of the process that sent it (service.name, wuz.role, …). */
  resource: Attributes;
  scope: { name: string; version?: string };
}

export interface ReceivedTrace {
  traceId: string;
  spans: ReceivedSpan[];
  firstSeenMs: number;
  lastSeenMs: number;
}

/** The wire enum counts from UNSPECIFIED = 0, one more than the JS API's SpanKind. */
const KINDS: SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS: ReceivedSpan['status']['code'][] = ['unset', 'ok', 'error'];

/** The input is untrusted: anything that is not the expected shape is reported, not thrown on later. */
export class OtlpShapeError extends Error {}

type Loose = Record<string, unknown>;

const list = (value: unknown): Loose[] => (Array.isArray(value) ? (value as Loose[]) : []);

/** An id: bytes (protobuf), or hex (JSON; some senders use base64 there too). */
function idOf(value: unknown, bytes: number, what: string): string {
  if (value === undefined || value === null || value === '') return '';
  let hex: string;
  if (value instanceof Uint8Array) hex = Buffer.from(value).toString('hex');
  else if (typeof value === 'string') {
    hex = /^[\da-f]*$/i.test(value) ? value.toLowerCase() : Buffer.from(value, 'base64').toString('hex');
  } else throw new OtlpShapeError(`${what} is not an id`);
  if (hex.length !== bytes * 2) throw new OtlpShapeError(`${what} is not ${bytes} bytes`);
  return hex;
}

/** Nanoseconds (string, number or bigint) to milliseconds. */
function nanosToMs(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  try {
    const nanos = BigInt(typeof value === 'number' ? Math.trunc(value) : (value as string));
    return Number(nanos / 1000n) / 1000;
  } catch {
    throw new OtlpShapeError(`${String(value)} is not a time`);
  }
}

function anyValue(value: unknown): AttributeValue {
  if (!value || typeof value !== 'object') return null;
  const v = value as Loose;
  if (v.stringValue !== undefined) return String(v.stringValue);
  if (v.boolValue !== undefined) return Boolean(v.boolValue);
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return list((v.arrayValue as Loose).values).map(anyValue);
  if (v.kvlistValue !== undefined) return attributesOf((v.kvlistValue as Loose).values);
  if (v.bytesValue !== undefined) {
    const bytes = v.bytesValue;
    return bytes instanceof Uint8Array ? Buffer.from(bytes).toString('base64') : String(bytes);
  }
  return null;
}

function attributesOf(value: unknown): Attributes {
  const out: Attributes = {};
  for (const pair of list(value)) {
    if (typeof pair.key === 'string') out[pair.key] = anyValue(pair.value);
  }
  return out;
}

function enumIndex(value: unknown): number {
  return typeof value === 'number' ? value : Number(value ?? 0);
}

/** Every span of an ExportTraceServiceRequest (either wire form, decoded to an object). */
export function spansOfRequest(request: unknown): ReceivedSpan[] {
  if (!request || typeof request !== 'object') throw new OtlpShapeError('the body is not an export request');
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of list((request as Loose).resourceSpans)) {
    const resource = attributesOf((resourceSpans.resource as Loose | undefined)?.attributes);
    for (const scopeSpans of list(resourceSpans.scopeSpans)) {
      const scopeIn = (scopeSpans.scope ?? {}) as Loose;
      const scope = {
        name: String(scopeIn.name ?? ''),
        ...(scopeIn.version ? { version: String(scopeIn.version) } : {}),
      };
      for (const span of list(scopeSpans.spans)) {
        const traceId = idOf(span.traceId, 16, 'traceId');
        const spanId = idOf(span.spanId, 8, 'spanId');
        if (!traceId || !spanId) throw new OtlpShapeError('a span has no traceId or spanId');
        const parent = idOf(span.parentSpanId, 8, 'parentSpanId');
        const startMs = nanosToMs(span.startTimeUnixNano);
        const status = (span.status ?? {}) as Loose;
        spans.push({
          traceId,
          spanId,
          parentSpanId: parent || null,
          name: String(span.name ?? ''),
          kind: KINDS[enumIndex(span.kind)] ?? 'unspecified',
          startMs,
          durationMs: Math.max(0, nanosToMs(span.endTimeUnixNano) - startMs),
          status: {
            code: STATUS[enumIndex(status.code)] ?? 'unset',
            ...(status.message ? { message: String(status.message) } : {}),
          },
          attributes: attributesOf(span.attributes),
          events: list(span.events).map((event) => ({
            name: String(event.name ?? ''),
            timeMs: nanosToMs(event.timeUnixNano),
            attributes: attributesOf(event.attributes),
          })),
          links: list(span.links).map((link) => ({
            traceId: idOf(link.traceId, 16, 'link traceId'),
            spanId: idOf(link.spanId, 8, 'link spanId'),
            attributes: attributesOf(link.attributes),
          })),
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}
