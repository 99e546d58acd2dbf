import { errorMessage } from '../../services/retry.ts';
import type { AlertChannel, AlertNotification, DeliveryResult } from '../types.ts';
import { backoffDelay, sleepUnlessAborted, trimAnswer } from './delivery.ts';
import { describeWebhook, type WebhookFormat, webhookBody } from './webhookFormat.ts';

/**
 * Delivers a notification to a Discord, Slack or Alertmanager-style webhook. An alert that
 * does not arrive is worse than a late one, so rate limits and server errors are waited out;
 * a request the receiver refuses (a deleted webhook: 404) would be refused again, so it is
 * not repeated.
 */
export interface WebhookChannelOptions {
  url: URL;
  format: WebhookFormat;
  /** Per attempt, answer body included. */
  timeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  /** Caps the backoff and a receiver's Retry-After (a rate limit of an hour is not waited out). */
  maxDelayMs?: number;
}

export class WebhookChannel implements AlertChannel {
  readonly name = 'webhook' as const;
  readonly #url: URL;
  readonly #format: WebhookFormat;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;

  constructor({
    url,
    format,
    timeoutMs = 10_000,
    maxAttempts = 5,
    baseDelayMs = 1000,
    maxDelayMs = 60_000,
  }: WebhookChannelOptions) {
    this.#url = new URL(url);
    this.#format = format;
    this.#timeoutMs = timeoutMs;
    this.#maxAttempts = Math.max(1, maxAttempts);
    this.#baseDelayMs = baseDelayMs;
    this.#maxDelayMs = maxDelayMs;
  }

  describe(): string {
    return describeWebhook(this.#url, this.#format);
  }

  async send(notification: AlertNotification, signal?: AbortSignal): Promise<DeliveryResult> {
    let body: string;
    try {
      body = JSON.stringify(webhookBody(this.#format, notification));
    } catch (error) {
      return {
        ok: false,
        attempts: 0,
        answer: this.#clean(`could not build the message: ${errorMessage(error)}`),
      };
    }
    const target = this.#target();
    let last: Attempt = { ok: false, retry: false, answer: 'not sent' };
    let attempts = 0;
    while (attempts < this.#maxAttempts && !signal?.aborted) {
      attempts++;
      last = await this.#attempt(target, body, signal);
      if (last.ok || !last.retry || attempts >= this.#maxAttempts) break;
      const delay = last.retryAfterMs ?? backoffDelay(attempts, this.#baseDelayMs, this.#maxDelayMs);
      if (!(await sleepUnlessAborted(Math.min(delay, this.#maxDelayMs), signal))) break;
    }
    const stopped = !last.ok && signal?.aborted ? ' (stopped: the daemon is shutting down)' : '';
    return {
      ok: last.ok,
      ...(last.status === undefined ? {} : { status: last.status }),
      attempts,
      answer: this.#clean(last.answer + stopped),
    };
  }

  /** Discord answers 204 with no body unless asked to wait: then a bad message is a 400 we can see. */
  #target(): URL {
    const target = new URL(this.#url);
    if (this.#format === 'discord') target.searchParams.set('wait', 'true');
    return target;
  }

  async #attempt(target: URL, body: string, signal?: AbortSignal): Promise<Attempt> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'wuzctl-alerts' },
        body,
        // A redirected POST may turn into a GET that "succeeds" without delivering anything.
        redirect: 'manual',
        signal: combined,
      });
      const text = (await response.text()).trim();
      const status = response.status;
      if (status >= 200 && status < 300)
        return { ok: true, retry: false, status, answer: text || `HTTP ${status}` };
      const answer = `HTTP ${status}${text ? `: ${text}` : ''}`;
      if (status === 429) {
        return { ok: false, retry: true, status, answer, ...retryAfter(response, text, this.#maxDelayMs) };
      }
      if (status >= 300 && status < 400) {
        return {
          ok: false,
          retry: false,
          status,
          answer: `${answer} (redirects are not followed: use the final URL)`,
        };
      }
      return { ok: false, retry: status >= 500, status, answer };
    } catch (error) {
      if (signal?.aborted) return { ok: false, retry: false, answer: 'aborted' };
      if (timeout.aborted)
        return { ok: false, retry: true, answer: `no answer within ${this.#timeoutMs} ms` };
      return { ok: false, retry: true, answer: networkError(error) };
    }
  }

  /** The path and query are the webhook's token: they never leave in an answer. */
  #clean(text: string): string {
    const urls = [this.#target(), this.#url];
    const secrets = [
      ...urls.map((u) => u.href),
      ...urls.map((u) => u.pathname + u.search),
      ...urls.map((u) => u.search),
      this.#url.pathname,
      // A receiver may echo a token alone (Discord's is one long path segment).
      ...this.#url.pathname.split('/').filter((segment) => segment.length >= 16),
    ].filter((secret) => secret.length > 1);
    let clean = text;
    for (const secret of secrets) clean = clean.split(secret).join('…');
    return trimAnswer(clean);
  }
}

interface Attempt {
  ok: boolean;
  retry: boolean;
  status?: number;
  answer: string;
  retryAfterMs?: number;
}

/** Discord's JSON `retry_after` (float seconds) is more precise than its Retry-After header. */
function retryAfter(response: Response, text: string, maxDelayMs: number): { retryAfterMs?: number } {
  let seconds: number | undefined;
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed?.retry_after === 'number') seconds = parsed.retry_after;
  } catch {
    // Slack answers plain text "rate_limited": the header says how long.
  }
  if (seconds === undefined) seconds = headerSeconds(response.headers.get('retry-after'));
  if (seconds === undefined) seconds = headerSeconds(response.headers.get('x-ratelimit-reset-after'));
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return {};
  return { retryAfterMs: Math.min(maxDelayMs, Math.ceil(seconds * 1000)) };
}

function headerSeconds(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(value); // Retry-After may also be an HTTP date
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/** fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND…). */
function networkError(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const message = errorMessage(error);
  return cause ? `${message}: ${errorMessage(cause)}` : message;
}
