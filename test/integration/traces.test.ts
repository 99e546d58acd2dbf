import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTraceReceiver, type TraceReceiver } from '../../src/devtools/traces/receiver.ts';
import { renderTrace } from '../../src/devtools/traces/render.ts';
import type { ReceivedTrace } from '../../src/devtools/traces/spans.ts';
import { exemptFromContract } from '../helpers/contract.ts';
import {
  childEnv,
  cleanupDaemons,
  cliPath,
  embeddedEnv,
  seedDemo,
  startDaemon,
  waitFor,
} from '../helpers/daemon.ts';

// The receiver's /api/traces is not the daemon's API: the contract check leaves this file alone.
exemptFromContract();

let receiver: TraceReceiver;
beforeAll(async () => {
  receiver = await startTraceReceiver({ port: 0, settleMs: 100 });
});
afterAll(async () => {
  await receiver.close();
  await cleanupDaemons();
});
afterEach(() => receiver.reset());

/** A real SDK tracer provider whose spans go to `exporter`. */
function tracerWith(exporter: ConstructorParameters<typeof SimpleSpanProcessor>[0]['exporter']) {
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return { provider, tracer: provider.getTracer('wuzctl-test', '1.0.0') };
}

async function getTraces(): Promise<ReceivedTrace[]> {
  const response = await fetch(`${receiver.url}/api/traces`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { traces: ReceivedTrace[] }).traces;
}

describe('the OTLP receiver (wuzctl traces)', () => {
  it('decodes what the SDK exports as protobuf: ids, parents, kinds, attributes and status', async () => {
    const { trace, ROOT_CONTEXT } = await import('@opentelemetry/api');
    const { provider, tracer } = tracerWith(new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }));
    const parent = tracer.startSpan('POST /api/things', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.route': '/api/things',
        'http.response.status_code': 201,
        ok: true,
        tags: ['a', 'b'],
      },
    });
    const child = tracer.startSpan(
      'pg.query:INSERT',
      { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql' } },
      trace.setSpan(ROOT_CONTEXT, parent),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'duplicate key' });
    child.end();
    parent.end();
    await provider.forceFlush();
    await provider.shutdown();

    const traces = await getTraces();
    expect(traces).toHaveLength(1);
    const [received] = traces as [ReceivedTrace];
    expect(received.traceId).toBe(parent.spanContext().traceId);
    const server = received.spans.find((s) => s.name === 'POST /api/things');
    const client = received.spans.find((s) => s.name === 'pg.query:INSERT');
    expect(server).toMatchObject({
      kind: 'server',
      parentSpanId: null,
      spanId: parent.spanContext().spanId,
      attributes: {
        'http.route': '/api/things',
        'http.response.status_code': 201,
        ok: true,
        tags: ['a', 'b'],
      },
      scope: { name: 'wuzctl-test', version: '1.0.0' },
      status: { code: 'unset' },
    });
    expect(client).toMatchObject({
      kind: 'client',
      parentSpanId: parent.spanContext().spanId,
      status: { code: 'error', message: 'duplicate key' },
    });
    expect(client?.durationMs).toBeGreaterThanOrEqual(0);
    expect(server?.resource['service.name']).toBeTypeOf('string');

    const tree = renderTrace(received).split('\n');
    expect(tree[0]).toContain(`trace ${received.traceId}`);
    expect(tree[1]).toMatch(/^└─ POST \/api\/things .* server .*http.route=\/api\/things/);
    expect(tree[2]).toMatch(/^ {3}└─ pg\.query:INSERT .* client .*ERROR: duplicate key/);
  });

  it('reads the same spans sent as OTLP/JSON and as gzipped protobuf, and keeps each span once', async () => {
    const memory = new InMemorySpanExporter();
    const { provider, tracer } = tracerWith(memory);
    const { trace, ROOT_CONTEXT } = await import('@opentelemetry/api');
    const parent = tracer.startSpan('job', { kind: SpanKind.CONSUMER, attributes: { attempt: 2 } });
    tracer.startSpan('send', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, parent)).end();
    parent.end();
    // Taken before shutdown, which empties the in-memory exporter.
    const spans = [...memory.getFinishedSpans()];
    expect(spans).toHaveLength(2);
    await provider.shutdown();

    const json = await fetch(`${receiver.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JsonTraceSerializer.serializeRequest(spans) as Uint8Array),
    });
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual({});
    const fromJson = structuredClone(await getTraces());

    receiver.reset();
    const protobuf = await fetch(`${receiver.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: gzipSync(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array),
    });
    expect(protobuf.status).toBe(200);
    expect(protobuf.headers.get('content-type')).toBe('application/x-protobuf');
    // The same export again (a retried one) adds nothing.
    await fetch(`${receiver.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array),
    });
    const fromProtobuf = await getTraces();
    expect(fromProtobuf[0]?.spans).toHaveLength(2);
    const shape = (traces: ReceivedTrace[]) =>
      traces[0]?.spans.map(
        ({ traceId, spanId, parentSpanId, name, kind, attributes, startMs, durationMs }) => ({
          traceId,
          spanId,
          parentSpanId,
          name,
          kind,
          attributes,
          startMs,
          durationMs,
        }),
      );
    expect(shape(fromProtobuf)).toEqual(shape(fromJson));
    expect(fromJson[0]?.spans.find((s) => s.name === 'job')).toMatchObject({
      kind: 'consumer',
      attributes: { attempt: 2 },
    });
  });

  it('answers bad input with a 4xx JSON error and keeps working', async () => {
    const post = (type: string, body: string | Uint8Array, encoding?: string) =>
      fetch(`${receiver.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': type, ...(encoding ? { 'content-encoding': encoding } : {}) },
        body,
      });
    const cases: [Promise<Response>, number, string][] = [
      [post('text/plain', 'hello'), 415, 'unsupported_media_type'],
      [post('application/x-protobuf', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])), 400, 'bad_request'],
      [
        post('application/json', '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}'),
        400,
        'bad_request',
      ],
      [post('application/json', '{not json'), 400, 'bad_request'],
      [post('application/x-protobuf', 'not gzip', 'gzip'), 400, 'bad_request'],
      // 33 MiB of zeros is 33 kB gzipped: the limit holds after decompression too.
      [
        post('application/x-protobuf', gzipSync(Buffer.alloc(33 * 1024 * 1024)), 'gzip'),
        413,
        'payload_too_large',
      ],
      [fetch(`${receiver.url}/v1/traces`), 405, 'method_not_allowed'],
      [fetch(`${receiver.url}/nowhere`), 404, 'not_found'],
      [fetch(`${receiver.url}/api/traces/0123456789abcdef0123456789abcdef`), 404, 'not_found'],
    ];
    for (const [answer, status, code] of cases) {
      const response = await answer;
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message).not.toMatch(/at .*\.ts:\d+/);
    }
    expect(await getTraces()).toEqual([]);
  });

  it('`wuzctl traces --json` prints its URL, then each trace as one JSON line, and stops on SIGTERM', async () => {
    const command = execa(process.execPath, [cliPath, 'traces', '--port', '0', '--json'], {
      env: childEnv(),
      extendEnv: false,
      reject: false,
      buffer: false,
    });
    const lines: string[] = [];
    let partial = '';
    command.stdout?.setEncoding('utf8');
    command.stdout?.on('data', (chunk: string) => {
      partial += chunk;
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      lines.push(...complete);
    });
    await waitFor(async () => lines.length > 0, 15_000, 'the URL line');
    const { url } = JSON.parse(lines[0] as string) as { url: string };
    const { provider, tracer } = tracerWith(new OTLPTraceExporter({ url: `${url}/v1/traces` }));
    const span = tracer.startSpan('GET /api/me', { kind: SpanKind.SERVER });
    span.end();
    await provider.shutdown();
    await waitFor(async () => lines.length > 1, 15_000, 'the trace line');
    const printed = JSON.parse(lines[1] as string) as ReceivedTrace;
    expect(printed.traceId).toBe(span.spanContext().traceId);
    expect(printed.spans[0]?.name).toBe('GET /api/me');
    command.kill('SIGTERM');
    expect((await command).exitCode).toBe(0);
  });

  it('`wuzctl traces` refuses a port that is not one, with a hint', async () => {
    const result = await execa(process.execPath, [cliPath, 'traces', '--port', 'http'], {
      env: childEnv(),
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--port http is not a port');
    expect(result.stderr).toContain('hint:');
  });
});

describe('a traced daemon', () => {
  it('flushes its spans at shutdown, and its log lines carry the trace and span of their job', async () => {
    // Exports only at shutdown (a minute's delay): the spans can only come from the flush.
    const daemon = await startDaemon({
      env: {
        ...embeddedEnv,
        LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_TRACES_SAMPLER_ARG: '1',
        OTEL_BSP_SCHEDULE_DELAY: '60000',
      },
      apiWorkers: 1,
      queueWorkers: 1,
    });
    const token = (await seedDemo(daemon.dataDir, 1))[0]?.user_tokens[0] ?? '';
    const response = await fetch(`${daemon.url}/api/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'usage' }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const logFile = path.join(daemon.dataDir, 'wuzctl.log');
    const line = await waitFor(
      async () => (await readFile(logFile, 'utf8')).split('\n').find((l) => l.includes(`"reportId":"${id}"`)),
      30_000,
      'the report in the log',
    );
    const logged = JSON.parse(line as string) as { trace_id?: string; span_id?: string };
    expect(logged.trace_id).toMatch(/^[\da-f]{32}$/);
    expect(await getTraces()).toEqual([]);

    expect(await daemon.stop()).toBe(0);
    const traces = await getTraces();
    const trace = traces.find((t) => t.traceId === logged.trace_id);
    expect(trace, 'the trace of the report job').toBeDefined();
    const names = trace?.spans.map((s) => s.name) ?? [];
    expect(names).toContain('POST /api/reports');
    expect(names).toContain('send report');
    expect(names).toContain('process report');
    expect(trace?.spans.some((s) => s.spanId === logged.span_id)).toBe(true);
    expect(trace?.spans.find((s) => s.name === 'process report')?.resource['wuz.role']).toBe('queue');
  });

  it('at ratio 0 exports nothing, and an untraced request and its job work as before', async () => {
    const daemon = await startDaemon({
      env: {
        ...embeddedEnv,
        LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_TRACES_SAMPLER_ARG: '0',
      },
      apiWorkers: 1,
      queueWorkers: 1,
    });
    const token = (await seedDemo(daemon.dataDir, 1))[0]?.user_tokens[0] ?? '';
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    expect((await fetch(`${daemon.url}/api/user/subscription`, { headers })).status).toBe(200);
    const response = await fetch(`${daemon.url}/api/reports`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ kind: 'usage' }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const line = await waitFor(
      async () =>
        (await readFile(path.join(daemon.dataDir, 'wuzctl.log'), 'utf8'))
          .split('\n')
          .find((l) => l.includes(`"reportId":"${id}"`)),
      30_000,
      'the report in the log',
    );
    expect(JSON.parse(line as string).trace_id).toBeUndefined();
    expect(await daemon.stop()).toBe(0);
    expect(await getTraces()).toEqual([]);
  });

  it('keeps answering while its collector is unreachable, and counts the spans it lost', async () => {
    const closed = await startTraceReceiver({ port: 0 });
    const unreachable = closed.url;
    await closed.close();
    const daemon = await startDaemon({
      env: {
        ...embeddedEnv,
        OTEL_EXPORTER_OTLP_ENDPOINT: unreachable,
        OTEL_TRACES_SAMPLER_ARG: '1',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      apiWorkers: 1,
      queueWorkers: 1,
    });
    for (let i = 0; i < 20; i++) {
      const answer = await fetch(`${daemon.url}/api/me`);
      expect(answer.status).toBe(401);
    }
    const lost = await waitFor(
      async () => {
        const text = await (await fetch(`${daemon.url}/metrics`)).text();
        const failed = /tracing_spans_total\{outcome="failed"[^}]*\} (\d+)/.exec(text);
        return failed && Number(failed[1]) > 0 ? Number(failed[1]) : undefined;
      },
      30_000,
      'failed spans in /metrics',
    );
    expect(lost).toBeGreaterThan(0);
    expect(await daemon.stop()).toBe(0);
  });
});
