import type { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import type { CacheLayer } from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import { teamsTable } from '../../../db/repositories/owned.ts';
import { name } from '../../validate.ts';
import { namedResourceRoutes } from './namedResource.ts';

export function teamRoutes(pool: pg.Pool, layer: CacheLayer): Router {
  return namedResourceRoutes(pool, layer, {
    what: 'team',
    table: teamsTable,
    route: '/api/session/teams',
    tag: tags.teams,
    usedBy: 'team_id',
    body: z.strictObject({ name }),
  });
}
