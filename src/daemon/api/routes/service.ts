import { z } from 'zod';
import { Health, Readiness } from '../contract/resources.ts';
import { defineRoute } from '../contract/route.ts';

/**
 * The routes that serve the service rather than a tenant: the probes, the scrape endpoint
 * (its own access rule) and the API's own description. None takes a token.
 */
export const serviceApi = {
  health: defineRoute({
    method: 'get',
    path: '/healthz',
    tag: 'Operations',
    auth: 'public',
    summary: 'Liveness: the worker answers (checks nothing else)',
    responses: { 200: { description: 'alive', schema: Health } },
  }),
  ready: defineRoute({
    method: 'get',
    path: '/readyz',
    tag: 'Operations',
    auth: 'public',
    summary:
      'Readiness: Redis and the database answer, and the worker is neither draining nor announced to stop (--drain-delay)',
    responses: {
      200: { description: 'ready', schema: Readiness },
      503: { description: 'not ready: `checks` says which check failed', schema: Readiness },
    },
  }),
  metrics: defineRoute({
    method: 'get',
    path: '/metrics',
    tag: 'Operations',
    auth: 'public',
    summary: 'Prometheus exposition of the whole cluster',
    description:
      'With METRICS_TOKEN set, send it as `Authorization: Bearer`; without one, only clients on this ' +
      'machine may scrape. Absent with `--metrics off`, and served on its own port with `--metrics-port`.',
    responses: {
      200: {
        description: 'the exposition',
        contentType: 'text/plain',
        schema: z.string().meta({ description: 'Prometheus text format 0.0.4' }),
      },
    },
    errors: ['unauthorized', 'forbidden', 'metrics_unavailable'],
  }),

  document: defineRoute({
    method: 'get',
    path: '/api/openapi.json',
    tag: 'Operations',
    auth: 'public',
    summary: 'This document (OpenAPI 3.1)',
    responses: {
      200: {
        description: 'the document',
        schema: z.record(z.string(), z.unknown()).meta({ description: 'OpenAPI 3.1' }),
      },
    },
  }),
  reference: defineRoute({
    method: 'get',
    path: '/api/docs',
    tag: 'Operations',
    auth: 'public',
    summary: 'An interactive reference of this document, in the browser',
    responses: { 200: { description: 'an HTML page', contentType: 'text/html', schema: z.string() } },
  }),
};
