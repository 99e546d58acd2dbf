/**
 * Every error code the API answers, with its HTTP status and what it means — the one
 * place they are defined (as fastify's lib/errors.js is). HttpError and errorBody() take
 * a code from here and nothing else, so a misspelt code does not compile and a status is
 * never chosen at the call site. docs/API.md's error table is checked against it
 * (test/unit/errorCatalogue.test.ts), both ways.
 */
export const API_ERRORS = {
  invalid_request: {
    status: 400,
    meaning: 'the body or query fails validation; `details` lists the issues (`path`, `message`)',
  },
  invalid_json: { status: 400, meaning: 'the body is not parseable JSON' },
  json_too_deep: { status: 400, meaning: 'the JSON body nests deeper than 32 levels' },
  bad_request: { status: 400, meaning: 'malformed HTTP, or another client error the body parser reports' },
  request_aborted: { status: 400, meaning: 'the client closed the connection before its body arrived' },
  unauthorized: { status: 401, meaning: 'no token, a malformed, unknown or revoked token' },
  forbidden: {
    status: 403,
    meaning: 'a `user` on an admin-only route; a remote client on a loopback-only /metrics',
  },
  not_found: { status: 404, meaning: 'no such route, or no such id **in your tenant**' },
  method_not_allowed: { status: 405, meaning: 'the metrics port answers GET and HEAD only' },
  not_acceptable: {
    status: 406,
    meaning: '`Accept-Encoding` refuses identity and every coding the server has (br, gzip)',
  },
  request_timeout: { status: 408, meaning: 'the request line, headers or body did not arrive in time' },
  conflict: {
    status: 409,
    meaning:
      'duplicate name/email/phone, a team or role still in use (`details` says by what), a state that forbids the change',
  },
  payload_too_large: {
    status: 413,
    meaning: 'a body over the limit (`WUZ_BODY_LIMIT`, default 1 MB; `--import-limit` for a CSV import)',
  },
  unsupported_media_type: { status: 415, meaning: 'a body of another type than the route reads' },
  unprocessable: {
    status: 422,
    meaning: 'well-formed but not acceptable (unknown `team_id`, a plan limit would be exceeded, …)',
  },
  rate_limited: {
    status: 429,
    meaning: "over the tenant's plan limit, or too many failed authentications from an address",
  },
  headers_too_large: {
    status: 431,
    meaning:
      'the request line and headers exceed 16 KB (a very long query string): send large input in the body',
  },
  internal_error: { status: 500, meaning: 'a fault of ours, logged with its stack; the answer carries none' },
  database_unavailable: {
    status: 503,
    meaning: 'the database cannot be reached right now (nothing was changed); retry later',
  },
  queue_unavailable: { status: 503, meaning: 'Redis refused the job: nothing was created, retry later' },
  metrics_unavailable: { status: 503, meaning: 'the supervisor could not collect the metrics' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export const statusOf = (code: ApiErrorCode): number => API_ERRORS[code].status;

/** The API's one error shape, for the places that write a response themselves. */
export function errorBody(
  code: ApiErrorCode,
  message: string,
  details?: unknown,
): { status: number; body: { error: { code: ApiErrorCode; message: string; details?: unknown } } } {
  return {
    status: statusOf(code),
    body: { error: { code, message, ...(details === undefined ? {} : { details }) } },
  };
}
