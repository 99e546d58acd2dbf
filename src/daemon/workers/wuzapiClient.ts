import type { Agent } from 'node:http';
import https from 'node:https';
import http from '../../nodeHttp.ts';

/**
 * The one call campaigns make to WuzAPI: `POST {url}/chat/send/text` with the session's
 * `Token` header and `{Phone, Body, Id}`. The answer is sorted into what the campaign
 * worker must do next, because only some failures may be retried.
 */
export type SendOutcome =
  | { kind: 'sent'; id: string }
  /** 4xx: the request itself is wrong (bad phone, bad token); retrying cannot help. */
  | { kind: 'rejected'; status: number; error: string }
  /** WuzAPI's "No session": the WhatsApp session is disconnected; pause, don't retry. */
  | { kind: 'no_session'; error: string }
  /**
   * 5xx, a timeout or a broken connection. A timeout is "unknown", not "failed": the
   * message may have gone out, so a retry reuses the same message Id.
   */
  | { kind: 'retryable'; error: string };

export interface SendRequest {
  token: string;
  /** E.164 as we store it (+5511…); WuzAPI wants the digits only. */
  phone: string;
  body: string;
  id: string;
}

export interface WuzapiClient {
  sendText(request: SendRequest): Promise<SendOutcome>;
}

interface WuzapiAnswer {
  success?: boolean;
  error?: string;
  data?: { Id?: string };
}

/**
 * Sends over node:http with a keep-alive agent: one pool of open connections to WuzAPI,
 * at most `maxConnections` (what the worker can have in flight: its campaign jobs times
 * the burst), reused from send to send. `fetch` reuses connections too, but builds a
 * Request, a Response and web streams around every call — at thousands of sends per
 * second that was most of the worker's time. Tracing still sees each send: the http
 * instrumentation makes it a client span and passes its `traceparent`.
 */
export function wuzapiClient(baseUrl: string, timeoutMs: number, maxConnections = 64): WuzapiClient {
  const endpoint = new URL(`${baseUrl}/chat/send/text`);
  const transport = endpoint.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({
    keepAlive: true,
    maxSockets: maxConnections,
    maxFreeSockets: maxConnections,
  });
  return {
    async sendText({ token, phone, body, id }) {
      let response: { status: number; statusText: string; text: string };
      try {
        response = await post(transport, agent, endpoint, token, timeoutMs, {
          Phone: phone.replace(/^\+/, ''),
          Body: body,
          Id: id,
        });
      } catch (error) {
        const reason = error instanceof SendTimeout ? `no answer within ${timeoutMs} ms` : describe(error);
        return { kind: 'retryable', error: `WuzAPI: ${reason}` };
      }
      let answer: WuzapiAnswer = {};
      try {
        answer = JSON.parse(response.text) as WuzapiAnswer;
      } catch {}
      const ok = response.status >= 200 && response.status < 300;
      const error = `WuzAPI ${response.status}: ${answer?.error ?? response.statusText}`;
      if (ok && answer?.success !== false) return { kind: 'sent', id: answer?.data?.Id ?? id };
      if (response.status >= 500 && /no session/i.test(answer?.error ?? ''))
        return { kind: 'no_session', error };
      if (
        response.status >= 400 &&
        response.status < 500 &&
        response.status !== 408 &&
        response.status !== 429
      ) {
        return { kind: 'rejected', status: response.status, error };
      }
      return { kind: 'retryable', error };
    },
  };
}

class SendTimeout extends Error {}

/** One POST with a deadline for the whole exchange (connect, send, the full answer). */
function post(
  transport: typeof http | typeof https,
  agent: Agent,
  url: URL,
  token: string,
  timeoutMs: number,
  payload: object,
): Promise<{ status: number; statusText: string; text: string }> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(timedOut ? new SendTimeout() : error);
    };
    const request = transport.request(
      {
        // The URL's parts, not the URL: http.request would convert it on every send.
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          Token: token,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? '',
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy(new SendTimeout());
    }, timeoutMs);
    request.on('error', fail);
    request.end(body);
  });
}

function describe(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return code ?? message ?? String(error);
}
