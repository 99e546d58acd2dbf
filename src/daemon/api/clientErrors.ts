import type { Duplex } from 'node:stream';
import http from '../../nodeHttp.ts';
import { type ApiErrorCode, errorBody } from './errorCatalogue.ts';

/**
 * Requests Node refuses before Express sees them — a request line or headers over
 * `maxHeaderSize` (a 20 KB query string), malformed HTTP, a header timeout — would get
 * Node's bare status line with an empty body. Every error of the API is the documented
 * JSON, these included, with the same nosniff/CSP headers as the rest.
 */
const ANSWERS: Record<string, { code: ApiErrorCode; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    code: 'headers_too_large',
    message: `the request line and headers must stay under ${Math.floor(http.maxHeaderSize / 1024)} KB; send large input in the body`,
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    code: 'request_timeout',
    message: 'the request was not received in time',
  },
  HPE_HEADER_TIMEOUT: {
    code: 'request_timeout',
    message: 'the headers were not received in time',
  },
};
const MALFORMED = { code: 'bad_request', message: 'malformed HTTP request' } as const;

export function answerClientError(
  error: NodeJS.ErrnoException & { bytesParsed?: number },
  socket: Duplex,
): void {
  // Nothing to answer on a socket the client already closed or reset.
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const answer = ANSWERS[error.code ?? ''] ?? MALFORMED;
  const { status, body: json } = errorBody(answer.code, answer.message);
  const body = JSON.stringify(json);
  socket.end(
    [
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'X-Content-Type-Options: nosniff',
      "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'",
      'Cache-Control: no-store',
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}
