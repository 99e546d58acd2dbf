import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import http from '../../nodeHttp.ts';
import { decodeExportRequest, encodeExportResponse } from './otlpProto.ts';
import { OtlpShapeError, type ReceivedSpan, type ReceivedTrace, spansOfRequest } from './spans.ts';
import { TraceStore } from './store.ts';

/**
 * A local OTLP/HTTP trace receiver: what `wuzctl traces` runs instead of Jaeger, and what
 * gate `tracing` reads. `POST /v1/traces` takes protobuf or JSON (gzip or not) as the
 * OpenTelemetry SDKs send it; `GET /api/traces` answers the kept traces as JSON.
 */
export interface TraceReceiverOptions {
  host?: string;
  port?: number;
  /** Traces kept (the oldest is forgotten first). */
  keep?: number;
  /** A trace is printed once it has had no new span for this long. */
  settleMs?: number;
}

export interface TraceReceiver {
  /** The base URL: what OTEL_EXPORTER_OTLP_ENDPOINT is set to. */
  url: string;
  port: number;
  traces(): ReceivedTrace[];
  trace(traceId: string): ReceivedTrace | undefined;
  reset(): void;
  onSettled?: (trace: ReceivedTrace) => void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, 'payload_too_large', 'the body is over 32 MiB');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'payload_too_large', 'the body is over 32 MiB');
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  try {
    if (encoding === 'gzip') return await gunzip(body, { maxOutputLength: MAX_BODY_BYTES });
    if (encoding === 'deflate') return await inflate(body, { maxOutputLength: MAX_BODY_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new HttpError(413, 'payload_too_large', 'the body is over 32 MiB once decompressed');
    throw new HttpError(400, 'bad_request', `the body is not valid ${encoding}`);
  }
  if (encoding !== 'identity')
    throw new HttpError(415, 'unsupported_media_type', `content-encoding ${encoding}`);
  return body;
}

type Wire = 'protobuf' | 'json';

function wireOf(req: IncomingMessage): Wire {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  throw new HttpError(
    415,
    'unsupported_media_type',
    `content-type must be application/x-protobuf or application/json, not ${type || 'none'}`,
  );
}

function decode(wire: Wire, body: Buffer): ReceivedSpan[] {
  try {
    return spansOfRequest(wire === 'json' ? JSON.parse(body.toString('utf8')) : decodeExportRequest(body));
  } catch (error) {
    const reason = error instanceof OtlpShapeError ? error.message : `not an OTLP ${wire} export request`;
    throw new HttpError(400, 'bad_request', reason);
  }
}

function answerExport(res: ServerResponse, wire: Wire): void {
  if (wire === 'json') {
    sendJson(res, 200, {});
    return;
  }
  const body = encodeExportResponse();
  res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': body.length });
  res.end(body);
}

export async function startTraceReceiver(options: TraceReceiverOptions = {}): Promise<TraceReceiver> {
  const store = new TraceStore(options.keep ?? 100, options.settleMs ?? 1000);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://receiver');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/v1/traces' || path === '/v1/metrics' || path === '/v1/logs') {
      if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', `${path} takes POST`);
      const wire = wireOf(req);
      const body = await readBody(req);
      // Metrics and logs are accepted and dropped: an SDK that sends them is not an error here.
      if (path === '/v1/traces') store.add(decode(wire, body));
      return answerExport(res, wire);
    }
    if (path === '/api/traces') {
      if (req.method === 'DELETE') {
        store.clear();
        res.writeHead(204).end();
        return;
      }
      if (req.method !== 'GET') throw new HttpError(405, 'method_not_allowed', `${path} takes GET or DELETE`);
      const service = url.searchParams.get('service');
      const limit = Number(url.searchParams.get('limit') ?? Number.POSITIVE_INFINITY);
      if (Number.isNaN(limit) || limit < 0)
        throw new HttpError(400, 'bad_request', 'limit must be a number ≥ 0');
      const traces = store
        .all()
        .filter((trace) => !service || trace.spans.some((span) => span.resource['service.name'] === service))
        .slice(0, limit);
      return sendJson(res, 200, { traces });
    }
    const one = /^\/api\/traces\/([^/]+)$/.exec(path);
    if (one) {
      if (req.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'a trace takes GET');
      const trace = store.get(decodeURIComponent(one[1] as string));
      if (!trace) throw new HttpError(404, 'not_found', `no trace ${one[1]} is kept`);
      return sendJson(res, 200, trace);
    }
    throw new HttpError(404, 'not_found', `no ${path} here: POST /v1/traces, GET /api/traces`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const known =
        error instanceof HttpError ? error : new HttpError(400, 'bad_request', 'unreadable request');
      if (!res.headersSent)
        sendJson(res, known.status, { error: { code: known.code, message: known.message } });
      else res.destroy();
      // An unread body would otherwise hold the connection.
      req.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4318, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const receiver: TraceReceiver = {
    url: `http://${host}:${port}`,
    port,
    traces: () => store.all(),
    trace: (traceId) => store.get(traceId),
    reset: () => store.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        store.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  store.onSettled = (trace) => receiver.onSettled?.(trace);
  return receiver;
}
