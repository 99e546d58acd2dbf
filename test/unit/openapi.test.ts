// biome-ignore-all lint/suspicious/noExplicitAny: the test walks the document as plain JSON
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { openApiDocument, operationIdOf } from '../../src/daemon/api/contract/document.ts';
import { OPERATIONS } from '../../src/daemon/api/contract/operations.ts';
import { API_ERRORS } from '../../src/daemon/api/errorCatalogue.ts';
import { contractChecker } from '../helpers/contract.ts';

const document = openApiDocument();

describe('the OpenAPI document', () => {
  it('validates as OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('holds every declared route once, with a unique operationId', () => {
    const ids = OPERATIONS.map(operationIdOf);
    expect(new Set(ids).size).toBe(ids.length);
    for (const spec of OPERATIONS) {
      const operation = (document.paths as Record<string, Record<string, { operationId: string }>>)[
        spec.path
      ]?.[spec.method];
      expect(operation?.operationId).toBe(operationIdOf(spec));
    }
  });

  it('documents only codes of the catalogue, each under its own status', () => {
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(item as Record<string, any>)) {
        for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
          const codes: string[] | undefined =
            response.content?.['application/json']?.schema?.properties?.error?.properties?.code?.enum;
          for (const code of codes ?? []) {
            expect(code in API_ERRORS, `${method} ${path} ${status}: ${code}`).toBe(true);
            if (status !== 'default') {
              expect(API_ERRORS[code as keyof typeof API_ERRORS].status, `${method} ${path}: ${code}`).toBe(
                Number(status),
              );
            }
          }
        }
      }
    }
  });

  it('requires a token everywhere but the probes, the metrics and the document itself', () => {
    const open = OPERATIONS.filter((spec) => spec.auth === 'public').map((spec) => spec.path);
    expect(open.sort()).toEqual(['/api/docs', '/api/openapi.json', '/healthz', '/metrics', '/readyz']);
    const agents = document.paths?.['/api/session/agents']?.get;
    expect(agents?.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(agents?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '415', '429', 'default']),
    );
  });

  it('describes request bodies and queries from the schemas that validate them', () => {
    const create = document.paths?.['/api/session/agents']?.post as any;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(['name', 'email']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.status.enum).toEqual(['active', 'away', 'inactive']);
    const list = document.paths?.['/api/contacts']?.get as any;
    const perPage = list.parameters.find((p: any) => p.name === 'per_page');
    expect(perPage).toMatchObject({ in: 'query', schema: { maximum: 100, default: 25 } });
  });
});

describe('the contract checker', () => {
  const check = contractChecker(document);
  const agent = {
    id: '8bf62950-e21a-42ec-a71d-6787056f78de',
    name: 'Ana',
    email: 'ana@example.com',
    status: 'active',
    team_id: null,
    role_id: null,
    created_at: '2026-12-03T12:45:56.903Z',
    updated_at: '2026-12-03T12:45:56.903Z',
  };
  const json = 'application/json; charset=utf-8';
  const response = (status: number, body: unknown, pathname = `/api/session/agents/${agent.id}`) => ({
    method: 'GET',
    pathname,
    status,
    contentType: json,
    body: JSON.stringify(body),
  });

  it('accepts a response that keeps the contract', () => {
    expect(check(response(200, agent))).toEqual([]);
    expect(check(response(404, { error: { code: 'not_found', message: 'agent not found' } }))).toEqual([]);
    expect(check(response(404, { error: { code: 'not_found', message: 'no route' } }, '/api/nope'))).toEqual(
      [],
    );
  });

  it('refuses a missing field, an extra field, a wrong type, a wrong code and an undocumented route', () => {
    const { email: _email, ...withoutEmail } = agent;
    expect(check(response(200, withoutEmail))).not.toEqual([]);
    expect(check(response(200, { ...agent, tenant_id: agent.id }))).not.toEqual([]);
    expect(check(response(200, { ...agent, status: 'gone' }))).not.toEqual([]);
    expect(check(response(409, { error: { code: 'conflict', message: 'x' } }))).not.toEqual([]);
    expect(check(response(400, { error: { code: 'unprocessable', message: 'x' } }))).not.toEqual([]);
    expect(check(response(200, { ok: true }, '/api/nope'))).not.toEqual([]);
    expect(check(response(400, { error: { code: 'invalid_json', message: 'x' } }, '/api/nope'))).toEqual([]);
    expect(check(response(400, { error: { code: 'made_up', message: 'x' } }, '/api/nope'))).not.toEqual([]);
    expect(check(response(200, agent, `/api/session/agents/${agent.id}/`))).toEqual([]);
    expect(check({ ...response(200, agent), contentType: 'text/html' })).not.toEqual([]);
  });
});
