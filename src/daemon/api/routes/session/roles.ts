import type { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import type { CacheLayer } from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import { rolesTable } from '../../../db/repositories/owned.ts';
import { Role } from '../../contract/resources.ts';
import { name } from '../../validate.ts';
import { type NamedResource, namedResourceApi, namedResourceRoutes } from './namedResource.ts';
import { PERMISSIONS } from './permissions.ts';

const permissions = z
  .array(z.enum(PERMISSIONS))
  .max(PERMISSIONS.length)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a permission');

const roles: NamedResource = {
  what: 'role',
  table: rolesTable,
  route: '/api/session/roles',
  tag: tags.roles,
  usedBy: 'role_id',
  body: z.strictObject({ name, permissions }),
  schema: Role,
  tagName: 'Roles',
};

export const rolesApi = namedResourceApi(roles);

export function roleRoutes(pool: pg.Pool, layer: CacheLayer): Router {
  return namedResourceRoutes(pool, layer, roles);
}
