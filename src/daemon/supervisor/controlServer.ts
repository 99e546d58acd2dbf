import { rm } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import { z } from 'zod';
import http from '../../nodeHttp.ts';
import type { AlertLoop } from '../alerts/loop.ts';
import { ALERT_NAMES } from '../alerts/types.ts';
import { type ApiErrorCode, errorBody } from '../api/errorCatalogue.ts';
import type { KeyringText } from '../security/keyring.ts';

export interface ControlHandlers {
  status(): Promise<object>;
  /** The status plus the cluster's cumulative counters, for `wuzctl top`. */
  snapshot(): Promise<object>;
  /** The database URL and secret keys, for CLI commands that read or write data while the daemon runs. */
  database(): { url: string; keyring: KeyringText };
  /** The Redis URL, for CLI commands that inspect the queues (`wuzctl jobs`). */
  redis(): { url: string };
  /** Drops revoked tokens from the auth cache (the CLI revokes in the database). */
  forgetTokens(prefixes: string[]): Promise<void>;
  stop(): void;
  /** Starts a rolling reload; throws (a refusal) when one runs or the daemon is not ready. */
  reload(trigger: string): object;
  /** The rollout in progress, else the last one (null: none yet): what `reload` polls. */
  rollout(): object | null;
  /** The alert loop, or undefined with --alerts off. */
  alerts(): AlertLoop | undefined;
}

const alertName = z.enum(ALERT_NAMES, `rule must be one of ${ALERT_NAMES.join(', ')}`);
const testBody = z.strictObject({
  rule: alertName.optional(),
  channel: z.enum(['webhook', 'email']).optional(),
});
const silenceBody = z.strictObject({
  rule: alertName,
  // A week at most: a forgotten silence should not hide an alert for good.
  forSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 86400),
  reason: z.string().max(500).default(''),
  by: z.string().max(100).default(''),
});
const unsilenceBody = z.strictObject({ rule: alertName });

const forgetBody = z.strictObject({ prefixes: z.array(z.string().regex(/^[0-9a-f]{12}$/)).max(10_000) });

/** The request's JSON body, or undefined when it is not JSON (the schema then refuses it). */
async function readJson(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > limit) return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

type Send = (status: number, body: object) => void;
type Fail = (code: ApiErrorCode, message: string) => void;

/** GET /alerts, POST /alerts/test, /alerts/silence, /alerts/unsilence. */
async function alertRoute(
  req: IncomingMessage,
  loop: AlertLoop | undefined,
  send: Send,
  fail: Fail,
): Promise<void> {
  if (!loop) return fail('conflict', 'the alert loop is off (the daemon runs with --alerts off)');
  const route = `${req.method} ${req.url}`;
  if (route === 'GET /alerts') return send(200, loop.summary());
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  const problem = (error: z.ZodError) => error.issues.map((issue) => issue.message).join('; ');
  if (route === 'POST /alerts/test') {
    const parsed = testBody.safeParse(body ?? {});
    if (!parsed.success) return fail('invalid_request', problem(parsed.error));
    const { rule = 'HighErrorRate', channel } = parsed.data;
    const names = loop.channelNames();
    if (names.length === 0) {
      return fail(
        'conflict',
        'no alert channel is configured: set ALERT_WEBHOOK_URL, or ALERT_EMAIL_ENABLED=true with SMTP_URL and ALERT_EMAIL_TO',
      );
    }
    if (channel && !names.includes(channel)) {
      return fail('conflict', `no ${channel} channel is configured (configured: ${names.join(', ')})`);
    }
    return send(200, { rule, deliveries: await loop.test(rule, channel) });
  }
  if (route === 'POST /alerts/silence') {
    const parsed = silenceBody.safeParse(body);
    if (!parsed.success) return fail('invalid_request', problem(parsed.error));
    const { rule, forSeconds, reason, by } = parsed.data;
    const { silence, shared } = await loop.silence(rule, forSeconds * 1000, reason, by);
    return send(200, { rule, until: new Date(silence.until).toISOString(), reason, shared });
  }
  if (route === 'POST /alerts/unsilence') {
    const parsed = unsilenceBody.safeParse(body);
    if (!parsed.success) return fail('invalid_request', problem(parsed.error));
    return send(200, { rule: parsed.data.rule, ...(await loop.unsilence(parsed.data.rule)) });
  }
  fail('not_found', `no control route ${route}`);
}

/**
 * The control API: HTTP over a unix socket in the data dir, mode 0600, so only the
 * daemon's own user can reach it and nothing is exposed on the network.
 */
export async function startControlServer(socketPath: string, handlers: ControlHandlers): Promise<Server> {
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // The same error shape and codes as the API's (the CLI reads both).
    const fail = (code: ApiErrorCode, message: string) => {
      const { status, body } = errorBody(code, message);
      send(status, body);
    };
    try {
      if (req.method === 'GET' && req.url === '/status') return send(200, await handlers.status());
      if (req.method === 'GET' && req.url === '/snapshot') return send(200, await handlers.snapshot());
      // The socket is 0600: only the daemon's own user can read this (a password, the keys).
      if (req.method === 'GET' && req.url === '/database') return send(200, handlers.database());
      if (req.method === 'GET' && req.url === '/redis') return send(200, handlers.redis());
      if (req.method === 'POST' && req.url === '/auth/forget') {
        const parsed = forgetBody.safeParse(await readJson(req));
        if (!parsed.success) {
          return fail('invalid_request', 'send {"prefixes": ["<12 hex>", …]}');
        }
        await handlers.forgetTokens(parsed.data.prefixes);
        return send(200, { forgotten: parsed.data.prefixes.length });
      }
      if (req.method === 'GET' && req.url === '/rollout') return send(200, { rollout: handlers.rollout() });
      if (req.method === 'POST' && req.url === '/reload') {
        try {
          return send(202, handlers.reload('wuzctl reload'));
        } catch (error) {
          return fail('conflict', (error as Error).message);
        }
      }
      if (req.url?.startsWith('/alerts')) return await alertRoute(req, handlers.alerts(), send, fail);
      if (req.method === 'POST' && req.url === '/stop') {
        send(202, { stopping: true });
        handlers.stop();
        return;
      }
      fail('not_found', `no control route ${req.method} ${req.url}`);
    } catch (error) {
      fail('internal_error', (error as Error).message);
    }
  });
  // We hold the pid lock, so a socket file still here is a leftover of a dead daemon.
  await rm(socketPath, { force: true });
  // The umask makes the socket 0600 from its creation: no window where others could connect.
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(previousUmask);
  }
  return server;
}
