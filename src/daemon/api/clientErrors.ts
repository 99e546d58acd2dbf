import http from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Requests Node refuses before Express sees them — a request line or headers over
 * `maxHeaderSize` (a 20 KB query string), malformed HTTP, a header timeout — would get
 * Node's bare status line with an empty body. Every error of the API is the documented
 * JSON, these included, with the same nosniff/CSP headers as the rest.
 */
const ANSWERS: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'headers_too_large',
    message: `the request line and headers must stay under ${Math.floor(http.maxHeaderSize / 1024)} KB; send large input in the body`,
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'request_timeout',
    message: 'the request was not received in time',
  },
  HPE_HEADER_TIMEOUT: {
    status: 408,
    code: 'request_timeout',
    message: 'the headers were not received in time',
  },
};
const MALFORMED = { status: 400, code: 'bad_request', message: 'malformed HTTP request' };

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
  const body = JSON.stringify({ error: { code: answer.code, message: answer.message } });
  socket.end(
    [
      `HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status]}`,
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
