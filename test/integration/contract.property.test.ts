import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/daemon/api/contract/document.ts';
import { arbitraryOf, type JsonSchema } from '../contract/arbitraries.ts';
import { type AppHarness, type HarnessTenant, startAppHarness } from '../helpers/appHarness.ts';
import { contractChecker } from '../helpers/contract.ts';

/**
 * Property-based: for every operation of the OpenAPI document, requests generated from the
 * document itself — valid ones (from the request schemas) and invalid ones (any JSON, any
 * string, wrong ids, wrong media types, no token) — never get a 5xx, and every answer
 * matches its documented shape. Runs against the in-process harness (real Redis and
 * PostgreSQL), so a counterexample points straight at a route.
 */
const document = openApiDocument() as JsonSchema;
const check = contractChecker(openApiDocument());
const RUNS = Number(process.env.WUZ_PROPERTY_RUNS ?? 12);

interface Operation {
  method: string;
  template: string;
  operation: JsonSchema;
}

const operations: Operation[] = Object.entries(document.paths as Record<string, JsonSchema>).flatMap(
  ([template, item]) => Object.entries(item).map(([method, operation]) => ({ method, template, operation })),
);

let harness: AppHarness;
let tenant: HarnessTenant;
/** Ids the API has answered with: a generated path id is sometimes one that exists. */
const seenIds = new Set<string>();

beforeAll(async () => {
  harness = await startAppHarness({ flags: { rateLimit: 'off' } });
  tenant = await harness.tenant('enterprise');
});
/** Statuses seen per operation: WUZ_PROPERTY_REPORT=1 prints them (is each route reached?). */
const seen = new Map<string, Map<number, number>>();
afterAll(async () => {
  if (process.env.WUZ_PROPERTY_REPORT) {
    for (const [name, statuses] of seen) console.log(name, Object.fromEntries(statuses));
  }
  await harness?.close();
});

interface GeneratedRequest {
  path: string;
  query: Record<string, unknown>;
  body?: { contentType: string; text: string };
  token: 'admin' | 'user' | 'none' | 'garbage';
}

const idArbitrary = () =>
  fc.oneof(
    fc.constantFrom(...(seenIds.size ? [...seenIds] : ['00000000-0000-4000-8000-000000000000'])),
    fc.uuid(),
    fc.string({ minLength: 1, maxLength: 40 }),
  );

function pathArbitrary(template: string): fc.Arbitrary<string> {
  const parts = template
    .split('/')
    .map((part) => (/^\{\w+\}$/.test(part) ? idArbitrary().map(encodeURIComponent) : fc.constant(part)));
  return fc.tuple(...parts).map((values) => values.join('/'));
}

function queryArbitrary(operation: JsonSchema, valid: boolean): fc.Arbitrary<Record<string, unknown>> {
  const params = ((operation.parameters ?? []) as JsonSchema[]).filter((p) => p.in === 'query');
  const model = Object.fromEntries(
    params.map((p) => [
      p.name,
      valid
        ? arbitraryOf(p.schema, document)
        : fc.oneof(fc.string(), fc.integer(), arbitraryOf(p.schema, document)),
    ]),
  );
  return fc.record(model, { requiredKeys: [] });
}

function bodyArbitrary(operation: JsonSchema, valid: boolean): fc.Arbitrary<GeneratedRequest['body']> {
  const content = operation.requestBody?.content as Record<string, JsonSchema> | undefined;
  if (!content) {
    // Bodyless routes still meet the body parser: a stray body must not break them.
    return valid ? fc.constant(undefined) : fc.option(fc.jsonValue().map(json), { nil: undefined });
  }
  const [contentType, media] = Object.entries(content)[0] as [string, JsonSchema];
  if (contentType !== 'application/json') {
    return fc.oneof(
      fc.string({ maxLength: 200 }).map((text) => ({ contentType, text })),
      fc.constant({ contentType, text: 'phone,name\n+5511912345678,Ana\n' }),
      valid
        ? fc.constant({ contentType, text: 'phone\n+5511987654321\n' })
        : fc.constant({ contentType: 'application/json', text: '{}' }),
    );
  }
  if (valid) return arbitraryOf(media.schema, document).map(json);
  return fc.oneof(
    fc.jsonValue().map(json),
    fc.string().map((text) => ({ contentType: 'application/json', text })),
    fc.string().map((text) => ({ contentType: 'text/plain', text })),
  );
}

const json = (value: unknown) => ({ contentType: 'application/json', text: JSON.stringify(value) });

function requestArbitrary(
  { template, operation }: Operation,
  valid: boolean,
): fc.Arbitrary<GeneratedRequest> {
  const admin = operation['x-wuz-auth'] === 'admin';
  const token = valid
    ? fc.constant<GeneratedRequest['token']>(admin ? 'admin' : 'user')
    : fc.constantFrom<GeneratedRequest['token']>('admin', 'user', 'none', 'garbage');
  return fc.record({
    path: pathArbitrary(template),
    query: queryArbitrary(operation, valid),
    body: bodyArbitrary(operation, valid),
    token,
  });
}

async function send(method: string, request: GeneratedRequest) {
  const url = new URL(request.path, harness.url);
  for (const [key, value] of Object.entries(request.query)) {
    if (value !== undefined)
      url.searchParams.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const headers: Record<string, string> = {};
  const token = { admin: tenant.adminToken, user: tenant.userToken, none: '', garbage: 'wuz_nope_nope' }[
    request.token
  ];
  if (token) headers.authorization = `Bearer ${token}`;
  if (request.body) headers['content-type'] = request.body.contentType;
  const response = await fetch(url, {
    method: method.toUpperCase(),
    headers,
    body: request.body && method !== 'get' ? request.body.text : undefined,
  });
  const text = await response.text();
  const problems = check({
    method,
    pathname: url.pathname,
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: text,
  });
  const name = `${method.toUpperCase()} ${request.path.split('/').length} ${url.pathname.replace(/[0-9a-f-]{36}/g, '{id}')}`;
  const counts = seen.get(name) ?? new Map<number, number>();
  counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
  seen.set(name, counts);
  for (const match of text.matchAll(/"id":"([0-9a-f-]{36})"/g)) seenIds.add(match[1] as string);
  return { status: response.status, problems, text };
}

describe('every operation of the OpenAPI document, with generated requests', () => {
  for (const entry of operations) {
    const name = `${entry.method.toUpperCase()} ${entry.template}`;
    for (const valid of [true, false]) {
      it(`${name}: ${valid ? 'valid' : 'invalid'} requests get no 5xx and a documented answer`, async () => {
        await fc.assert(
          fc.asyncProperty(requestArbitrary(entry, valid), async (request) => {
            const { status, problems, text } = await send(entry.method, request);
            expect(status, text.slice(0, 300)).toBeLessThan(500);
            expect(problems).toEqual([]);
          }),
          { numRuns: RUNS },
        );
      });
    }
  }

  it('reaches every operation: a valid request never falls through to the unknown-route 404', async () => {
    for (const entry of operations) {
      const path = entry.template.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
      const admin = entry.operation['x-wuz-auth'] === 'admin';
      const { text } = await send(entry.method, { path, query: {}, token: admin ? 'admin' : 'user' });
      expect(text, `${entry.method} ${entry.template}`).not.toMatch(/no route for/);
    }
  });
});
