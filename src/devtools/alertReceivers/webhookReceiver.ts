import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import http from '../../nodeHttp.ts';

/**
 * A local stand-in for a Discord, Slack or Alertmanager-style webhook, for tests and gates.
 * It refuses what the real services refuse (empty messages, texts over their limits), so a
 * message it accepts would be accepted for real, and it can be told to rate-limit or fail.
 */
export type ReceiverFlavour = 'discord' | 'slack' | 'json';

export interface ReceivedRequest {
  /** Date.now() when the request arrived. */
  at: number;
  method: string;
  path: string;
  /** The query string without '?' ("wait=true"). */
  query: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: whatever the client sent
  body: any;
  /** What the receiver answered. */
  status: number;
}

export interface WebhookReceiverOptions {
  host?: string;
  port?: number;
  flavour: ReceiverFlavour;
}

export interface WebhookReceiver {
  flavour: ReceiverFlavour;
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** The next `n` requests get `status`; a 429 carries the flavour's rate-limit answer. */
  failNext(n: number, status: number, options?: { retryAfterSeconds?: number }): void;
  /** The first request (received already or to come) matching `predicate`. */
  waitFor(predicate?: (entry: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

const PATHS: Record<ReceiverFlavour, string> = {
  discord: '/api/webhooks/123/tok',
  slack: '/services/T000/B000/xyz',
  json: '/alerts',
};

const MAX_BODY = 1024 * 1024;

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

interface Waiter {
  predicate: (entry: ReceivedRequest) => boolean;
  resolve: (entry: ReceivedRequest) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export async function startWebhookReceiver({
  host = '127.0.0.1',
  port = 0,
  flavour,
}: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const failures: { status: number; retryAfterSeconds: number }[] = [];
  const waiters = new Set<Waiter>();
  let messageId = 1_000_000_000_000_000_000n;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://receiver');
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = parseBody(raw, req.headers['content-type']);
      let answer: Answer;
      const failure = failures.shift();
      if (size > MAX_BODY) answer = { status: 413, body: 'request entity too large' };
      else if (failure) answer = failAnswer(flavour, failure.status, failure.retryAfterSeconds);
      else answer = handle(flavour, req.method ?? 'GET', url, body, () => String(messageId++));
      const entry: ReceivedRequest = {
        at: Date.now(),
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search.replace(/^\?/, ''),
        headers: req.headers,
        body,
        status: answer.status,
      };
      received.push(entry);
      for (const waiter of waiters) {
        if (!waiter.predicate(entry)) continue;
        waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(entry);
      }
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;

  return {
    flavour,
    url: `http://${hostInUrl}:${actualPort}${PATHS[flavour]}`,
    port: actualPort,
    received,
    failNext(n, status, { retryAfterSeconds = 1 } = {}) {
      for (let i = 0; i < n; i++) failures.push({ status, retryAfterSeconds });
    },
    waitFor(predicate = () => true, timeoutMs = 5000) {
      const found = received.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          predicate,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(
              new Error(`no matching webhook request within ${timeoutMs} ms (${received.length} received)`),
            );
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    async close() {
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('the webhook receiver was closed'));
      }
      waiters.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // fetch keeps connections alive: without this, close() waits for them to time out.
      server.closeAllConnections();
      await closed;
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: received JSON
function parseBody(raw: string, contentType: string | undefined): any {
  // Slack also takes the form encoding of old integrations: payload={json}.
  const text = contentType?.includes('application/x-www-form-urlencoded')
    ? (new URLSearchParams(raw).get('payload') ?? raw)
    : raw;
  try {
    return JSON.parse(text);
  } catch {
    return raw;
  }
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(value),
});
const text = (status: number, value: string, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
  body: value,
});

function failAnswer(flavour: ReceiverFlavour, status: number, retryAfterSeconds: number): Answer {
  const reason = http.STATUS_CODES[status] ?? 'Error';
  if (status === 429) {
    if (flavour === 'discord') {
      // As Discord: whole seconds in the header, the precise float in the body.
      return json(
        429,
        { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
        { 'retry-after': String(Math.ceil(retryAfterSeconds)), 'x-ratelimit-scope': 'user' },
      );
    }
    const header = { 'retry-after': String(retryAfterSeconds) };
    return flavour === 'slack' ? text(429, 'rate_limited', header) : json(429, { error: reason }, header);
  }
  if (flavour === 'discord') return json(status, { message: `${status}: ${reason}`, code: 0 });
  if (flavour === 'slack') return text(status, reason.toLowerCase().replace(/\W+/g, '_'));
  return json(status, { error: reason });
}

function handle(
  flavour: ReceiverFlavour,
  method: string,
  url: URL,
  // biome-ignore lint/suspicious/noExplicitAny: received JSON
  body: any,
  nextId: () => string,
): Answer {
  if (flavour === 'discord') {
    if (url.pathname !== PATHS.discord) return json(404, { message: 'Unknown Webhook', code: 10015 });
    if (method !== 'POST') return json(405, { message: '405: Method Not Allowed', code: 0 });
    if (typeof body !== 'object' || body === null) {
      return json(400, { message: 'The request body contains invalid JSON.', code: 50109 });
    }
    const hasContent = typeof body.content === 'string' && body.content.length > 0;
    const hasEmbeds = Array.isArray(body.embeds) && body.embeds.length > 0;
    if (!hasContent && !hasEmbeds) return json(400, { message: 'Cannot send an empty message', code: 50006 });
    const errors = discordFormErrors(body);
    if (errors) return json(400, { message: 'Invalid Form Body', code: 50035, errors });
    if (url.searchParams.get('wait') !== 'true') return { status: 204 };
    return json(200, {
      id: nextId(),
      type: 0,
      content: body.content ?? '',
      embeds: body.embeds ?? [],
      channel_id: '1',
      webhook_id: '123',
      author: { id: '123', username: body.username ?? 'Webhook', bot: true },
      timestamp: new Date().toISOString(),
    });
  }
  if (flavour === 'slack') {
    if (!url.pathname.startsWith('/services/')) return text(404, 'no_service');
    if (method !== 'POST') return text(405, 'invalid_method');
    if (typeof body !== 'object' || body === null) return text(400, 'invalid_payload');
    const hasText = typeof body.text === 'string' && body.text.trim() !== '';
    const hasBlocks = Array.isArray(body.blocks) && body.blocks.length > 0;
    if (!hasText && !hasBlocks) return text(400, 'no_text');
    if (body.blocks !== undefined && !slackBlocksValid(body.blocks)) return text(400, 'invalid_blocks');
    return text(200, 'ok');
  }
  if (method !== 'POST') return json(405, { error: 'Method Not Allowed' });
  return json(200, {});
}

// ---- Discord's limits ---------------------------------------------------------------------

type FormErrors = Record<string, unknown>;

/** Discord's nested error shape: {embeds: {0: {description: {_errors: [...]}}}}. */
function addError(errors: FormErrors, path: (string | number)[], code: string, message: string): void {
  let node = errors;
  for (const key of path) {
    node[key] ??= {};
    node = node[key] as FormErrors;
  }
  node._errors ??= [];
  (node._errors as { code: string; message: string }[]).push({ code, message });
}

// biome-ignore lint/suspicious/noExplicitAny: received JSON
function discordFormErrors(body: any): FormErrors | null {
  const errors: FormErrors = {};
  const tooLong = (path: (string | number)[], value: unknown, max: number, required = false) => {
    if (value === undefined || value === null) {
      if (required) addError(errors, path, 'BASE_TYPE_REQUIRED', 'This field is required');
      return 0;
    }
    if (typeof value !== 'string') {
      addError(errors, path, 'STRING_TYPE_CONVERT', 'Could not interpret the value as string.');
      return 0;
    }
    if (required && value.trim() === '')
      addError(errors, path, 'BASE_TYPE_REQUIRED', 'This field is required');
    if (value.length > max) {
      addError(errors, path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
    }
    return value.length;
  };

  tooLong(['content'], body.content, 2000);
  if (typeof body.username === 'string' && /discord|clyde/i.test(body.username)) {
    addError(errors, ['username'], 'USERNAME_INVALID_CONTAINS', 'Username cannot contain "discord"');
  }
  tooLong(['username'], body.username, 80);
  if (body.embeds !== undefined) {
    if (!Array.isArray(body.embeds)) {
      addError(errors, ['embeds'], 'LIST_TYPE_CONVERT', 'Only iterables may be used in a ListType.');
    } else {
      if (body.embeds.length > 10)
        addError(errors, ['embeds'], 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
      let total = 0;
      body.embeds.forEach((embed: Record<string, unknown>, i: number) => {
        total += discordEmbedErrors(embed ?? {}, ['embeds', i], tooLong, errors);
      });
      if (total > 6000) {
        addError(errors, ['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
      }
    }
  }
  const parse = body.allowed_mentions?.parse;
  if (
    parse !== undefined &&
    (!Array.isArray(parse) || parse.some((p) => !['roles', 'users', 'everyone'].includes(p)))
  ) {
    addError(
      errors,
      ['allowed_mentions', 'parse'],
      'ENUM_TYPE_COERCE',
      'Value must be one of roles, users, everyone.',
    );
  }
  return Object.keys(errors).length > 0 ? errors : null;
}

/** Returns the embed's counted length (toward the 6000 total). */
function discordEmbedErrors(
  // biome-ignore lint/suspicious/noExplicitAny: received JSON
  embed: Record<string, any>,
  path: (string | number)[],
  tooLong: (path: (string | number)[], value: unknown, max: number, required?: boolean) => number,
  errors: FormErrors,
): number {
  let total =
    tooLong([...path, 'title'], embed.title, 256) +
    tooLong([...path, 'description'], embed.description, 4096);
  if (embed.url !== undefined && !(typeof embed.url === 'string' && /^https?:\/\/[^\s]+$/i.test(embed.url))) {
    addError(errors, [...path, 'url'], 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
  }
  if (
    embed.color !== undefined &&
    !(Number.isInteger(embed.color) && embed.color >= 0 && embed.color <= 0xffffff)
  ) {
    addError(
      errors,
      [...path, 'color'],
      'NUMBER_TYPE_MAX',
      'int value should be less than or equal to 16777215.',
    );
  }
  if (embed.timestamp !== undefined && Number.isNaN(Date.parse(String(embed.timestamp)))) {
    addError(errors, [...path, 'timestamp'], 'DATE_TIME_TYPE_PARSE', 'Could not parse the timestamp.');
  }
  if (embed.footer !== undefined)
    total += tooLong([...path, 'footer', 'text'], embed.footer?.text, 2048, true);
  if (embed.author !== undefined)
    total += tooLong([...path, 'author', 'name'], embed.author?.name, 256, true);
  if (embed.fields !== undefined) {
    if (!Array.isArray(embed.fields)) {
      addError(errors, [...path, 'fields'], 'LIST_TYPE_CONVERT', 'Only iterables may be used in a ListType.');
      return total;
    }
    if (embed.fields.length > 25) {
      addError(errors, [...path, 'fields'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    }
    embed.fields.forEach((field: Record<string, unknown>, j: number) => {
      total += tooLong([...path, 'fields', j, 'name'], field?.name, 256, true);
      total += tooLong([...path, 'fields', j, 'value'], field?.value, 1024, true);
    });
  }
  return total;
}

// ---- Slack's limits -----------------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: received JSON
function slackTextValid(object: any, max: number, types = ['plain_text', 'mrkdwn']): boolean {
  return (
    typeof object === 'object' &&
    object !== null &&
    types.includes(object.type) &&
    typeof object.text === 'string' &&
    object.text.length > 0 &&
    object.text.length <= max
  );
}

// biome-ignore lint/suspicious/noExplicitAny: received JSON
function slackBlocksValid(blocks: any): boolean {
  if (!Array.isArray(blocks) || blocks.length > 50) return false;
  return blocks.every((block) => {
    if (typeof block !== 'object' || block === null) return false;
    if (block.type === 'header') return slackTextValid(block.text, 150, ['plain_text']);
    if (block.type === 'section') {
      if (block.text === undefined && block.fields === undefined) return false;
      if (block.text !== undefined && !slackTextValid(block.text, 3000)) return false;
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields) || block.fields.length > 10) return false;
        if (!block.fields.every((f: unknown) => slackTextValid(f, 2000))) return false;
      }
      return true;
    }
    return typeof block.type === 'string';
  });
}
