import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import {
  type CachedRoute,
  type CacheLayer,
  cachedJson,
  invalidateAndRefresh,
} from '../../../cache/cachedRoute.ts';
import type { Scope } from '../../../cache/tags.ts';
import { insertOwned, listOwned, type OwnedTable, updateOwned } from '../../../db/repositories/owned.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { deleteRoute, getRoute, listRoute } from '../../contract/shapes.ts';
import { notFoundError } from '../../errors.ts';
import { ownerOf } from '../../middleware/auth.ts';
import { idParam, listBody, pageOf, pageQuery, parseId, parseInput, search } from '../../validate.ts';
import { deleteUnlessUsed, getOwnedById } from './ownedCrud.ts';

/** What makes teams and roles differ: everything else about their routes is shared. */
export interface NamedResource {
  what: 'team' | 'role';
  table: OwnedTable;
  route: CachedRoute;
  tag: (scope: Scope) => string;
  /** The agents column that points at it: a delete is refused while any agent does. */
  usedBy: 'team_id' | 'role_id';
  body: z.ZodObject;
  /** What the API answers for one. */
  schema: z.ZodType;
  /** The document's tag. */
  tagName: string;
}

/** The declarations of a named resource's five routes. */
export function namedResourceApi({ what, route, body, schema, tagName }: NamedResource) {
  const base = { tag: tagName, auth: 'user' } as const;
  const one = `${route}/{id}`;
  return {
    list: listRoute({
      ...base,
      path: route,
      summary: `List your ${what}s (cached); \`q\` matches the name`,
      what,
      item: schema,
      query: z.object({ ...pageQuery, q: search }),
    }),
    get: getRoute({ ...base, path: one, what, schema }),
    create: defineRoute({
      ...base,
      method: 'post',
      path: route,
      summary: `Create a ${what}`,
      body,
      responses: { 201: { description: `the ${what}`, schema } },
      errors: ['conflict'],
    }),
    update: defineRoute({
      ...base,
      method: 'patch',
      path: one,
      summary: `Change some fields of a ${what}`,
      params: idParam(what),
      body: body.partial(),
      responses: { 200: { description: `the ${what}`, schema } },
      errors: ['conflict'],
    }),
    remove: deleteRoute({
      ...base,
      path: one,
      what,
      summary: `Delete a ${what} no agent uses (409 names how many do)`,
      errors: ['conflict'],
    }),
  };
}

/** List (cached, `?q=` on the name), get, create, patch, and delete-unless-used. */
export function namedResourceRoutes(pool: pg.Pool, layer: CacheLayer, resource: NamedResource): Router {
  const { what, table, tag } = resource;
  const api = namedResourceApi(resource);
  const router = Router();
  const on = routesOn(router, resource.route);

  on(
    api.list,
    cachedJson(layer, resource.route, async (req) => {
      const query = parseInput(api.list.query, req.query, 'query');
      const conditions = query.q ? [{ sql: 'strpos(lower(name), lower($?)) > 0', value: query.q }] : [];
      const { rows, total } = await listOwned(pool, table, ownerOf(req), conditions, pageOf(query));
      return listBody(rows, total, query);
    }),
  );

  on(api.get, getOwnedById(pool, table, what));

  on(api.create, async (req, res) => {
    const body = parseInput(api.create.body, req.body, 'body') as Record<string, unknown>;
    const row = await insertOwned(pool, table, ownerOf(req), body);
    await invalidateAndRefresh(layer, req, resource.route, tag);
    res.status(201).json(row);
  });

  on(api.update, async (req, res) => {
    const id = parseId(req.params.id, what);
    const body = parseInput(api.update.body, req.body, 'body') as Record<string, unknown>;
    const row = await updateOwned(pool, table, ownerOf(req), id, body);
    if (!row) throw notFoundError(what);
    await invalidateAndRefresh(layer, req, resource.route, tag);
    res.json(row);
  });

  on(api.remove, async (req, res) => {
    await deleteUnlessUsed(pool, table, ownerOf(req), parseId(req.params.id, what), resource.usedBy, what);
    await invalidateAndRefresh(layer, req, resource.route, tag);
    res.status(204).end();
  });

  return router;
}
