import type { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import type { CacheLayer } from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import { rolesTable } from '../../../db/repositories/owned.ts';
import { name } from '../../validate.ts';
import { namedResourceRoutes } from './namedResource.ts';

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

export function roleRoutes(pool: pg.Pool, layer: CacheLayer): Router {
  return namedResourceRoutes(pool, layer, {
    what: 'role',
    table: rolesTable,
    route: '/api/session/roles',
    tag: tags.roles,
    usedBy: 'role_id',
    body: z.strictObject({ name, permissions }),
  });
}
