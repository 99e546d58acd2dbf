import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { listUsers } from '../../../db/repositories/users.ts';
import { listOf, UserListItem } from '../../contract/resources.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { principalOf } from '../../middleware/auth.ts';
import { pageHandler, pageQuery, search } from '../../validate.ts';

export const adminUsersApi = {
  list: defineRoute({
    method: 'get',
    path: '/api/admin/users',
    tag: 'Admin',
    auth: 'admin',
    summary: "The tenant's users with their live subscription; `q` matches the email or the name",
    query: z.object({ ...pageQuery, role: z.enum(['admin', 'user']).optional(), q: search }),
    responses: { 200: { description: 'a page of users', schema: listOf(UserListItem) } },
  }),
};

export function userAdminRoutes(pool: pg.Pool): Router {
  const router = Router();
  routesOn(router, '/api/admin/users')(
    adminUsersApi.list,
    pageHandler(adminUsersApi.list.query, (req, query, page) =>
      listUsers(pool, principalOf(req).tenantId, { role: query.role, q: query.q || undefined, ...page }),
    ),
  );
  return router;
}
