import { API_ERRORS, type ApiErrorCode } from '../errorCatalogue.ts';
import type { RouteSpec } from './route.ts';

/**
 * Errors the HTTP server or the error handler can answer on any route (a malformed
 * request, a slow client, headers over 16 KB, our own fault): the document's `default`
 * response. Everything else a route can answer is listed by status.
 */
export const TRANSPORT_ERRORS = [
  'bad_request',
  'request_aborted',
  'request_timeout',
  'headers_too_large',
  'not_acceptable',
  'internal_error',
  // Any route that reads or writes may find the database gone.
  'database_unavailable',
] as const satisfies readonly ApiErrorCode[];

/** What the JSON body parser (mounted for every /api route after imports) can refuse. */
const JSON_PARSER_ERRORS = [
  'invalid_json',
  'json_too_deep',
  'payload_too_large',
  'unsupported_media_type',
  // A NUL character anywhere in the body or the query string.
  'invalid_request',
] as const satisfies readonly ApiErrorCode[];

/**
 * Every code a route can answer besides the transport ones: those of its kind (auth,
 * rate limit, body parser, validation, ids) and its own. Derived, so a route's
 * declaration lists only what is particular to it.
 */
export function errorCodesOf(spec: RouteSpec): ApiErrorCode[] {
  const codes = new Set<ApiErrorCode>(spec.errors ?? []);
  if (spec.auth !== 'public') {
    codes.add('unauthorized');
    codes.add('rate_limited');
  }
  if (spec.auth === 'admin') codes.add('forbidden');
  if (spec.path.startsWith('/api/') && spec.auth !== 'public' && !spec.beforeJsonParser) {
    for (const code of JSON_PARSER_ERRORS) codes.add(code);
  }
  if (spec.query || spec.body || spec.rawBody) codes.add('invalid_request');
  if (spec.params) codes.add('not_found');
  for (const code of TRANSPORT_ERRORS) codes.delete(code);
  return [...codes];
}

/** Codes grouped by their status, in status order. */
export function byStatus(codes: readonly ApiErrorCode[]): Map<number, ApiErrorCode[]> {
  const groups = new Map<number, ApiErrorCode[]>();
  for (const code of [...codes].sort((a, b) => API_ERRORS[a].status - API_ERRORS[b].status)) {
    const status = API_ERRORS[code].status;
    groups.set(status, [...(groups.get(status) ?? []), code]);
  }
  return groups;
}
