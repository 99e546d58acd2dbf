import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { listUsers } from '../../../db/repositories/users.ts';
import { principalOf } from '../../middleware/auth.ts';
import { listBody, pageOf, pageQuery, parseInput, search } from '../../validate.ts';

const usersQuery = z.object({ ...pageQuery, role: z.enum(['admin', 'user']).optional(), q: search });

export function userAdminRoutes(pool: pg.Pool): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const query = parseInput(usersQuery, req.query, 'query');
    const { rows, total } = await listUsers(pool, principalOf(req).tenantId, {
      role: query.role,
      q: query.q || undefined,
      ...pageOf(query),
    });
    res.json(listBody(rows, total, query));
  });
  return router;
}
