import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { type CacheLayer, cachedJson, invalidate } from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import {
  findOwned,
  insertOwned,
  listOwned,
  teamsTable,
  updateOwned,
} from '../../../db/repositories/owned.ts';
import { notFoundError } from '../../errors.ts';
import { listBody, name, pageOf, pageQuery, parseId, parseInput, search } from '../../validate.ts';
import { deleteUnlessUsed, ownerOf } from './ownedCrud.ts';

const teamBody = z.strictObject({ name });
const teamsQuery = z.object({ ...pageQuery, q: search });

export function teamRoutes(pool: pg.Pool, layer: CacheLayer): Router {
  const router = Router();

  router.get(
    '/',
    cachedJson(layer, '/api/session/teams', async (req) => {
      const query = parseInput(teamsQuery, req.query, 'query');
      const conditions = query.q ? [{ sql: 'strpos(lower(name), lower($?)) > 0', value: query.q }] : [];
      const { rows, total } = await listOwned(pool, teamsTable, ownerOf(req), conditions, pageOf(query));
      return listBody(rows, total, query);
    }),
  );

  router.get('/:id', async (req, res) => {
    const team = await findOwned(pool, teamsTable, ownerOf(req), parseId(req.params.id, 'team'));
    if (!team) throw notFoundError('team');
    res.json(team);
  });

  router.post('/', async (req, res) => {
    const body = parseInput(teamBody, req.body, 'body');
    const team = await insertOwned(pool, teamsTable, ownerOf(req), body);
    await invalidate(layer, req, tags.teams);
    res.status(201).json(team);
  });

  router.patch('/:id', async (req, res) => {
    const id = parseId(req.params.id, 'team');
    const body = parseInput(teamBody.partial(), req.body, 'body');
    const team = await updateOwned(pool, teamsTable, ownerOf(req), id, body);
    if (!team) throw notFoundError('team');
    await invalidate(layer, req, tags.teams);
    res.json(team);
  });

  router.delete('/:id', async (req, res) => {
    await deleteUnlessUsed(pool, teamsTable, ownerOf(req), parseId(req.params.id, 'team'), 'team_id', 'team');
    await invalidate(layer, req, tags.teams);
    res.status(204).end();
  });

  return router;
}
