import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { OpenApiDocument } from '../../src/daemon/api/contract/document.ts';
import { API_ERRORS } from '../../src/daemon/api/errorCatalogue.ts';

// ajv-formats is CommonJS: its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const EXEMPT = Symbol.for('wuzctl.contract.exempt');

/**
 * For a test file that serves an Express app of its own (not the API): its responses are
 * not the API's, so the contract check (test/contract/checkResponses.ts) leaves them alone.
 */
export function exemptFromContract(): void {
  (globalThis as Record<symbol, unknown>)[EXEMPT] = true;
}

export const isExemptFromContract = (): boolean => (globalThis as Record<symbol, unknown>)[EXEMPT] === true;

/**
 * The paths the daemon serves that the document covers: not the web app's files, nor the
 * files of the reference page (/api/docs/…), which are static assets like the web app's.
 */
export const isContractPath = (pathname: string) =>
  ((pathname.startsWith('/api/') || pathname === '/api') && !pathname.startsWith('/api/docs/')) ||
  ['/healthz', '/readyz', '/metrics'].includes(pathname);

const pointer = (...parts: string[]) =>
  parts.map((part) => encodeURIComponent(part.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');

export interface ObservedResponse {
  method: string;
  pathname: string;
  status: number;
  contentType: string | null;
  /** The body as text ('' when there was none). */
  body: string;
}

/**
 * Checks responses against the OpenAPI document: the operation exists, the status is
 * documented (or falls under `default`), the media type is the documented one and a JSON
 * body matches its schema. Returns the problems (empty: the response keeps the contract).
 */
export function contractChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(document as object, 'openapi');
  const templates = Object.keys(document.paths ?? {}).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));

  function find(method: string, pathname: string) {
    for (const { template, pattern } of templates) {
      const operation = (document.paths?.[template] as Record<string, unknown> | undefined)?.[method];
      if (pattern.test(pathname) && operation) return { template, operation: operation as OperationLike };
    }
    return null;
  }

  return function check(response: ObservedResponse): string[] {
    const method = response.method.toLowerCase() === 'head' ? 'get' : response.method.toLowerCase();
    const where = `${response.method} ${response.pathname} → ${response.status}`;
    // Express routes ignore one trailing slash (`/api/contacts/` is `/api/contacts`).
    const pathname = response.pathname.length > 1 ? response.pathname.replace(/\/$/, '') : response.pathname;
    const found = find(method, pathname);
    if (!found) {
      // A route that does not exist answers an error of the catalogue — the generic 404, or
      // what the layers before routing say first (401, 415, a body that is not JSON…) —
      // and never anything else.
      const code = parseJson(response.body)?.error?.code;
      if (response.status >= 400 && response.status < 500 && typeof code === 'string' && code in API_ERRORS)
        return [];
      return [`${where}: no operation ${method.toUpperCase()} ${response.pathname} in the document`];
    }
    const status = String(response.status);
    const key = found.operation.responses[status] ? status : 'default';
    const documented = found.operation.responses[key];
    if (!documented) return [`${where}: status ${status} is not documented`];
    if (response.method.toUpperCase() === 'HEAD') return [];
    const content = documented.content ?? {};
    const mediaType = response.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
    if (Object.keys(content).length === 0) {
      return response.body === '' ? [] : [`${where}: documented without a body, got ${mediaType}`];
    }
    if (!content[mediaType]) {
      return [
        `${where}: media type ${mediaType || '(none)'} is not one of ${Object.keys(content).join(', ')}`,
      ];
    }
    if (mediaType !== 'application/json') return [];
    const body = parseJson(response.body);
    if (body === undefined) return [`${where}: the body is not JSON`];
    const ref = `openapi#/${pointer('paths', found.template, method, 'responses', key, 'content', mediaType, 'schema')}`;
    const validate = ajv.getSchema(ref);
    if (!validate) return [`${where}: no schema at ${ref}`];
    if (validate(body)) return [];
    return (validate.errors ?? []).slice(0, 5).map((e) => `${where}: body${e.instancePath} ${e.message}`);
  };
}

interface OperationLike {
  responses: Record<string, { content?: Record<string, unknown> } | undefined>;
}

// biome-ignore lint/suspicious/noExplicitAny: a body of any shape, read by a few optional fields
function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
