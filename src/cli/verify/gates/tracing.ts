import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { ReceivedSpan, ReceivedTrace } from '../../../devtools/traces/spans.ts';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { ApiClient, type Timed } from '../http.ts';
import { fakeMessages, waitForJob } from '../workload.ts';

/**
 * Gate `tracing`: every hop of the main paths is in its trace, in the right place, with
 * the semantic-convention attributes, and nothing private is in any span. Each workload
 * request carries a `traceparent` of our own, so its trace id is known before it is sent;
 * the daemon exports at ratio 1.0 to the runner's receiver. Figure: hops present / expected.
 */
const settings = z
  .object({
    threshold: z.number().min(0).max(1),
    /** How long to wait for the spans of a trace to arrive, after its work is done. */
    timeoutSeconds: z.number().int().min(5).max(600),
  })
  .strict();

export type TracingGateSettings = z.infer<typeof settings>;

export const tracingGate: Gate<TracingGateSettings> = {
  name: 'tracing',
  description: 'OpenTelemetry traces: API, cache, database, queue and WuzAPI hops linked, no private data',
  unit: 'hops present',
  direction: 'min',
  settings,
  defaults: { threshold: 1, timeoutSeconds: 60 },
  daemonEnv: { WUZ_RATE_LIMIT: 'off' },
  needsFakeWuzapi: true,
  needsTraceReceiver: true,
  run: runTracingGate,
};

interface Hop {
  hop: string;
  ok: boolean;
  detail?: string;
}

/** A request of ours: its trace id and the id of the (never exported) client span it names. */
function newParent(): { traceId: string; spanId: string; header: Record<string, string> } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: { traceparent: `00-${traceId}-${spanId}-01` } };
}

async function tracesOf(receiver: string, traceId: string): Promise<ReceivedTrace | undefined> {
  const response = await fetch(`${receiver}/api/traces/${traceId}`, { signal: AbortSignal.timeout(10_000) });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new GateCannotRun(`the trace receiver answered ${response.status}`);
  return (await response.json()) as ReceivedTrace;
}

/** Waits until `complete` holds for the trace (its spans come in several exports), or the deadline. */
async function settledTrace(
  receiver: string,
  traceId: string,
  complete: (spans: ReceivedSpan[]) => boolean,
  deadline: number,
): Promise<ReceivedSpan[]> {
  for (;;) {
    const spans = (await tracesOf(receiver, traceId))?.spans ?? [];
    if (complete(spans) || Date.now() > deadline) return spans;
    await sleep(250);
  }
}

const isDescendant = (span: ReceivedSpan, ancestorId: string, byId: Map<string, ReceivedSpan>): boolean => {
  for (let parent = span.parentSpanId; parent; parent = byId.get(parent)?.parentSpanId ?? null) {
    if (parent === ancestorId) return true;
  }
  return false;
};

async function runTracingGate(context: GateContext, s: TracingGateSettings): Promise<GateResult> {
  if (!context.fakeWuzapi || !context.traces) {
    throw new GateCannotRun(
      'the tracing gate needs the fake WuzAPI and the trace receiver the daemon uses',
      'run it without --url, or start `wuzctl traces` and `wuzctl fake-wuzapi`, point the daemon at them (OTEL_EXPORTER_OTLP_ENDPOINT, WUZAPI_URL, OTEL_TRACES_SAMPLER_ARG=1) and pass --traces URL --wuzapi URL',
    );
  }
  const receiver = context.traces;
  const tenant = context.tenants[0];
  const userToken = tenant?.user_tokens[0];
  if (!tenant || !userToken)
    throw new GateCannotRun('no demo tenant to run as', 'seed one: wuzctl seed --demo');
  const client = new ApiClient(context.url, 4);
  const deadline = () => Date.now() + s.timeoutSeconds * 1000;
  const hops: Hop[] = [];
  const check = (hop: string, ok: boolean, detail?: string) =>
    hops.push({ hop, ok, ...(ok ? {} : { detail }) });
  // What must never appear in a span: the credentials used, and the personal data sent.
  const marker = `trace${randomInt(100_000, 999_999)}`;
  const phone = `+5598${randomInt(10_000_000, 99_999_999)}`;
  const importPhone = `+5597${randomInt(10_000_000, 99_999_999)}`;
  const sessionToken = `verify-session-${marker}`;
  const messageBody = `Hello ${marker} message body`;
  const forbidden = [
    tenant.admin_token,
    userToken,
    sessionToken,
    phone,
    phone.slice(1),
    importPhone,
    importPhone.slice(1),
    marker,
  ];

  const send = async (
    label: string,
    method: string,
    path: string,
    token: string,
    body?: unknown,
    raw?: { text: string; type: string },
  ): Promise<{ answer: Timed; traceId: string; callerSpanId: string }> => {
    const parent = newParent();
    const answer = await client.request(method, path, token, body, raw, parent.header);
    if (answer.status >= 400) {
      throw new GateCannotRun(
        `${label}: ${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`,
      );
    }
    return { answer, traceId: parent.traceId, callerSpanId: parent.spanId };
  };

  /** The server span of a request of ours, with its route, method and status as semconv names them. */
  const serverHop = (
    label: string,
    spans: ReceivedSpan[],
    callerSpanId: string,
    route: string,
    status: number,
  ) => {
    const server = spans.find((span) => span.kind === 'server' && span.parentSpanId === callerSpanId);
    check(
      `${label}: server span continues the caller's traceparent`,
      Boolean(server),
      `${spans.length} spans, none a server span under ours`,
    );
    if (!server) return undefined;
    check(
      `${label}: http.route is the template ${route}`,
      server.attributes['http.route'] === route,
      `http.route ${JSON.stringify(server.attributes['http.route'])}`,
    );
    const method = label.split(' ')[0];
    check(
      `${label}: http.request.method ${method} and http.response.status_code ${status}`,
      server.attributes['http.request.method'] === method &&
        server.attributes['http.response.status_code'] === status,
      `method ${JSON.stringify(server.attributes['http.request.method'])}, status ${JSON.stringify(server.attributes['http.response.status_code'])}`,
    );
    return server;
  };
  const dbHop = (
    label: string,
    spans: ReceivedSpan[],
    system: 'postgresql' | 'redis',
    under?: ReceivedSpan,
  ) => {
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const found = spans.some(
      (span) =>
        span.kind === 'client' &&
        span.attributes['db.system.name'] === system &&
        (!under || isDescendant(span, under.spanId, byId)),
    );
    check(`${label}: a ${system} client span (db.system.name) in the trace`, found, 'none');
  };

  // 1. A cached read: a query string of our own makes the first one a miss, the second a hit.
  context.progress('tracing: a cached read (miss, then hit), a mutation, an import and a campaign');
  const agentsPath = `/api/session/agents?verify=${marker}`;
  const miss = await send('GET agents (miss)', 'GET', agentsPath, tenant.admin_token);
  const hit = await send('GET agents (hit)', 'GET', agentsPath, tenant.admin_token);
  check(
    'cached read: the first answer is a MISS and the second a HIT',
    miss.answer.cache === 'MISS' && hit.answer.cache === 'HIT',
    `${miss.answer.cache}, ${hit.answer.cache}`,
  );

  // 2. A mutation: a contact (its phone must not be in any span).
  const created = await send('POST contact', 'POST', '/api/contacts', userToken, {
    phone,
    name: `Verify ${marker}`,
  });
  const contactId = (created.answer.body as { id?: string }).id;
  if (!contactId) throw new GateCannotRun('POST /api/contacts did not answer an id');

  // 3. An import (a job), then its status by id (a route with a parameter).
  const upload = await send(
    'POST import',
    'POST',
    `/api/imports?filename=${marker}.csv`,
    userToken,
    undefined,
    {
      text: `phone,name\n${importPhone},Imported ${marker}\n`,
      type: 'text/csv',
    },
  );
  const importBody = upload.answer.body as { id: string; job_id: string };
  const importJob = await waitForJob(client, userToken, importBody.job_id, deadline());
  if (importJob.state !== 'completed')
    check('import job completed', false, `${importJob.state}: ${importJob.error ?? ''}`);
  const importRead = await send('GET import', 'GET', `/api/imports/${importBody.id}`, userToken);

  // 4. A campaign to the contact, sent through the fake WuzAPI.
  const campaign = await send('POST campaign', 'POST', '/api/campaigns', userToken, {
    name: `verify ${marker}`,
    template: messageBody,
    audience: { contact_ids: [contactId] },
    session_token: sessionToken,
    min_delay_ms: 0,
    max_delay_ms: 0,
  });
  const campaignJob = await waitForJob(
    client,
    userToken,
    (campaign.answer.body as { job_id: string }).job_id,
    deadline(),
  );
  if (campaignJob.state !== 'completed')
    check('campaign job completed', false, `${campaignJob.state}: ${campaignJob.error ?? ''}`);

  // The traces, once every expected span has arrived (or the timeout).
  context.progress('tracing: reading the traces');
  const has = (kind: string, name?: string) => (spans: ReceivedSpan[]) =>
    spans.some((span) => span.kind === kind && (!name || span.name === name));
  const hasDb = (system: string) => (spans: ReceivedSpan[]) =>
    spans.some((span) => span.attributes['db.system.name'] === system);
  const sendsToWuzapi = (spans: ReceivedSpan[]) =>
    spans.some(
      (x) => x.kind === 'client' && String(x.attributes['url.full'] ?? '').includes('/chat/send/text'),
    );
  /**
   * A trace's spans come from several processes, each exporting on its own schedule: it is
   * complete once its server span is in, no span waits for a parent still to come, and
   * what the scenario needs has arrived.
   */
  const settled = (
    request: { traceId: string; callerSpanId: string },
    ...needs: ((spans: ReceivedSpan[]) => boolean)[]
  ) =>
    settledTrace(
      receiver,
      request.traceId,
      (spans) => {
        const ids = new Set(spans.map((span) => span.spanId));
        const server = spans.some(
          (span) => span.kind === 'server' && span.parentSpanId === request.callerSpanId,
        );
        const orphans = spans.some(
          (span) =>
            span.parentSpanId !== null &&
            span.parentSpanId !== request.callerSpanId &&
            !ids.has(span.parentSpanId),
        );
        return server && !orphans && needs.every((need) => need(spans));
      },
      deadline(),
    );
  const missSpans = await settled(miss, hasDb('redis'), hasDb('postgresql'));
  const hitSpans = await settled(hit, hasDb('redis'));
  const createdSpans = await settled(created, hasDb('postgresql'));
  const importSpans = await settled(
    upload,
    has('producer', 'send import'),
    has('consumer', 'process import'),
    hasDb('postgresql'),
  );
  const importReadSpans = await settled(importRead);
  const campaignSpans = await settled(
    campaign,
    has('producer', 'send campaign'),
    has('consumer', 'process campaign'),
    sendsToWuzapi,
  );

  serverHop('GET cached read (miss)', missSpans, miss.callerSpanId, '/api/session/agents', 200);
  dbHop('cached read (miss)', missSpans, 'redis');
  dbHop('cached read (miss)', missSpans, 'postgresql');
  const hitServer = serverHop(
    'GET cached read (hit)',
    hitSpans,
    hit.callerSpanId,
    '/api/session/agents',
    200,
  );
  dbHop('cached read (hit)', hitSpans, 'redis', hitServer);
  const createdServer = serverHop('POST mutation', createdSpans, created.callerSpanId, '/api/contacts', 201);
  dbHop('mutation', createdSpans, 'postgresql', createdServer);
  serverHop('GET import by id', importReadSpans, importRead.callerSpanId, '/api/imports/:id', 200);

  /** The queue hops of a trace: enqueue (producer) under the request, processing (consumer) under the enqueue. */
  const queueHops = (
    label: string,
    queue: string,
    spans: ReceivedSpan[],
    callerSpanId: string,
    status: number,
    route: string,
  ) => {
    const server = serverHop(`POST ${label}`, spans, callerSpanId, route, status);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const producer = spans.find((span) => span.kind === 'producer' && span.name === `send ${queue}`);
    check(
      `${label}: the enqueue is a producer span under the request`,
      Boolean(producer && server && isDescendant(producer, server.spanId, byId)),
      producer ? 'not under the server span' : 'no producer span',
    );
    const consumer = spans.find((span) => span.kind === 'consumer' && span.name === `process ${queue}`);
    check(
      `${label}: the worker's processing is a consumer span, child of the enqueue`,
      Boolean(consumer && producer && consumer.parentSpanId === producer.spanId),
      consumer ? `its parent is ${consumer.parentSpanId}` : 'no consumer span',
    );
    check(
      `${label}: the consumer span names its queue (messaging.destination.name)`,
      consumer?.attributes['messaging.destination.name'] === queue &&
        consumer.resource['wuz.role'] === 'queue',
      JSON.stringify(consumer?.attributes ?? {}),
    );
    return { consumer, byId };
  };
  const imported = queueHops('import', 'import', importSpans, upload.callerSpanId, 202, '/api/imports');
  if (imported.consumer) dbHop('import job', importSpans, 'postgresql', imported.consumer);
  const sent = queueHops('campaign', 'campaign', campaignSpans, campaign.callerSpanId, 202, '/api/campaigns');
  const sends = campaignSpans.filter(
    (span) => span.kind === 'client' && String(span.attributes['url.full'] ?? '').includes('/chat/send/text'),
  );
  check(
    'campaign: each WuzAPI send is a client span under the job',
    sends.length > 0 &&
      sends.every((span) => sent.consumer && isDescendant(span, sent.consumer.spanId, sent.byId)),
    `${sends.length} send span(s)`,
  );
  const delivered = (await fakeMessages(context.fakeWuzapi)).find(
    (message) => message.phone === phone.slice(1),
  );
  const traceparents = delivered?.traceparents ?? [];
  check(
    'campaign: the WuzAPI request carried the send span as its traceparent',
    traceparents.some((header) =>
      sends.some((span) => header === `00-${campaign.traceId}-${span.spanId}-01`),
    ),
    `the fake saw ${JSON.stringify(traceparents)}`,
  );

  // Privacy: nothing forbidden in any attribute, event, status message or resource.
  const everything = [
    ...missSpans,
    ...hitSpans,
    ...createdSpans,
    ...importSpans,
    ...importReadSpans,
    ...campaignSpans,
  ];
  const leaks = new Set<string>();
  for (const span of everything) {
    const text = JSON.stringify([span.name, span.attributes, span.events, span.status, span.resource]);
    for (const value of forbidden)
      if (text.includes(value)) leaks.add(`${span.name}: ${value.slice(0, 12)}…`);
    if (/bearer\s/i.test(text)) leaks.add(`${span.name}: an Authorization value`);
  }
  check(
    'privacy: no token, phone, session token or message text in any span',
    leaks.size === 0,
    [...leaks].slice(0, 5).join('; '),
  );

  const present = hops.filter((hop) => hop.ok).length;
  const figure = hops.length === 0 ? 0 : Math.round((present / hops.length) * 1000) / 1000;
  return {
    gate: 'tracing',
    pass: figure >= s.threshold,
    figure,
    threshold: s.threshold,
    unit: tracingGate.unit,
    details: {
      hopsPresent: present,
      hopsExpected: hops.length,
      missing: hops.filter((hop) => !hop.ok),
      spans: everything.length,
      traces: {
        cachedMiss: miss.traceId,
        cachedHit: hit.traceId,
        mutation: created.traceId,
        import: upload.traceId,
        campaign: campaign.traceId,
      },
    },
  };
}
