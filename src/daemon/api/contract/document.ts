import {
  createDocument,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { version } from '../../../paths.ts';
import { API_ERRORS } from '../errorCatalogue.ts';
import { byStatus, errorCodesOf, TRANSPORT_ERRORS } from './errors.ts';
import { OPERATIONS } from './operations.ts';
import { errorSchema } from './resources.ts';
import type { RouteSpec } from './route.ts';

export type OpenApiDocument = oas31.OpenAPIObject;

/** getContactsById, postCampaignsByIdStart: stable, unique, derived from method and path. */
export function operationIdOf(spec: Pick<RouteSpec, 'method' | 'path'>): string {
  const words = spec.path
    .split('/')
    .filter((part) => part && part !== 'api')
    .map((part) => part.replace(/^\{(\w+)\}$/, 'by-$1'))
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return spec.method + words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
}

const describe = (codes: readonly (keyof typeof API_ERRORS)[]) =>
  codes.map((code) => `\`${code}\`: ${API_ERRORS[code].meaning}`).join('\n\n');

function responsesOf(spec: RouteSpec): ZodOpenApiResponsesObject {
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status as `2${string}`] = {
      description: response.description,
      ...(response.schema
        ? {
            content: {
              [response.contentType ?? 'application/json']: { schema: response.schema },
              ...(response.alternative
                ? { [response.alternative.contentType]: { schema: response.alternative.schema } }
                : {}),
            },
          }
        : {}),
    };
  }
  for (const [status, codes] of byStatus(errorCodesOf(spec))) {
    responses[String(status) as `4${string}`] = {
      description: describe(codes),
      content: { 'application/json': { schema: errorSchema(codes) } },
    };
  }
  responses.default = {
    description: describe(TRANSPORT_ERRORS),
    content: { 'application/json': { schema: errorSchema(TRANSPORT_ERRORS) } },
  };
  return responses;
}

function operationOf(spec: RouteSpec): ZodOpenApiOperationObject {
  const requestBody = spec.body
    ? { required: true, content: { 'application/json': { schema: spec.body } } }
    : spec.rawBody
      ? {
          required: true,
          description: spec.rawBody.description,
          content: Object.fromEntries(
            spec.rawBody.contentTypes.map((type) => [type, { schema: spec.rawBody?.schema }]),
          ),
        }
      : undefined;
  return {
    operationId: operationIdOf(spec),
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security: spec.auth === 'public' ? [] : [{ bearer: [] }],
    ...(spec.params || spec.query
      ? {
          requestParams: {
            ...(spec.params ? { path: spec.params } : {}),
            ...(spec.query ? { query: spec.query } : {}),
          },
        }
      : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: responsesOf(spec),
    ...(spec.auth === 'admin' ? { 'x-wuz-auth': 'admin' } : {}),
  };
}

function build(operations: readonly RouteSpec[]): OpenApiDocument {
  const paths: ZodOpenApiPathsObject = {};
  for (const spec of operations) {
    const item = paths[spec.path] ?? {};
    paths[spec.path] = item;
    if (item[spec.method]) throw new Error(`${spec.method.toUpperCase()} ${spec.path} is declared twice`);
    item[spec.method] = operationOf(spec);
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'WUZAPI Manager API',
      version,
      description:
        'The API of WUZAPI Manager, served by `wuzctl serve`. Every route under /api except this document ' +
        'and its reference page needs `Authorization: Bearer <token>` (`wuzctl tokens create`); every answer is ' +
        "scoped to the token's tenant. Errors are always `{ error: { code, message, details? } }`: docs/API.md " +
        'lists the codes.',
    },
    tags: [...new Set(operations.map((spec) => spec.tag))].map((name) => ({ name })),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'wuz_<prefix>_<secret>' },
      },
    },
    paths,
  }) as OpenApiDocument;
}

let cached: OpenApiDocument | undefined;

/** The API's OpenAPI 3.1 document, generated once per process from the route declarations. */
export function openApiDocument(): OpenApiDocument {
  cached ??= build(OPERATIONS);
  return cached;
}
