import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import http from '../nodeHttp.ts';
import { prng } from '../random.ts';

/**
 * A stand-in for WuzAPI (asternic/wuzapi), the only part of the outside world we fake:
 * it speaks its wire format for sending text, records what it received, and can be told
 * to misbehave. Like WhatsApp, it recognises a repeated message Id as the same message.
 */
export interface FakeBehaviour {
  /** 0..1: the share of sends answered 500 (from a seeded generator: repeatable). */
  failRate: number;
  /** Delay before every answer to a send. */
  latencyMs: number;
  /** Phones (digits, as sent) answered 400 "phone is not on WhatsApp". */
  rejectPhones: string[];
  /** Every send gets 500 "No session"; /session/status says disconnected. */
  noSession: boolean;
  /** The next N sends get 500. */
  failNext: number;
}

export interface FakeMessage {
  id: string;
  phone: string;
  body: string;
  token: string;
  receivedAt: number;
  /** 1, plus one for every later send with the same Id. */
  deliveries: number;
  /**
   * The W3C `traceparent` header of every delivery, in order (null: none sent): a traced
   * daemon's sends carry the trace of the campaign (gate tracing checks them).
   */
  traceparents: (string | null)[];
}

export interface FakeStats {
  requests: number;
  messages: number;
  duplicates: number;
  failures: number;
  rejected: number;
}

export interface FakeWuzapi {
  url: string;
  port: number;
  messages(): FakeMessage[];
  stats(): FakeStats;
  behaviour(): FakeBehaviour;
  setBehaviour(patch: Partial<FakeBehaviour>): FakeBehaviour;
  reset(): void;
  close(): Promise<void>;
  /** Called for every new message (the CLI prints it). */
  onMessage?: (message: FakeMessage) => void;
}

export const behaviourSchema = z.strictObject({
  failRate: z.number().min(0).max(1).optional(),
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  rejectPhones: z.array(z.string().max(32)).max(100_000).optional(),
  noSession: z.boolean().optional(),
  failNext: z.number().int().min(0).max(1_000_000).optional(),
});

export interface FakeOptions extends Partial<FakeBehaviour> {
  port?: number;
  host?: string;
  seed?: number;
  /** When given, only these session tokens are accepted. */
  tokens?: string[];
}

const MAX_BODY = 1024 * 1024;

export async function startFakeWuzapi(options: FakeOptions = {}): Promise<FakeWuzapi> {
  let behaviour: FakeBehaviour = {
    failRate: options.failRate ?? 0,
    latencyMs: options.latencyMs ?? 0,
    rejectPhones: options.rejectPhones ?? [],
    noSession: options.noSession ?? false,
    failNext: options.failNext ?? 0,
  };
  const random = prng(String(options.seed ?? 1));
  const byId = new Map<string, FakeMessage>();
  let stats: FakeStats = { requests: 0, messages: 0, duplicates: 0, failures: 0, rejected: 0 };
  const tokens = options.tokens ? new Set(options.tokens) : null;
  const fake = {} as FakeWuzapi;

  const reply = (res: ServerResponse, code: number, payload: object) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code, success: code < 400, ...payload }));
  };

  async function sendText(req: IncomingMessage, res: ServerResponse, text: string) {
    stats.requests++;
    if (behaviour.latencyMs > 0) await sleep(behaviour.latencyMs);
    const fail = (code: number, error: string) => {
      if (code >= 500) stats.failures++;
      else stats.rejected++;
      reply(res, code, { error });
    };
    const token = String(req.headers.token ?? '');
    if (!token || (tokens && !tokens.has(token))) return fail(401, 'unauthorized');
    let payload: { Phone?: unknown; Body?: unknown; Id?: unknown };
    try {
      payload = JSON.parse(text);
    } catch {
      return fail(400, 'could not decode Payload');
    }
    if (typeof payload?.Phone !== 'string' || payload.Phone === '')
      return fail(400, 'missing Phone in Payload');
    if (typeof payload.Body !== 'string' || payload.Body === '') return fail(400, 'missing Body in Payload');
    if (!/^\d{8,15}$/.test(payload.Phone)) return fail(400, 'invalid phone');
    if (behaviour.noSession) return fail(500, 'No session');
    if (behaviour.failNext > 0) {
      behaviour.failNext--;
      return fail(500, 'failed to send message');
    }
    if (behaviour.rejectPhones.includes(payload.Phone)) return fail(400, 'phone is not on WhatsApp');
    if (behaviour.failRate > 0 && random() < behaviour.failRate) return fail(500, 'failed to send message');
    const id =
      typeof payload.Id === 'string' && payload.Id
        ? payload.Id
        : randomBytes(10).toString('hex').toUpperCase();
    const traceparent = typeof req.headers.traceparent === 'string' ? req.headers.traceparent : null;
    const known = byId.get(id);
    if (known) {
      known.deliveries++;
      known.traceparents.push(traceparent);
      stats.duplicates++;
    } else {
      const message = {
        id,
        phone: payload.Phone,
        body: payload.Body,
        token,
        receivedAt: Date.now(),
        deliveries: 1,
        traceparents: [traceparent],
      };
      byId.set(id, message);
      stats.messages++;
      fake.onMessage?.(message);
    }
    const message = byId.get(id) as FakeMessage;
    reply(res, 200, { data: { Details: 'Sent', Id: id, Timestamp: Math.floor(message.receivedAt / 1000) } });
  }

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) return reply(res, 413, { error: 'request body too large' });
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'POST' && path === '/chat/send/text') return await sendText(req, res, text);
      if (req.method === 'GET' && path === '/session/status') {
        const token = String(req.headers.token ?? '');
        if (!token || (tokens && !tokens.has(token))) return reply(res, 401, { error: 'unauthorized' });
        return reply(res, 200, { data: { Connected: !behaviour.noSession, LoggedIn: !behaviour.noSession } });
      }
      if (req.method === 'GET' && path === '/_fake/messages') {
        return reply(res, 200, { messages: fake.messages(), stats, behaviour });
      }
      if (req.method === 'POST' && path === '/_fake/behaviour') {
        let body: unknown;
        try {
          body = JSON.parse(text || '{}');
        } catch {
          return reply(res, 400, { error: 'send JSON' });
        }
        const parsed = behaviourSchema.safeParse(body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return reply(res, 400, { error: `${issue?.path.join('.') || 'body'}: ${issue?.message}` });
        }
        return reply(res, 200, { behaviour: fake.setBehaviour(parsed.data) });
      }
      if (req.method === 'POST' && path === '/_fake/reset') {
        fake.reset();
        res.writeHead(204).end();
        return;
      }
      reply(res, 404, { error: 'not found' });
    } catch (error) {
      reply(res, 500, { error: (error as Error).message });
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  Object.assign(fake, {
    url: `http://${host}:${address.port}`,
    port: address.port,
    messages: () => [...byId.values()],
    stats: () => ({ ...stats }),
    behaviour: () => ({ ...behaviour, rejectPhones: [...behaviour.rejectPhones] }),
    setBehaviour(patch: Partial<FakeBehaviour>) {
      behaviour = {
        ...behaviour,
        ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
      };
      return fake.behaviour();
    },
    reset() {
      byId.clear();
      stats = { requests: 0, messages: 0, duplicates: 0, failures: 0, rejected: 0 };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
  return fake;
}
