import type { z } from 'zod';
import type * as contract from '../../../daemon/api/contract/resources.ts';

/**
 * The one way the app talks to the daemon: JSON over fetch with the caller's Bearer token.
 * Every failure becomes an ApiError with the API's own `{error: {code, message}}`, or a
 * code of ours for what never reached it (offline, network). A change attempted offline
 * is refused up front with a clear message: nothing is queued behind the user's back.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/*
 * What the API answers, derived from its contract (src/daemon/api/contract/resources.ts)
 * rather than copied: one source, the zod schemas the test suite checks every response
 * against, so a field the server adds, drops or makes nullable changes these types too.
 * The imports are type-only: nothing of the daemon reaches the bundle. JSON has no Date:
 * timestamps are ISO strings (the schemas' z.iso.datetime).
 */

/** A page of a list (the contract's `listOf`): `data`, where it starts, how many in all. */
export type Page<T> = z.output<ReturnType<typeof contract.listOf<z.ZodType<T>>>>;

export type Me = z.output<typeof contract.Me>;
export type Agent = z.output<typeof contract.Agent>;
export type Team = z.output<typeof contract.Team>;
export type Role = z.output<typeof contract.Role>;
export type Contact = z.output<typeof contract.Contact>;
export type ContactBatchResult = z.output<typeof contract.ContactBatchResult>;
export type Plan = z.output<typeof contract.Plan>;
export type Subscription = z.output<typeof contract.Subscription>;
export type UserListItem = z.output<typeof contract.UserListItem>;
export type StripeSettings = z.output<typeof contract.StripeSettings>;
export type StripeAnalytics = z.output<typeof contract.StripeAnalytics>;
export type Campaign = z.output<typeof contract.Campaign>;
export type Recipient = z.output<typeof contract.Recipient>;
export type ImportSummary = z.output<typeof contract.ImportSummary>;
export type Import = z.output<typeof contract.Import>;
export type ReportSummary = z.output<typeof contract.ReportSummary>;
export type Report = z.output<typeof contract.Report>;
export type Accepted = z.output<typeof contract.Accepted>;
export type JobStatus = z.output<typeof contract.JobStatus>;

export type AgentStatus = Agent['status'];
export type Permission = Role['permissions'][number];
export type SubscriptionStatus = Subscription['status'];
export type CampaignStatus = Campaign['status'];
export type RecipientStatus = Recipient['status'];
/** Imports and reports share the queue's four states. */
export type WorkStatus = ImportSummary['status'];
export type ReportKind = ReportSummary['kind'];
export type JobState = JobStatus['state'];

let token: string | null = null;
let onUnauthorized: () => void = () => {};

export function setApiToken(value: string | null): void {
  token = value;
}

export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export const OFFLINE_CHANGE_MESSAGE =
  'You are offline: this change was not sent. Nothing was saved — try again when you are back online.';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Sends one request with the caller's token and answers the response when it is OK; every
 * failure (offline, network, the API's own error body) becomes an ApiError here, for JSON
 * calls and downloads alike.
 */
async function send(
  method: Method,
  path: string,
  accept: string,
  body?: unknown,
  raw?: { text: string; type: string },
): Promise<Response> {
  if (method !== 'GET' && typeof navigator !== 'undefined' && !navigator.onLine) {
    throw new ApiError(0, 'offline', OFFLINE_CHANGE_MESSAGE);
  }
  const headers: Record<string, string> = { accept };
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (raw) {
    headers['content-type'] = raw.type;
    payload = raw.text;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(
      0,
      method === 'GET' ? 'network' : 'offline',
      method === 'GET' ? 'Cannot reach the server. Check your connection.' : OFFLINE_CHANGE_MESSAGE,
    );
  }
  if (response.ok) return response;
  const parsed = (await response.json().catch(() => null)) as {
    error?: { code?: string; message?: string; details?: unknown };
  } | null;
  if (response.status === 401) onUnauthorized();
  throw new ApiError(
    response.status,
    parsed?.error?.code ?? 'http_error',
    parsed?.error?.message ?? `The server answered ${response.status}.`,
    parsed?.error?.details,
  );
}

async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  raw?: { text: string; type: string },
): Promise<T> {
  const response = await send(method, path, 'application/json', body, raw);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  try {
    return (text ? JSON.parse(text) : null) as T;
  } catch {
    return null as T;
  }
}

export const api = {
  /** A file the API serves (a report's CSV): fetched with the token, which a plain link would not send. */
  download: (path: string, accept: string) => send('GET', path, accept),
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: (path: string) => request<void>('DELETE', path),
  upload: <T>(path: string, text: string, type: string) =>
    request<T>('POST', path, undefined, { text, type }),
};

/** `?a=1&b=x` from the defined entries of `params`. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A user-facing sentence for any error a query or mutation may throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
