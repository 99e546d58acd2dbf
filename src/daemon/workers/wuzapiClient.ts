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

export function wuzapiClient(baseUrl: string, timeoutMs: number): WuzapiClient {
  const endpoint = `${baseUrl}/chat/send/text`;
  return {
    async sendText({ token, phone, body, id }) {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', Token: token },
          body: JSON.stringify({ Phone: phone.replace(/^\+/, ''), Body: body, Id: id }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const name = (error as Error).name;
        const reason = name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describe(error);
        return { kind: 'retryable', error: `WuzAPI: ${reason}` };
      }
      const answer = (await response.json().catch(() => ({}))) as WuzapiAnswer;
      const error = `WuzAPI ${response.status}: ${answer.error ?? response.statusText}`;
      if (response.ok && answer.success !== false) return { kind: 'sent', id: answer.data?.Id ?? id };
      if (response.status >= 500 && /no session/i.test(answer.error ?? ''))
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

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
