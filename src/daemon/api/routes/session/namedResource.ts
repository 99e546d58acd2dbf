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
import { notFoundError } from '../../errors.ts';
import { ownerOf } from '../../middleware/auth.ts';
import { listBody, pageOf, pageQuery, parseId, parseInput, search } from '../../validate.ts';
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
}

const listQuery = z.object({ ...pageQuery, q: search });

/** List (cached, `?q=` on the name), get, create, patch, and delete-unless-used. */
export function namedResourceRoutes(pool: pg.Pool, layer: CacheLayer, resource: NamedResource): Router {
  const { what, table, tag } = resource;
  const router = Router();

  router.get(
    '/',
    cachedJson(layer, resource.route, async (req) => {
      const query = parseInput(listQuery, req.query, 'query');
      const conditions = query.q ? [{ sql: 'strpos(lower(name), lower($?)) > 0', value: query.q }] : [];
      const { rows, total } = await listOwned(pool, table, ownerOf(req), conditions, pageOf(query));
      return listBody(rows, total, query);
    }),
  );

  router.get('/:id', getOwnedById(pool, table, what));

  router.post('/', async (req, res) => {
    const body = parseInput(resource.body, req.body, 'body') as Record<string, unknown>;
    const row = await insertOwned(pool, table, ownerOf(req), body);
    await invalidateAndRefresh(layer, req, resource.route, tag);
    res.status(201).json(row);
  });

  router.patch('/:id', async (req, res) => {
    const id = parseId(req.params.id, what);
    const body = parseInput(resource.body.partial(), req.body, 'body') as Record<string, unknown>;
    const row = await updateOwned(pool, table, ownerOf(req), id, body);
    if (!row) throw notFoundError(what);
    await invalidateAndRefresh(layer, req, resource.route, tag);
    res.json(row);
  });

  router.delete('/:id', async (req, res) => {
    await deleteUnlessUsed(pool, table, ownerOf(req), parseId(req.params.id, what), resource.usedBy, what);
    await invalidateAndRefresh(layer, req, resource.route, tag);
    res.status(204).end();
  });

  return router;
}
