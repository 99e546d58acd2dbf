import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { type CacheLayer, cachedJson, invalidate } from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import {
  findOwned,
  insertOwned,
  listOwned,
  rolesTable,
  updateOwned,
} from '../../../db/repositories/owned.ts';
import { notFoundError } from '../../errors.ts';
import { listBody, name, pageOf, pageQuery, parseId, parseInput, search } from '../../validate.ts';
import { deleteUnlessUsed, ownerOf } from './ownedCrud.ts';

/** The fixed set of permissions a role can grant. */
export const PERMISSIONS = [
  'contacts:read',
  'contacts:write',
  'campaigns:read',
  'campaigns:write',
  'campaigns:send',
  'agents:read',
  'agents:write',
  'reports:read',
  'inbox:read',
  'inbox:reply',
] as const;

const permissions = z
  .array(z.enum(PERMISSIONS))
  .max(PERMISSIONS.length)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a permission');

const roleBody = z.strictObject({ name, permissions });
const rolesQuery = z.object({ ...pageQuery, q: search });

export function roleRoutes(pool: pg.Pool, layer: CacheLayer): Router {
  const router = Router();

  router.get(
    '/',
    cachedJson(layer, '/api/session/roles', async (req) => {
      const query = parseInput(rolesQuery, req.query, 'query');
      const conditions = query.q ? [{ sql: 'strpos(lower(name), lower($?)) > 0', value: query.q }] : [];
      const { rows, total } = await listOwned(pool, rolesTable, ownerOf(req), conditions, pageOf(query));
      return listBody(rows, total, query);
    }),
  );

  router.get('/:id', async (req, res) => {
    const role = await findOwned(pool, rolesTable, ownerOf(req), parseId(req.params.id, 'role'));
    if (!role) throw notFoundError('role');
    res.json(role);
  });

  router.post('/', async (req, res) => {
    const body = parseInput(roleBody, req.body, 'body');
    const role = await insertOwned(pool, rolesTable, ownerOf(req), body);
    await invalidate(layer, req, tags.roles);
    res.status(201).json(role);
  });

  router.patch('/:id', async (req, res) => {
    const id = parseId(req.params.id, 'role');
    const body = parseInput(roleBody.partial(), req.body, 'body');
    const role = await updateOwned(pool, rolesTable, ownerOf(req), id, body);
    if (!role) throw notFoundError('role');
    await invalidate(layer, req, tags.roles);
    res.json(role);
  });

  router.delete('/:id', async (req, res) => {
    await deleteUnlessUsed(pool, rolesTable, ownerOf(req), parseId(req.params.id, 'role'), 'role_id', 'role');
    await invalidate(layer, req, tags.roles);
    res.status(204).end();
  });

  return router;
}
