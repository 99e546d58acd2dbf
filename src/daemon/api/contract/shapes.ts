import { z } from 'zod';
import { idParam, pageQuery } from '../validate.ts';
import { listOf } from './resources.ts';
import { type Auth, defineRoute, type RouteSpec } from './route.ts';

/**
 * The three routes every resource has, declared the same way everywhere: a page of the
 * caller's rows, one row by id, a delete by id. A resource's own routes stay spelled out.
 */
interface Common {
  path: string;
  tag: string;
  auth?: Auth;
  /** Mounted before the JSON body parser (the imports router). */
  beforeJsonParser?: boolean;
}

const common = (o: Common) => ({
  path: o.path,
  tag: o.tag,
  auth: o.auth ?? ('user' as const),
  ...(o.beforeJsonParser ? { beforeJsonParser: true } : {}),
});

const pageOnly = z.object({ ...pageQuery });

export function listRoute<Q extends z.ZodObject = typeof pageOnly>(
  o: Common & { summary: string; what: string; item: z.ZodType; query?: Q },
): RouteSpec & { query: Q } {
  return defineRoute({
    ...common(o),
    method: 'get',
    summary: o.summary,
    query: (o.query ?? pageOnly) as Q,
    responses: { 200: { description: `a page of ${o.what}s`, schema: listOf(o.item) } },
  });
}

export function getRoute(o: Common & { what: string; schema: z.ZodType; summary?: string }): RouteSpec {
  return defineRoute({
    ...common(o),
    method: 'get',
    summary: o.summary ?? `One ${o.what}`,
    params: idParam(o.what),
    responses: { 200: { description: `the ${o.what}`, schema: o.schema } },
  });
}

export function deleteRoute(
  o: Common & { what: string; summary?: string; errors?: RouteSpec['errors'] },
): RouteSpec {
  return defineRoute({
    ...common(o),
    method: 'delete',
    summary: o.summary ?? `Delete a ${o.what}`,
    params: idParam(o.what),
    responses: { 204: { description: 'deleted' } },
    ...(o.errors ? { errors: o.errors } : {}),
  });
}
