import type { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import type { CacheLayer } from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import { teamsTable } from '../../../db/repositories/owned.ts';
import { Team } from '../../contract/resources.ts';
import { name } from '../../validate.ts';
import { type NamedResource, namedResourceApi, namedResourceRoutes } from './namedResource.ts';

const teams: NamedResource = {
  what: 'team',
  table: teamsTable,
  route: '/api/session/teams',
  tag: tags.teams,
  usedBy: 'team_id',
  body: z.strictObject({ name }),
  schema: Team,
  tagName: 'Teams',
};

export const teamsApi = namedResourceApi(teams);

export function teamRoutes(pool: pg.Pool, layer: CacheLayer): Router {
  return namedResourceRoutes(pool, layer, teams);
}
