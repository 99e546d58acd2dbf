import type { ErrorRequestHandler, RequestHandler } from 'express';
import { pgConstraint, pgErrorCode } from '../db/queryable.ts';
import { QueueUnavailableError } from '../queues/index.ts';
import { type ApiErrorCode, errorBody, statusOf } from './errorCatalogue.ts';

/**
 * The one error shape of the API: `{ error: { code, message, details? } }`. The status
 * is the code's, from the catalogue (errorCatalogue.ts).
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly details?: unknown;

  constructor(code: ApiErrorCode, message: string, details?: unknown) {
    super(message);
    this.status = statusOf(code);
    this.code = code;
    this.details = details;
  }
}

export const notFoundError = (what: string) => new HttpError('not_found', `${what} not found`);
export const conflictError = (message: string, details?: unknown) =>
  new HttpError('conflict', message, details);
export const unprocessable = (message: string, details?: unknown) =>
  new HttpError('unprocessable', message, details);

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError('not_found', `no route for ${req.method} ${req.path}`));
};

// Unique indexes → what the client did wrong, in words (the constraint name is ours, not theirs).
const UNIQUE_MESSAGES: Record<string, string> = {
  users_tenant_email: 'a user with this email already exists in the tenant',
  plans_tenant_name: 'a plan with this name already exists',
  teams_owner_name: 'you already have a team with this name',
  roles_owner_name: 'you already have a role with this name',
  agents_owner_email: 'you already have an agent with this email',
  contacts_owner_phone: 'you already have a contact with this phone',
  subscriptions_one_live: 'you already have a live subscription',
  tenants_slug_key: 'a tenant with this slug already exists',
};

// body-parser's error types → our codes; any other 4xx it reports is a bad_request.
const PARSER_CODES: Record<string, ApiErrorCode> = {
  'entity.parse.failed': 'invalid_json',
  'entity.too.large': 'payload_too_large',
  'parameters.too.many': 'payload_too_large',
  'encoding.unsupported': 'unsupported_media_type',
  'charset.unsupported': 'unsupported_media_type',
  'request.aborted': 'request_aborted',
};

// Node's socket errors, and PostgreSQL's connection-exception (08) and shutdown (57P0x) classes.
const UNREACHABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);

/**
 * The database is away (stopped, restarting, out of reach): a 503 the client may retry,
 * not a 500 that says we have a bug. pg reports a lost or refused connection with the
 * socket's code, a pool that could not connect in time, or "Connection terminated".
 */
function databaseUnreachable(error: unknown): boolean {
  const err = error as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (UNREACHABLE_ERRNO.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code)) return true;
  const message = typeof err?.message === 'string' ? err.message : '';
  return /^Connection terminated|timeout exceeded when trying to connect/.test(message);
}

/** Maps database errors that a client's input can cause to 4xx; everything else stays a 500. */
export function fromDatabaseError(error: unknown): HttpError | null {
  // Not the database, but as known: Redis refused a job and the route created nothing.
  if (error instanceof QueueUnavailableError) return new HttpError('queue_unavailable', error.message);
  if (databaseUnreachable(error)) {
    return new HttpError('database_unavailable', 'the database cannot be reached right now; retry later');
  }
  const code = pgErrorCode(error);
  if (code === '23505') {
    const constraint = pgConstraint(error) ?? '';
    return conflictError(UNIQUE_MESSAGES[constraint] ?? 'this already exists');
  }
  if (code === '23503') return unprocessable('a referenced record does not exist');
  return null;
}

/** Turns any error into the JSON shape; a client never sees a stack trace. */
export function errorHandler(log: { error: (obj: object, msg: string) => void }): ErrorRequestHandler {
  return (error, req, res, _next) => {
    // Failed mid-body (a CSV download whose next piece could not be read): the status is
    // gone, so the connection is cut and the client sees an incomplete response, not a
    // truncated one that looks whole.
    if (res.headersSent) {
      log.error({ err: error, method: req.method, path: req.path }, 'error after the response began');
      res.destroy();
      return;
    }
    // An error is never for a shared cache (a CDN would serve a 404 or a 406 to everyone).
    if (!/no-store/.test(String(res.getHeader('Cache-Control') ?? '')))
      res.setHeader('Cache-Control', 'no-store');
    const known = error instanceof HttpError ? error : fromDatabaseError(error);
    if (known) {
      res
        .status(known.status)
        .json({ error: { code: known.code, message: known.message, details: known.details } });
      return;
    }
    // body-parser and friends attach a 4xx `status` to their errors (bad JSON, too large…).
    const clientFault = typeof error?.status === 'number' && error.status >= 400 && error.status < 500;
    if (!clientFault) log.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
    const { status, body } = clientFault
      ? errorBody(PARSER_CODES[error.type] ?? 'bad_request', String(error.message))
      : errorBody('internal_error', 'internal server error');
    res.status(status).json(body);
  };
}
